#include "layout/geometry.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "common/units.h"
#include "layout/internal.h"

namespace tessera::layout {

namespace internal {

Status ValidateTopology(const Topology& topology) {
  std::vector<std::pair<uint32_t, uint32_t>> ids;
  ids.reserve(topology.drives.size());
  for (const DriveSlot& d : topology.drives) ids.emplace_back(d.node, d.lnum);
  std::sort(ids.begin(), ids.end());
  auto dup = std::adjacent_find(ids.begin(), ids.end());
  if (dup != ids.end()) {
    return Status::InvalidArgument("topology lists drive " + std::to_string(dup->second) +
                                   " of node " + std::to_string(dup->first) + " twice");
  }
  return Status::Ok();
}

std::vector<int> DrivesPerNode(const Topology& topology) {
  std::vector<uint32_t> nodes;
  nodes.reserve(topology.drives.size());
  for (const DriveSlot& d : topology.drives) nodes.push_back(d.node);
  std::sort(nodes.begin(), nodes.end());
  std::vector<int> counts;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i == 0 || nodes[i] != nodes[i - 1]) counts.push_back(0);
    ++counts.back();
  }
  return counts;
}

int UnitsThatFit(const std::vector<int>& drives_per_node, int cap) {
  int units = 0;
  for (int drives : drives_per_node) units += std::min(drives, cap);
  return units;
}

std::string NotEnoughDrives(const ProtectionPolicy& policy, int needed, size_t up) {
  return "protection " + policy.ToString() + " needs " + std::to_string(needed) + " drives, " +
         std::to_string(up) + (up == 1 ? " is writable" : " are writable");
}

}  // namespace internal

namespace {

Result<Geometry> PlanMirror(const ProtectionPolicy& policy, int copies, const Topology& topology,
                            int nodes) {
  if (topology.drives.size() < static_cast<size_t>(copies)) {
    return Status::Unavailable(internal::NotEnoughDrives(policy, copies, topology.drives.size()));
  }
  Geometry g;
  g.kind = Geometry::Kind::kMirror;
  g.copies = copies;
  g.meets_node_tolerance = nodes > 1 && nodes >= copies;
  return g;
}

}  // namespace

int Topology::node_count() const { return static_cast<int>(internal::DrivesPerNode(*this).size()); }

std::string Geometry::ToString() const {
  if (kind == Kind::kMirror) return std::to_string(copies) + "x mirror";
  return std::to_string(data_units) + "+" + std::to_string(parity_units) + " stripe, " +
         std::to_string(stripe_count) + (stripe_count == 1 ? " stripe" : " stripes") + " of " +
         FormatSize(unit_size) + " units";
}

Result<Geometry> PlanGeometry(const ProtectionPolicy& policy, uint64_t file_size,
                              const Topology& topology) {
  RETURN_IF_ERROR(internal::ValidatePolicy(policy));
  RETURN_IF_ERROR(internal::ValidateTopology(topology));
  const std::vector<int> per_node = internal::DrivesPerNode(topology);
  const int nodes = static_cast<int>(per_node.size());

  if (policy.kind == ProtectionPolicy::Kind::kParity && file_size >= kStripeUnitSize) {
    const int m = policy.parity_units();
    // On one node the drives are the fault domain, so only one-per-drive binds.
    const int cap = nodes > 1 ? policy.max_units_per_node() : INT_MAX;
    const int width = std::min(internal::UnitsThatFit(per_node, cap), kMaxDataUnits + m);
    const int k = width - m;
    // With k == 1 a "stripe" is m+1 copies of each unit with extra decode
    // work; a mirror of m+1 copies gives the same protection more cheaply.
    if (k >= 2) {
      Geometry g;
      g.kind = Geometry::Kind::kStripe;
      g.data_units = k;
      g.parity_units = m;
      g.unit_size = kStripeUnitSize;
      const uint64_t stripe_bytes = static_cast<uint64_t>(k) * kStripeUnitSize;
      g.stripe_count = file_size / stripe_bytes + (file_size % stripe_bytes != 0 ? 1 : 0);
      g.meets_node_tolerance = nodes > 1;
      return g;
    }
  }
  return PlanMirror(policy, policy.mirror_copies(), topology, nodes);
}

Status CheckGeometry(const Geometry& geometry) {
  if (geometry.kind == Geometry::Kind::kMirror) {
    if (geometry.copies < 1 || geometry.copies > kMaxStripeWidth) {
      return Status::Corruption("a mirror of " + std::to_string(geometry.copies) + " copies");
    }
    return Status::Ok();
  }
  const int k = geometry.data_units, m = geometry.parity_units;
  if (k < 1 || k > kMaxDataUnits || m < 0 || m > kMaxParityUnits || k + m > kMaxStripeWidth) {
    return Status::Corruption("a " + std::to_string(k) + "+" + std::to_string(m) + " stripe");
  }
  if (geometry.unit_size == 0 || geometry.unit_size > kStripeUnitSize ||
      geometry.unit_size % 8 != 0) {
    return Status::Corruption("stripe units of " + std::to_string(geometry.unit_size) + " bytes");
  }
  return Status::Ok();
}

uint64_t StripeUnitLength(const Geometry& geometry, uint64_t file_size, uint64_t stripe) {
  if (geometry.kind != Geometry::Kind::kStripe || geometry.data_units < 1 ||
      geometry.unit_size == 0) {
    return 0;
  }
  const auto k = static_cast<uint64_t>(geometry.data_units);
  if (geometry.unit_size > UINT64_MAX / k) return 0;  // not a geometry PlanGeometry makes
  const uint64_t stripe_bytes = k * geometry.unit_size;
  const uint64_t full_stripes = file_size / stripe_bytes;
  const uint64_t remaining = file_size % stripe_bytes;
  if (stripe < full_stripes) return geometry.unit_size;
  if (stripe > full_stripes || remaining == 0) return 0;
  const uint64_t per_unit = remaining / k + (remaining % k != 0 ? 1 : 0);
  const uint64_t aligned = (per_unit + 7) & ~uint64_t{7};
  return std::min(aligned, geometry.unit_size);
}

}  // namespace tessera::layout
