// Helpers shared by the layout sources. Not part of the module's API: other
// modules go through ProtectionPolicy::Parse, PlanGeometry and PlaceUnits,
// which apply these checks themselves.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "layout/geometry.h"
#include "layout/protection_policy.h"

namespace tessera::layout::internal {

// OK iff `policy` is a value ProtectionPolicy::Parse can return. Policies can
// also be built field by field (or decoded from metadata), and a zero or
// out-of-range field would otherwise turn into a zero-width stripe or a
// division by zero far from its source.
Status ValidatePolicy(const ProtectionPolicy& policy);

// InvalidArgument if a drive (node, lnum) is listed twice: it would be
// counted, and could be chosen, twice.
Status ValidateTopology(const Topology& topology);

// Number of drives on each distinct node, in ascending node id order.
std::vector<int> DrivesPerNode(const Topology& topology);

// Units of one stripe that fit when each drive takes at most one and each
// node at most `cap`.
int UnitsThatFit(const std::vector<int>& drives_per_node, int cap);

// "protection +2 needs 3 drives, 2 are up".
std::string NotEnoughDrives(const ProtectionPolicy& policy, int needed, size_t up);

}  // namespace tessera::layout::internal
