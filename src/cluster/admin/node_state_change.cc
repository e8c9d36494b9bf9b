#include "cluster/admin/node_state_change.h"

#include <nlohmann/json.hpp>

namespace tessera::cluster::admin {
namespace {

// Races need another operator writing the same node between our read and
// write; dozens in a row mean something is wrong rather than busy.
constexpr int kMaxAttempts = 50;

}  // namespace

std::string_view PersistentFlagName(PersistentFlag flag) {
  switch (flag) {
    case PersistentFlag::kSoftFailed:
      return "soft_failed";
    case PersistentFlag::kReadOnly:
      return "read_only";
    case PersistentFlag::kDead:
      return "dead";
  }
  return "unknown";
}

PersistentNodeState WithFlag(PersistentNodeState state, PersistentFlag flag, bool on) {
  switch (flag) {
    case PersistentFlag::kSoftFailed:
      state.soft_failed = on;
      break;
    case PersistentFlag::kReadOnly:
      state.read_only = on;
      break;
    case PersistentFlag::kDead:
      state.dead = on;
      break;
  }
  return state;
}

std::string DescribePersistentState(const PersistentNodeState& state) {
  std::string out;
  auto add = [&out](bool set, std::string_view name) {
    if (!set) return;
    if (!out.empty()) out += ", ";
    out += name;
  };
  add(state.soft_failed, "soft_failed");
  add(state.read_only, "read_only");
  add(state.dead, "dead");
  return out.empty() ? "none" : out;
}

std::string PersistentStateJson(const PersistentNodeState& state) {
  return nlohmann::json{
      {"soft_failed", state.soft_failed}, {"read_only", state.read_only}, {"dead", state.dead}}
      .dump();
}

Result<PersistentNodeState> UpdatePersistentFlag(EtcdClient* client, const std::string& cluster,
                                                 uint32_t array_id, PersistentFlag flag, bool on) {
  const std::string prefix = ClusterPrefix(cluster);
  const std::string id = std::to_string(array_id);
  const std::string node_key = prefix + "nodes/" + id;
  const std::string state_key = prefix + "states/" + id;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(TxnResult read,
                     client->Txn({}, {TxnOp::Get(node_key), TxnOp::Get(state_key)}));
    if (read.responses.size() != 2) return Status::Corruption("state read: wrong response count");
    if (read.responses[0].kvs.empty()) {
      return Status::NotFound("node " + id + " is not registered");
    }
    PersistentNodeState state;
    int64_t state_revision = 0;  // 0: states/<id> must still be absent
    if (!read.responses[1].kvs.empty()) {
      const KeyValue& kv = read.responses[1].kvs.front();
      ASSIGN_OR_RETURN(state, ParsePersistentState(kv.value));
      state_revision = kv.mod_revision;
    }
    const PersistentNodeState next = WithFlag(state, flag, on);
    Compare node_exists{node_key, Compare::Target::kVersion, Compare::Op::kGreater, 0, {}};
    ASSIGN_OR_RETURN(
        TxnResult write,
        client->Txn({node_exists, Compare::ModRevisionEquals(state_key, state_revision)},
                    {TxnOp::Put(state_key, PersistentStateJson(next))}));
    if (write.succeeded) return next;
  }
  return Status::Unavailable("node " + id + ": states changed under us " +
                             std::to_string(kMaxAttempts) + " times in a row; try again");
}

}  // namespace tessera::cluster::admin
