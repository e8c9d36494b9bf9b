// FlexProtect: brings every file back to its protection level after a node
// or drive failed or was smartfailed, and retires smartfailed nodes.
//
// Phases:
//   scan     every file record (MetadataStore::ForEach); a file whose
//            placement has a drive that is unavailable or soft-failed
//            (protection_plan.h) is noted, with counters of files and
//            bytes at risk and of files whose data is unavailable;
//   rebuild  each noted file is read back (FileReader rebuilds lost units
//            from the survivors), written again under its own policy onto
//            writable drives its placement does not use (PlanRewrite, with
//            the file's object id, so the piece ids stay and only drives
//            and geometry change), checked against the record's CRC32C and
//            SHA-256, and committed with ReplacePlacement. If a client
//            rewrote or deleted the file meanwhile, the commit is refused
//            and the new units are deleted; after a commit the old units
//            are deleted wherever they can still be reached;
//   verify   (only when soft-failed nodes are to leave) every record again:
//            a write placed on such a node by a node that had not yet heard
//            it was smartfailed may have come after the scan; those files
//            are rebuilt too (up to three passes, else the run fails);
//   finish   when every file was protected, each soft-failed node leaves
//            the group: its persistent state gets `dead` (fenced by the
//            master's token), so the group lists it under dead: and
//            nothing is placed on or read from it.
// flexprotect_files_per_second limits the rebuild's pace (its impact on
// clients). The job may stop at any checkpoint and run again from the start: a file
// already protected is skipped.
//
// Threading: run by the job engine's thread; the stores are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cluster/etcd/etcd_client.h"
#include "cluster/group_state.h"
#include "io/piece_store.h"
#include "jobs/job.h"
#include "jobs/protection_plan.h"
#include "meta/metadata_store.h"

namespace tessera::jobs {

enum class ProtectOutcome {
  kHealthy,        // nothing to do
  kRewritten,      // committed on healthy drives
  kRaced,          // a client rewrote or deleted the file first; nothing changed
  kUnrecoverable,  // a stripe lost more than its parity
  kNoRoom,         // not enough writable drives for its policy
};

struct ProtectResult {
  ProtectOutcome outcome = ProtectOutcome::kHealthy;
  uint64_t units_rebuilt = 0;  // units that were on failed devices
  std::string detail;          // for the job's report
};

// Protects one file (the rebuild phase's step): rewrites it under
// `new_object_id`, so the new pieces may share drives with the old ones,
// and commits only while the file is still `record`'s content. Errors: the
// read, write or commit failed (the new units are deleted, except after an
// Indeterminate commit, when either placement may stand).
Result<ProtectResult> ProtectFile(io::PieceStore& store, meta::MetadataStore& metadata,
                                  const meta::FileRecord& record, const DeviceHealth& health,
                                  uint64_t new_object_id);

// Every file record against `health`: what `tessera status` reports.
Result<ProtectionSummary> SummarizeProtection(meta::MetadataStore& metadata,
                                              const DeviceHealth& health);

// Marks a soft-failed node dead, keeping its other flags, in a transaction
// fenced by the master's token and the state key's revision. false (and
// nothing written) when the node is no longer soft-failed: an operator
// took the smartfail back while the job ran.
Result<bool> RetireNode(cluster::EtcdClient* client, const std::string& cluster,
                        int64_t master_token, uint32_t node);

class FlexProtectJob final : public Job {
 public:
  using GroupFn = std::function<std::optional<cluster::GroupState>()>;
  // flexprotect_files_per_second, asked as the rebuild goes (0: no limit).
  using RateFn = std::function<int64_t()>;
  // A cluster-unique object id for a rewritten file's pieces.
  using ObjectIdFn = std::function<Result<uint64_t>()>;
  // All borrowed; they outlive the job.
  FlexProtectJob(io::PieceStore& store, meta::MetadataStore& metadata, cluster::EtcdClient* client,
                 std::string cluster, GroupFn group, RateFn rate, ObjectIdFn new_object_id)
      : store_(store),
        metadata_(metadata),
        client_(client),
        cluster_(std::move(cluster)),
        group_(std::move(group)),
        rate_(std::move(rate)),
        new_object_id_(std::move(new_object_id)) {}

  Status Run(JobContext& context) override;

 private:
  io::PieceStore& store_;
  meta::MetadataStore& metadata_;
  cluster::EtcdClient* client_;
  std::string cluster_;
  GroupFn group_;
  RateFn rate_;
  ObjectIdFn new_object_id_;
};

}  // namespace tessera::jobs
