// Chooses which drives hold the units of a file. Pure and deterministic for a
// given seed, no I/O.
//
// A placement is an ordered list of geometry.width() distinct drives. Unit u of
// stripe s lives on drives[(u + s) % width] so parity rotates across drives.
// Constraints: one unit per drive; at most policy.max_units_per_node() per node
// (mirrors: copies on distinct nodes, or as evenly spread as the nodes allow
// when there are fewer nodes than copies, matching PlanGeometry) when the
// topology has several nodes.
//
// Preferences, in order:
//  1. Drives with free_bytes == 0 are used only if the constraints cannot be
//     met without them (and then as few as possible).
//  2. Units spread over as many nodes as possible: the per-node limit is a
//     ceiling, not a target, and a stripe on more nodes loses fewer units
//     when a node fails.
//  3. Among the least-loaded nodes, drives are drawn at random, weighted by
//     free_bytes + 1, so space stays balanced.
// The draw uses a fixed PRNG (splitmix64), not <random> distributions, so a
// seed gives the same placement on every platform and standard library. The
// result does not depend on the order of topology.drives.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "layout/geometry.h"
#include "layout/protection_policy.h"

namespace tessera::layout {

// Unavailable if no placement satisfies the constraints. InvalidArgument for
// an invalid policy, a topology that lists a drive twice, an empty geometry,
// or a stripe geometry whose parity does not match the policy.
Result<std::vector<DriveSlot>> PlaceUnits(const ProtectionPolicy& policy, const Geometry& geometry,
                                          const Topology& topology, uint64_t seed);

// Index into the placement of the drive that holds unit `unit` of stripe `stripe`.
inline int DriveIndexForUnit(int width, uint64_t stripe, int unit) {
  return static_cast<int>((static_cast<uint64_t>(unit) + stripe) % static_cast<uint64_t>(width));
}

}  // namespace tessera::layout
