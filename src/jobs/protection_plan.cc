#include "jobs/protection_plan.h"

#include <algorithm>
#include <set>

#include "common/units.h"
#include "layout/placement.h"

namespace tessera::jobs {
namespace {

// Whether a soft-failed device is dead as well: it has left the group.
bool Retired(const cluster::GroupState& group, const cluster::DeviceRef& device) {
  return std::any_of(group.dead.begin(), group.dead.end(), [&](const cluster::DeviceRef& d) {
    return d.node == device.node && (d.whole_node() || d.drives == device.drives);
  });
}

bool Covers(const std::vector<cluster::DeviceRef>& list, const meta::DriveRef& drive) {
  for (const cluster::DeviceRef& d : list) {
    if (d.node != drive.node) continue;
    if (d.whole_node() || d.drives->Contains(drive.lnum)) return true;
  }
  return false;
}

}  // namespace

std::string DeviceName(const cluster::DeviceRef& d) {
  if (d.whole_node()) return "node " + std::to_string(d.node);
  return "node " + std::to_string(d.node) + " drive " + d.drives->ToString();
}

bool DeviceHealth::Available(const meta::DriveRef& drive) const {
  auto it = group_.members.find(drive.node);
  if (it == group_.members.end() || !it->second.Contains(drive.lnum)) return false;
  return !Covers(group_.down, drive) && !Covers(group_.dead, drive);
}

bool DeviceHealth::Evacuating(const meta::DriveRef& drive) const {
  return Covers(group_.soft_failed, drive);
}

bool DeviceHealth::Writable(const meta::DriveRef& drive) const {
  return Available(drive) && !Evacuating(drive) && !group_.read_only.Contains(drive.node);
}

std::vector<std::string> DeviceHealth::FailedDevices() const {
  std::set<std::string> names;
  for (const auto* list : {&group_.down, &group_.dead, &group_.soft_failed}) {
    for (const cluster::DeviceRef& d : *list) names.insert(DeviceName(d));
  }
  return {names.begin(), names.end()};
}

std::vector<uint32_t> DeviceHealth::SoftFailedNodes() const {
  std::set<uint32_t> nodes;
  for (const cluster::DeviceRef& d : group_.soft_failed) {
    if (d.whole_node() && !Retired(group_, d)) nodes.insert(d.node);
  }
  return {nodes.begin(), nodes.end()};
}

std::set<std::string> DeviceHealth::SmartfailsInProgress() const {
  std::set<std::string> names;
  for (const cluster::DeviceRef& d : group_.soft_failed) {
    if (!Retired(group_, d)) names.insert(DeviceName(d));
  }
  return names;
}

FileRisk AssessFile(const meta::FileRecord& record, const DeviceHealth& health) {
  FileRisk risk;
  const bool striped = record.geometry.kind == layout::Geometry::Kind::kStripe;
  risk.tolerance = striped ? record.geometry.parity_units
                           : std::max(0, static_cast<int>(record.drives.size()) - 1);
  // Every stripe (mirror: every unit) has one unit on each drive.
  const uint64_t per_drive =
      striped ? record.geometry.stripe_count
              : std::max<uint64_t>(1, (record.size + kStripeUnitSize - 1) / kStripeUnitSize);
  for (const meta::DriveRef& d : record.drives) {
    if (!health.Available(d)) {
      ++risk.stripe_units_lost;
      risk.units_unavailable += per_drive;
    } else if (health.Evacuating(d)) {
      risk.units_evacuating += per_drive;
    }
  }
  return risk;
}

void ProtectionSummary::Add(const meta::FileRecord& record, const FileRisk& risk) {
  ++files;
  bytes += record.size;
  if (!risk.needs_protection()) return;
  ++files_at_risk;
  bytes_at_risk += record.size;
  units_at_risk += risk.units_unavailable + risk.units_evacuating;
  if (risk.data_unavailable()) {
    ++files_unavailable;
    bytes_unavailable += record.size;
  }
}

layout::Topology RewriteTopology(const DeviceHealth& health, const layout::Topology& writable) {
  layout::Topology target;
  for (const layout::DriveSlot& slot : writable.drives) {
    meta::DriveRef ref{slot.node, slot.lnum};
    if (!health.Writable(ref)) continue;
    target.drives.push_back(slot);
  }
  return target;
}

Result<RewritePlan> PlanRewrite(const meta::FileRecord& record, const DeviceHealth& health,
                                const layout::Topology& writable) {
  ASSIGN_OR_RETURN(layout::ProtectionPolicy policy,
                   layout::ProtectionPolicy::Parse(record.protection));
  RewritePlan plan;
  for (size_t i = 0; i < record.drives.size(); ++i) {
    if (health.MustMove(record.drives[i])) plan.lost_indices.push_back(static_cast<int>(i));
  }
  if (plan.lost_indices.empty()) return plan;
  FileRisk risk = AssessFile(record, health);
  if (risk.data_unavailable()) {
    plan.action = RewritePlan::Action::kUnrecoverable;
    plan.why = std::to_string(risk.stripe_units_lost) + " of " +
               std::to_string(record.drives.size()) + " units of each stripe are unavailable, " +
               "more than its " + std::to_string(risk.tolerance) + " parity";
    return plan;
  }
  layout::Topology target = RewriteTopology(health, writable);
  Result<layout::Geometry> geometry = layout::PlanGeometry(policy, record.size, target);
  Result<std::vector<layout::DriveSlot>> placement =
      geometry.ok() ? layout::PlaceUnits(policy, *geometry, target, record.object_id)
                    : Result<std::vector<layout::DriveSlot>>(geometry.status());
  if (!placement.ok()) {
    plan.action = RewritePlan::Action::kNoRoom;
    plan.why = placement.status().message();
    return plan;
  }
  plan.action = RewritePlan::Action::kRewrite;
  plan.geometry = *geometry;
  plan.placement = std::move(placement).value();
  return plan;
}

}  // namespace tessera::jobs
