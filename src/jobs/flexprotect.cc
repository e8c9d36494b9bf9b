#include "jobs/flexprotect.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"
#include "io/file_reader.h"
#include "io/file_writer.h"

namespace tessera::jobs {
namespace {

std::string Name(const meta::FileRecord& r) { return r.ns + "/" + r.path; }

// The cluster's store, but offering a FileWriter only the drives a rewrite
// may use, so its placement is PlanRewrite's.
class TargetPieceStore final : public io::PieceStore {
 public:
  TargetPieceStore(io::PieceStore& base, layout::Topology target)
      : base_(base), target_(std::move(target)) {}
  layout::Topology WritableTopology() override { return target_; }
  Status Append(const meta::DriveRef& drive, const store::PieceId& id,
                std::span<const uint8_t> bytes) override {
    return base_.Append(drive, id, bytes);  // a fresh object id: never taken
  }
  Status Sync(const std::vector<meta::DriveRef>& drives) override { return base_.Sync(drives); }
  Result<std::vector<uint8_t>> Read(const meta::DriveRef& drive,
                                    const store::PieceId& id) override {
    return base_.Read(drive, id);
  }
  Status Delete(const meta::DriveRef& drive, const store::PieceId& id) override {
    return base_.Delete(drive, id);
  }

 private:
  io::PieceStore& base_;
  layout::Topology target_;
};

}  // namespace

Result<ProtectResult> ProtectFile(io::PieceStore& store, meta::MetadataStore& metadata,
                                  const meta::FileRecord& record, const DeviceHealth& health,
                                  uint64_t new_object_id) {
  ProtectResult result;
  layout::Topology writable = store.WritableTopology();
  ASSIGN_OR_RETURN(RewritePlan plan, PlanRewrite(record, health, writable));
  FileRisk risk = AssessFile(record, health);
  switch (plan.action) {
    case RewritePlan::Action::kNone:
      return result;
    case RewritePlan::Action::kUnrecoverable:
      result.outcome = ProtectOutcome::kUnrecoverable;
      result.detail = Name(record) + ": data unavailable: " + plan.why;
      return result;
    case RewritePlan::Action::kNoRoom:
      result.outcome = ProtectOutcome::kNoRoom;
      result.detail = Name(record) + ": no room: " + plan.why;
      return result;
    case RewritePlan::Action::kRewrite:
      break;
  }
  ASSIGN_OR_RETURN(layout::ProtectionPolicy policy,
                   layout::ProtectionPolicy::Parse(record.protection));
  TargetPieceStore target(store, RewriteTopology(health, writable));
  io::FileWriter writer(target, policy, new_object_id);
  io::FileReader reader(store, record);
  Status copied = reader.Read(
      0, record.size, [&writer](std::span<const uint8_t> bytes) { return writer.Write(bytes); });
  Result<io::WrittenFile> written = copied.ok() ? writer.Finish() : Result<io::WrittenFile>(copied);
  if (!written.ok()) {
    writer.Abort();
    return written.status().WithContext("rewriting " + Name(record));
  }
  meta::FileRecord moved = record;
  moved.object_id = new_object_id;
  moved.geometry = written->geometry;
  moved.drives = written->drives;
  if (written->size != record.size || written->crc32c != record.crc32c ||
      written->sha256 != record.sha256) {
    io::DeleteFilePieces(store, moved);
    return Status::Corruption("rewriting " + Name(record) +
                              ": the content read back does not match its checksums");
  }
  // The version too: a clone's touch of a container chunk in between must
  // not be undone (ShadowStoreDelete relies on it).
  Result<bool> replaced = metadata.ReplacePlacement(moved, record.object_id, record.modified_ns);
  if (replaced.status().code() == StatusCode::kIndeterminate) {
    // Either placement may stand: free neither (space only; a later run or
    // a collector settles it).
    return replaced.status().WithContext("committing " + Name(record));
  }
  if (!replaced.ok() || !*replaced) {
    io::DeleteFilePieces(store, moved);
    if (!replaced.ok()) return replaced.status().WithContext("committing " + Name(record));
    result.outcome = ProtectOutcome::kRaced;
    result.detail = Name(record) + ": rewritten or deleted by a client meanwhile; left alone";
    return result;
  }
  io::DeleteFilePieces(store, record);  // the old units that can still be reached
  result.outcome = ProtectOutcome::kRewritten;
  result.units_rebuilt = risk.units_unavailable + risk.units_evacuating;
  std::string from, to;
  for (const meta::DriveRef& d : record.drives) {
    from += (from.empty() ? "" : ",") + std::to_string(d.node) + ":" + std::to_string(d.lnum);
  }
  for (const meta::DriveRef& d : moved.drives) {
    to += (to.empty() ? "" : ",") + std::to_string(d.node) + ":" + std::to_string(d.lnum);
  }
  result.detail = Name(record) + ": " + record.geometry.ToString() + " on " + from + " -> " +
                  moved.geometry.ToString() + " on " + to;
  return result;
}

Result<ProtectionSummary> SummarizeProtection(meta::MetadataStore& metadata,
                                              const DeviceHealth& health) {
  ProtectionSummary summary;
  RETURN_IF_ERROR(metadata.ForEach([&](const meta::FileRecord& r) {
    summary.Add(r, AssessFile(r, health));
    return true;
  }));
  return summary;
}

Result<bool> RetireNode(cluster::EtcdClient* client, const std::string& cluster,
                        int64_t master_token, uint32_t node) {
  const std::string key = cluster::ClusterPrefix(cluster) + "states/" + std::to_string(node);
  for (int attempt = 0; attempt < 20; ++attempt) {
    ASSIGN_OR_RETURN(cluster::GetResult got, client->Get(key));
    cluster::PersistentNodeState state;
    if (got.kv) {
      ASSIGN_OR_RETURN(state, cluster::ParsePersistentState(got.kv->value));
    }
    if (!state.soft_failed) return false;
    state.dead = true;
    nlohmann::json value = {
        {"soft_failed", state.soft_failed}, {"read_only", state.read_only}, {"dead", true}};
    ASSIGN_OR_RETURN(
        cluster::TxnResult txn,
        client->Txn({cluster::MasterTokenHolds(cluster, master_token),
                     cluster::Compare::ModRevisionEquals(key, got.kv ? got.kv->mod_revision : 0)},
                    {cluster::TxnOp::Put(key, value.dump())},
                    {cluster::TxnOp::Get(cluster::MasterKey(cluster))}));
    if (txn.succeeded) return true;
    const auto& master =
        txn.responses.empty() ? std::vector<cluster::KeyValue>{} : txn.responses[0].kvs;
    if (master.empty() || master[0].create_revision != master_token) {
      return Status::FailedPrecondition("not master: the tenure ended");
    }
  }
  return Status::Unavailable("states/" + std::to_string(node) + " kept changing");
}

Status FlexProtectJob::Run(JobContext& context) {
  std::optional<cluster::GroupState> group = group_();
  if (!group) return Status::Unavailable("no group known yet");
  DeviceHealth health(*group);
  context.SetDevices(health.FailedDevices());

  // Scan: note the files with units on failed devices.
  RETURN_IF_ERROR(context.BeginPhase("scan", 0));
  // What this run finds and fails on is measured afresh by a rerun (job.h).
  std::vector<std::pair<std::string, std::string>> todo;
  Status stopped;
  RETURN_IF_ERROR(metadata_.ForEach([&](const meta::FileRecord& r) {
    context.Advance();
    context.Measure("files_scanned");
    context.Measure("bytes_scanned", r.size);
    FileRisk risk = AssessFile(r, health);
    if (risk.needs_protection()) {
      todo.emplace_back(r.ns, r.path);
      context.Measure("files_at_risk");
      context.Measure("bytes_at_risk", r.size);
      if (risk.data_unavailable()) context.Measure("files_data_unavailable");
    }
    stopped = context.Checkpoint();
    return stopped.ok();
  }));
  RETURN_IF_ERROR(stopped);

  // Rebuild: each file as it is now (it may have changed since the scan).
  uint64_t failures = 0;
  auto next_start = std::chrono::steady_clock::now();
  auto rebuild = [&](const std::vector<std::pair<std::string, std::string>>& files) -> Status {
    RETURN_IF_ERROR(context.BeginPhase("rebuild", files.size()));
    for (const auto& [ns, path] : files) {
      RETURN_IF_ERROR(context.Checkpoint());
      if (int64_t rate = rate_ ? rate_() : 0; rate > 0) {
        std::this_thread::sleep_until(next_start);
        next_start =
            std::max(next_start, std::chrono::steady_clock::now() - std::chrono::seconds(1)) +
            std::chrono::microseconds(1'000'000 / rate);
        RETURN_IF_ERROR(context.Checkpoint());
      }
      context.Advance();
      Result<meta::FileRecord> record = metadata_.Get(ns, path);
      if (record.status().code() == StatusCode::kNotFound) {
        context.Count("files_skipped");
        continue;
      }
      Result<uint64_t> object_id =
          record.ok() ? new_object_id_() : Result<uint64_t>(record.status());
      Result<ProtectResult> done = object_id.ok()
                                       ? ProtectFile(store_, metadata_, *record, health, *object_id)
                                       : Result<ProtectResult>(object_id.status());
      if (!done.ok()) {
        ++failures;
        context.Measure("files_failed");
        context.Detail(ns + "/" + path + ": " + done.status().ToString());
        spdlog::warn("FlexProtect: {}/{}: {}", ns, path, done.status().ToString());
        continue;
      }
      switch (done->outcome) {
        case ProtectOutcome::kHealthy:
          context.Count("files_skipped");
          break;
        case ProtectOutcome::kRewritten:
          context.Count("files_rebuilt");
          context.Count("units_rebuilt", done->units_rebuilt);
          context.Count("bytes_rebuilt", record->size);
          break;
        case ProtectOutcome::kRaced:
          context.Count("files_skipped");
          break;
        case ProtectOutcome::kUnrecoverable:
          ++failures;
          context.Measure("files_unrecoverable");
          break;
        case ProtectOutcome::kNoRoom:
          ++failures;
          context.Measure("files_no_room");
          break;
      }
      if (!done->detail.empty()) context.Detail(done->detail);
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(rebuild(todo));

  // A write placed on a soft-failed node before every node had heard that
  // it was smartfailed may have come after the scan: before the node
  // leaves, the files are scanned again and such late ones rebuilt too.
  std::vector<uint32_t> retiring = health.SoftFailedNodes();
  for (int pass = 0; !retiring.empty() && failures == 0; ++pass) {
    std::vector<std::pair<std::string, std::string>> late;
    RETURN_IF_ERROR(context.BeginPhase("verify", 0));
    RETURN_IF_ERROR(metadata_.ForEach([&](const meta::FileRecord& r) {
      context.Advance();
      if (AssessFile(r, health).needs_protection()) late.emplace_back(r.ns, r.path);
      stopped = context.Checkpoint();
      return stopped.ok();
    }));
    RETURN_IF_ERROR(stopped);
    if (late.empty()) break;
    if (pass == 2) {
      return Status::Unavailable(std::to_string(late.size()) +
                                 " file(s) still have units on the devices being emptied after "
                                 "three passes; a later run goes on");
    }
    context.Detail(std::to_string(late.size()) +
                   " file(s) written onto the devices being emptied during the rebuild");
    RETURN_IF_ERROR(rebuild(late));
  }

  // Finish: smartfailed nodes leave the group once nothing needs them.
  RETURN_IF_ERROR(context.BeginPhase("finish", retiring.size()));
  if (failures > 0) {
    return Status::Unavailable(std::to_string(failures) +
                               " file(s) could not be protected; see the report's details");
  }
  for (uint32_t node : retiring) {
    RETURN_IF_ERROR(context.Checkpoint());
    ASSIGN_OR_RETURN(bool retired, RetireNode(client_, cluster_, context.master_token(), node));
    context.Advance();
    if (!retired) {
      context.Detail("node " + std::to_string(node) +
                     " is no longer smartfailed; it stays in the group");
      continue;
    }
    context.Count("nodes_retired");
    context.Detail("node " + std::to_string(node) + " left the group (state dead)");
  }
  return Status::Ok();
}

}  // namespace tessera::jobs
