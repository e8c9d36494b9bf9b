// Chooses which drives hold the units of a file. Pure and deterministic for a
// given seed, no I/O.
//
// A placement is an ordered list of geometry.width() distinct drives. Unit u of
// stripe s lives on drives[(u + s) % width] so parity rotates across drives.
// Constraints: one unit per drive; at most policy.max_units_per_node() per node
// (mirrors: copies on distinct nodes) when the topology has several nodes.
// Among eligible drives, ones with more free space are preferred (weighted
// by free bytes), so space stays balanced.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "layout/geometry.h"
#include "layout/protection_policy.h"

namespace tessera::layout {

// Unavailable if no placement satisfies the constraints.
Result<std::vector<DriveSlot>> PlaceUnits(const ProtectionPolicy& policy, const Geometry& geometry,
                                          const Topology& topology, uint64_t seed);

// Index into the placement of the drive that holds unit `unit` of stripe `stripe`.
inline int DriveIndexForUnit(int width, uint64_t stripe, int unit) {
  return static_cast<int>((static_cast<uint64_t>(unit) + stripe) % static_cast<uint64_t>(width));
}

}  // namespace tessera::layout
