// Which files FlexProtect must rewrite and where their units go. Pure: no
// I/O, no clocks; tested exhaustively in protection_plan_test.
//
// Device health comes from the group (cluster/group_state.h):
//   * available: the node is a member and the drive is one of its member
//     drives. Anything else (a down, dead or unknown node; a down drive) is
//     unavailable: its units cannot be read.
//   * evacuating: available but soft-failed (smartfail), as a node or a
//     drive: its units can be read but must move off.
//   * writable: available, not evacuating, not on a read-only node: where
//     rebuilt units may go.
// A file needs protecting when any drive of its placement is unavailable or
// evacuating. Every stripe of a file has one unit on each drive of the
// placement, so a stripe has lost as many units as the placement has
// unavailable drives; more than the parity (m for a stripe, copies-1 for a
// mirror) and the data cannot be read until a device returns.
//
// The rewrite (PlanRewrite) lays the whole file out again under its own
// policy, over writable drives that its current placement does not use:
// that keeps every (drive, piece id) of the new layout distinct from the
// old one's, so the old pieces can be deleted after the new record commits
// (and the new ones, if the commit loses to a client's rewrite) without
// touching the other layout. Width and geometry are planned for the
// cluster as it is now, so a cluster that lost a node gets narrower
// stripes that again meet the policy's node tolerance.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "cluster/group_state.h"
#include "layout/geometry.h"
#include "layout/protection_policy.h"
#include "meta/file_record.h"

namespace tessera::jobs {

// "node 3", or "node 2 drive 0-1" for drives of a node.
std::string DeviceName(const cluster::DeviceRef& device);

class DeviceHealth {
 public:
  explicit DeviceHealth(cluster::GroupState group) : group_(std::move(group)) {}

  bool Available(const meta::DriveRef& drive) const;
  bool Evacuating(const meta::DriveRef& drive) const;
  bool Writable(const meta::DriveRef& drive) const;
  // Unavailable or evacuating: its units must be rebuilt elsewhere.
  bool MustMove(const meta::DriveRef& drive) const {
    return !Available(drive) || Evacuating(drive);
  }
  // The devices the group names down, dead or soft-failed, e.g. "node 3",
  // "node 2 drive 1", in a stable order.
  std::vector<std::string> FailedDevices() const;
  // Soft-failed whole nodes not yet dead (to be marked dead once
  // evacuated; a dead one has left already).
  std::vector<uint32_t> SoftFailedNodes() const;
  // The names (as FailedDevices) of the soft-failed devices not yet dead:
  // the smartfails FlexProtect starts for at once.
  std::set<std::string> SmartfailsInProgress() const;

  const cluster::GroupState& group() const { return group_; }

 private:
  cluster::GroupState group_;
};

struct FileRisk {
  uint64_t units_unavailable = 0;  // units on unavailable drives, all stripes
  uint64_t units_evacuating = 0;   // readable units on soft-failed devices
  int stripe_units_lost = 0;       // unavailable units of each stripe (or copies lost)
  int tolerance = 0;               // m, or copies - 1
  bool needs_protection() const { return units_unavailable + units_evacuating > 0; }
  // Some stripe lost more than its parity: unreadable until a device returns.
  bool data_unavailable() const { return stripe_units_lost > tolerance; }
};

FileRisk AssessFile(const meta::FileRecord& record, const DeviceHealth& health);

// What `tessera status` says about protection: the files scanned, those
// below their protection level (units on failed devices) and those whose
// data is unavailable (a stripe lost more than its parity).
struct ProtectionSummary {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t files_at_risk = 0;
  uint64_t bytes_at_risk = 0;
  uint64_t units_at_risk = 0;  // unavailable + evacuating units
  uint64_t files_unavailable = 0;
  uint64_t bytes_unavailable = 0;
  bool below_protection() const { return files_at_risk > 0; }
  void Add(const meta::FileRecord& record, const FileRisk& risk);
};

struct RewritePlan {
  enum class Action {
    kNone,           // every unit is on a healthy drive
    kRewrite,        // rewrite onto `placement`
    kUnrecoverable,  // a stripe lost more than its parity
    kNoRoom,         // the writable drives outside the placement cannot hold it
  };
  Action action = Action::kNone;
  // Indices into record.drives whose units are lost or must move.
  std::vector<int> lost_indices;
  layout::Geometry geometry;                 // kRewrite: the new layout
  std::vector<layout::DriveSlot> placement;  // kRewrite: its drives, in order
  std::string why;                           // kUnrecoverable, kNoRoom
};

// `writable`: the cluster's writable drives with their free space (the
// piece store's WritableTopology); drives that are not Writable() by
// `health`, and the file's own drives, are left out. The placement is
// PlaceUnits's with the file's object id as seed, exactly what a FileWriter
// given the same topology chooses. InvalidArgument when the record's
// protection does not parse.
Result<RewritePlan> PlanRewrite(const meta::FileRecord& record, const DeviceHealth& health,
                                const layout::Topology& writable);

// The topology PlanRewrite places on: `writable` less the drives health does
// not call writable. A rewrite takes a new object id, so the file's own
// drives may take its new pieces too.
layout::Topology RewriteTopology(const DeviceHealth& health, const layout::Topology& writable);

}  // namespace tessera::jobs
