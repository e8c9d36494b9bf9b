#include "cluster/membership/master_elector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"

namespace tessera::cluster {

MasterElector::MasterElector(EtcdClient* client, std::string cluster, uint32_t self,
                             InputsFn inputs, ChangeFn on_change, std::chrono::milliseconds poll)
    : client_(client),
      cluster_(std::move(cluster)),
      self_(self),
      inputs_(std::move(inputs)),
      on_change_(std::move(on_change)) {
  loop_ = std::make_unique<WatchedLoop>(client_, ClusterPrefix(cluster_), poll, [this] {
    Status s = RunRound();
    if (!s.ok()) spdlog::debug("master election round: {}", s.ToString());
    return false;
  });
}

MasterElector::~MasterElector() { Stop(); }

void MasterElector::Stop() { loop_->Stop(); }

void MasterElector::Poke() { loop_->Poke(); }

void MasterElector::Transition(bool is_master, int64_t token) {
  if (is_master == is_master_.load()) return;
  int64_t reported = is_master ? token : token_.load();
  spdlog::info("node {} {} master (fencing token {})", self_, is_master ? "became" : "is no longer",
               reported);
  // The state changes before anyone is told, so nothing reports this node
  // as master after it stopped being one.
  token_.store(is_master ? token : 0);
  is_master_.store(is_master);
  if (on_change_) on_change_(is_master, reported);
}

Status MasterElector::RunRound() {
  Inputs inputs = inputs_ ? inputs_() : Inputs{};
  // A node without quorum stops being master before any etcd call, which
  // could take its full timeout while etcd is unreachable.
  if (!inputs.quorate) Transition(false, 0);
  const std::string key = MasterKey(cluster_);
  Result<GetResult> got = client_->Get(key);
  if (!got.ok()) return got.status();
  std::optional<MasterRecord> master;
  if (got->kv) {
    Result<MasterRecord> parsed = ParseMasterRecord(got->kv->value, got->kv->create_revision);
    if (!parsed.ok()) {
      spdlog::warn("deleting unreadable master key: {}", parsed.status().ToString());
      RETURN_IF_ERROR(client_
                          ->Txn({MasterTokenHolds(cluster_, got->kv->create_revision)},
                                {TxnOp::Delete(key)}, {})
                          .status());
      return Status::Unavailable("master key was unreadable");
    }
    master = *parsed;
  }
  bool mine_now = master && master->array_id == self_ && inputs.lease_id != 0 &&
                  got->kv->lease == inputs.lease_id;
  if (master && master->array_id == self_ && !mine_now) {
    // Held by an earlier life of this node (or one that lost quorum): no
    // other process has this array id, so it is stale and may go now.
    RETURN_IF_ERROR(
        client_->Txn({MasterTokenHolds(cluster_, master->token)}, {TxnOp::Delete(key)}, {})
            .status());
    Transition(false, 0);
    known_master_.store(0);
    return Status::Ok();
  }
  if (!inputs.quorate) {
    if (mine_now) {
      RETURN_IF_ERROR(
          client_->Txn({MasterTokenHolds(cluster_, master->token)}, {TxnOp::Delete(key)}, {})
              .status());
    }
    Transition(false, 0);
    known_master_.store(master && !mine_now ? master->array_id : 0);
    return Status::Ok();
  }
  if (master) {
    known_master_.store(master->array_id);
    Transition(mine_now, master->token);
    return Status::Ok();
  }
  known_master_.store(0);
  Transition(false, 0);
  return TakeOver(inputs);
}

Status MasterElector::TakeOver(const Inputs& inputs) {
  const std::string prefix = ClusterPrefix(cluster_);
  ASSIGN_OR_RETURN(RangeResult live, client_->GetPrefix(prefix + "live/"));
  using Priorities = std::map<uint32_t, int64_t>;
  ASSIGN_OR_RETURN(Priorities priorities, ReadPriorities(client_, cluster_));
  std::map<uint32_t, int64_t> candidates;
  for (const KeyValue& kv : live.kvs) {
    Result<uint32_t> id = IdAfterLastSlash(kv.key);
    if (!id.ok() || !inputs.members.count(*id) || inputs.ineligible.count(*id)) continue;
    auto p = priorities.find(*id);
    candidates[*id] = p == priorities.end() ? 0 : p->second;
  }
  if (ChooseMaster(candidates) != self_) return Status::Ok();

  int64_t priority = candidates[self_];
  const std::string key = MasterKey(cluster_);
  ASSIGN_OR_RETURN(
      TxnResult created,
      client_->Txn({Compare::Absent(key)},
                   {TxnOp::Put(key, MasterRecordJson({self_, priority, 0}), inputs.lease_id)}, {}));
  if (!created.succeeded) return Status::Ok();  // another node got there first
  const int64_t token = created.revision;       // the key's create_revision

  // Like corolistener: the new master raises its priority above every other
  // node's, so a returning node with a higher configured priority does not
  // look like a better master. Fenced: only this tenure may write it.
  int64_t highest_other = 0;
  for (const auto& [id, p] : priorities) {
    if (id != self_) highest_other = std::max(highest_other, p);
  }
  // At the very top there is nothing to raise to (and +1 would wrap to the
  // lowest priority of all).
  if (priority <= highest_other && highest_other < std::numeric_limits<int64_t>::max()) {
    Result<TxnResult> raised = client_->Txn(
        {MasterTokenHolds(cluster_, token)},
        {TxnOp::Put(PriorityKey(cluster_, self_), std::to_string(highest_other + 1))}, {});
    if (!raised.ok())
      spdlog::warn("could not publish the new master's priority: {}", raised.status().ToString());
  }
  known_master_.store(self_);
  Transition(true, token);
  return Status::Ok();
}

}  // namespace tessera::cluster
