#include "cluster/membership/registry.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "cluster/group_state.h"

namespace tessera::cluster {
namespace {

using nlohmann::json;

constexpr int kMaxAttempts = 200;

std::string RandomGuid() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return buf;
}

// Sleeps a short random time so that racing writers spread out.
void Backoff(int attempt) {
  thread_local std::mt19937 gen(std::random_device{}());
  const int cap = std::min(50, 2 + attempt * 2);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int>(1, cap)(gen)));
}

Result<uint64_t> ParseCounter(const std::optional<KeyValue>& kv) {
  if (!kv) return uint64_t{0};
  try {
    size_t used = 0;
    uint64_t v = std::stoull(kv->value, &used);
    if (used != kv->value.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    return Status::Corruption("counter " + kv->key + " holds '" + kv->value +
                              "', not a decimal number");
  }
}

std::string NodeJson(const NodeRecord& r) {
  json j = {{"array_id", r.array_id}, {"lnn", r.lnn}, {"address", r.address}, {"guid", r.guid}};
  if (!r.rpc_address.empty()) j["rpc"] = r.rpc_address;
  return j.dump();
}

Status RequireNode(EtcdClient* client, const std::string& prefix, uint32_t array_id) {
  ASSIGN_OR_RETURN(GetResult node, client->Get(prefix + "nodes/" + std::to_string(array_id)));
  if (!node.kv) {
    return Status::FailedPrecondition("node " + std::to_string(array_id) + " is not registered");
  }
  return Status::Ok();
}

// Node must exist: its version is above 0.
Compare NodeExists(const std::string& prefix, uint32_t array_id) {
  return {prefix + "nodes/" + std::to_string(array_id),
          Compare::Target::kVersion,
          Compare::Op::kGreater,
          0,
          {}};
}

}  // namespace

std::string ClusterPrefix(const std::string& cluster) { return "/tessera/" + cluster + "/"; }

Result<uint32_t> IdAfterLastSlash(const std::string& key) {
  const size_t slash = key.rfind('/');
  const std::string tail = slash == std::string::npos ? key : key.substr(slash + 1);
  if (tail.empty() || tail.size() > 9 ||
      tail.find_first_not_of("0123456789") != std::string::npos) {
    return Status::Corruption("key " + key + " does not end in a decimal id");
  }
  return static_cast<uint32_t>(std::stoul(tail));
}

Result<NodeRecord> ParseNodeRecord(const std::string& text) {
  try {
    json j = json::parse(text);
    NodeRecord r;
    r.array_id = j.at("array_id").get<uint32_t>();
    r.lnn = j.at("lnn").get<uint32_t>();
    r.address = j.at("address").get<std::string>();
    r.guid = j.at("guid").get<std::string>();
    r.rpc_address = j.value("rpc", "");
    return r;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("node record: ") + e.what());
  }
}

Result<PersistentNodeState> ParsePersistentState(const std::string& text) {
  try {
    json j = json::parse(text);
    PersistentNodeState s;
    s.soft_failed = j.value("soft_failed", false);
    s.read_only = j.value("read_only", false);
    s.dead = j.value("dead", false);
    return s;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("node state: ") + e.what());
  }
}

Result<NodeRecord> RegisterNode(EtcdClient* client, const std::string& cluster,
                                const std::string& address, std::string guid) {
  if (cluster.empty() || address.empty()) {
    return Status::InvalidArgument("RegisterNode needs a cluster name and an address");
  }
  if (guid.empty()) guid = RandomGuid();
  const std::string prefix = ClusterPrefix(cluster);
  const std::string counter = prefix + "counters/array-id";
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    // One consistent snapshot of the counter and the LNN claims.
    ASSIGN_OR_RETURN(TxnResult snap,
                     client->Txn({}, {TxnOp::Get(counter), TxnOp::GetPrefix(prefix + "lnns/")}));
    if (snap.responses.size() != 2) return Status::Corruption("snapshot: wrong response count");
    std::optional<KeyValue> counter_kv;
    if (!snap.responses[0].kvs.empty()) counter_kv = snap.responses[0].kvs.front();
    ASSIGN_OR_RETURN(uint64_t last, ParseCounter(counter_kv));
    if (last >= kMaxNodeId) return Status::NoSpace("array ids are exhausted");
    std::set<uint32_t> used;
    for (const KeyValue& kv : snap.responses[1].kvs) {
      ASSIGN_OR_RETURN(uint32_t lnn, IdAfterLastSlash(kv.key));
      used.insert(lnn);
    }
    uint32_t lnn = 1;
    while (used.count(lnn)) ++lnn;

    NodeRecord record{static_cast<uint32_t>(last + 1), lnn, address, guid, ""};
    const std::string id = std::to_string(record.array_id);
    const std::string lnn_key = prefix + "lnns/" + std::to_string(lnn);
    Result<TxnResult> txn =
        client->Txn({Compare::ModRevisionEquals(counter, counter_kv ? counter_kv->mod_revision : 0),
                     Compare::Absent(lnn_key)},
                    {TxnOp::Put(counter, id), TxnOp::Put(lnn_key, id),
                     TxnOp::Put(prefix + "nodes/" + id, NodeJson(record))});
    if (txn.ok() && txn->succeeded) return record;
    if (!txn.ok()) {
      if (txn.status().code() != StatusCode::kUnavailable) return txn.status();
      // The outcome is unknown: find out whether our record landed.
      ASSIGN_OR_RETURN(std::vector<NodeRecord> nodes, ListNodes(client, cluster));
      for (const NodeRecord& n : nodes) {
        if (n.guid == guid) return n;
      }
    }
    Backoff(attempt);
  }
  return Status::Unavailable("RegisterNode: too much contention on " + counter);
}

Status RemoveNode(EtcdClient* client, const std::string& cluster, uint32_t array_id) {
  const std::string prefix = ClusterPrefix(cluster);
  const std::string id = std::to_string(array_id);
  const std::string node_key = prefix + "nodes/" + id;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(GetResult node, client->Get(node_key));
    if (!node.kv) return Status::NotFound("node " + id + " is not registered");
    ASSIGN_OR_RETURN(NodeRecord record, ParseNodeRecord(node.kv->value));
    ASSIGN_OR_RETURN(
        TxnResult txn,
        client->Txn(
            {Compare::ModRevisionEquals(node_key, node.kv->mod_revision)},
            {TxnOp::Delete(node_key), TxnOp::Delete(prefix + "lnns/" + std::to_string(record.lnn)),
             TxnOp::Delete(prefix + "live/" + id), TxnOp::Delete(prefix + "states/" + id)}));
    if (txn.succeeded) return Status::Ok();
    Backoff(attempt);
  }
  return Status::Unavailable("RemoveNode: too much contention on " + node_key);
}

Result<std::vector<NodeRecord>> ListNodes(EtcdClient* client, const std::string& cluster) {
  ASSIGN_OR_RETURN(RangeResult range, client->GetPrefix(ClusterPrefix(cluster) + "nodes/"));
  std::vector<NodeRecord> out;
  for (const KeyValue& kv : range.kvs) {
    ASSIGN_OR_RETURN(NodeRecord r, ParseNodeRecord(kv.value));
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const NodeRecord& a, const NodeRecord& b) { return a.array_id < b.array_id; });
  return out;
}

Result<uint32_t> AllocateDriveLnum(EtcdClient* client, const std::string& cluster,
                                   uint32_t array_id) {
  const std::string prefix = ClusterPrefix(cluster);
  const std::string id = std::to_string(array_id);
  const std::string counter = prefix + "counters/lnum/" + id;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(GetResult got, client->Get(counter));
    ASSIGN_OR_RETURN(uint64_t next, ParseCounter(got.kv));  // count handed out so far
    if (next > kMaxDriveLnum) return Status::NoSpace("drive lnums of node " + id + " exhausted");
    const uint32_t lnum = static_cast<uint32_t>(next);
    ASSIGN_OR_RETURN(
        TxnResult txn,
        client->Txn({Compare::ModRevisionEquals(counter, got.kv ? got.kv->mod_revision : 0),
                     NodeExists(prefix, array_id)},
                    {TxnOp::Put(counter, std::to_string(next + 1)),
                     TxnOp::Put(prefix + "drives/" + id + "/" + std::to_string(lnum),
                                DriveKeyValue(lnum, false))}));
    if (txn.succeeded) return lnum;
    RETURN_IF_ERROR(RequireNode(client, prefix, array_id));
    Backoff(attempt);
  }
  return Status::Unavailable("AllocateDriveLnum: too much contention on " + counter);
}

std::string DriveKeyValue(uint32_t lnum, bool down) {
  json value = {{"lnum", lnum}};
  if (down) value["down"] = true;
  return value.dump();
}

bool DriveKeyIsDown(std::string_view value) {
  json parsed = json::parse(value, nullptr, false);
  return parsed.is_object() && parsed.value("down", false) == true;
}

Result<std::map<uint32_t, bool>> ListDriveKeys(EtcdClient* client, const std::string& cluster,
                                               uint32_t array_id) {
  ASSIGN_OR_RETURN(RangeResult range, client->GetPrefix(ClusterPrefix(cluster) + "drives/" +
                                                        std::to_string(array_id) + "/"));
  std::map<uint32_t, bool> out;
  for (const KeyValue& kv : range.kvs) {
    ASSIGN_OR_RETURN(uint32_t lnum, IdAfterLastSlash(kv.key));
    out[lnum] = DriveKeyIsDown(kv.value);
  }
  return out;
}

Result<std::vector<uint32_t>> ListDriveLnums(EtcdClient* client, const std::string& cluster,
                                             uint32_t array_id) {
  ASSIGN_OR_RETURN(auto keys, ListDriveKeys(client, cluster, array_id));
  std::vector<uint32_t> out;
  for (const auto& [lnum, down] : keys) out.push_back(lnum);
  return out;
}

Status SyncDriveLnums(EtcdClient* client, const std::string& cluster, uint32_t array_id,
                      const std::vector<uint32_t>& up_lnums) {
  const std::string prefix = ClusterPrefix(cluster);
  const std::string id = std::to_string(array_id);
  const std::string drives = prefix + "drives/" + id + "/";
  RETURN_IF_ERROR(RequireNode(client, prefix, array_id));
  ASSIGN_OR_RETURN(auto known, ListDriveKeys(client, cluster, array_id));
  std::set<uint32_t> up(up_lnums.begin(), up_lnums.end());
  for (uint32_t lnum : up) {
    if (auto it = known.find(lnum); it != known.end()) {
      if (it->second) {  // back up
        RETURN_IF_ERROR(
            client->Put(drives + std::to_string(lnum), DriveKeyValue(lnum, false)).status());
      }
      continue;
    }
    ASSIGN_OR_RETURN(GetResult got, client->Get(prefix + "counters/lnum/" + id));
    ASSIGN_OR_RETURN(uint64_t next, ParseCounter(got.kv));
    if (lnum < next) {  // handed out before; its key was removed
      RETURN_IF_ERROR(
          client->Put(drives + std::to_string(lnum), DriveKeyValue(lnum, false)).status());
      continue;
    }
    while (true) {
      ASSIGN_OR_RETURN(uint32_t got_lnum, AllocateDriveLnum(client, cluster, array_id));
      if (got_lnum == lnum) break;
      if (got_lnum > lnum) {
        return Status::Corruption("drive lnum counter of node " + id + " moved past lnum " +
                                  std::to_string(lnum) + " while allocating it");
      }
      RETURN_IF_ERROR(client->Delete(drives + std::to_string(got_lnum)).status());
    }
  }
  for (const auto& [lnum, down] : known) {
    if (up.count(lnum) || down) continue;
    RETURN_IF_ERROR(client->Put(drives + std::to_string(lnum), DriveKeyValue(lnum, true)).status());
  }
  return Status::Ok();
}

Status UpdateNodeAddresses(EtcdClient* client, const std::string& cluster, uint32_t array_id,
                           const std::string& address, const std::string& rpc_address) {
  const std::string key = ClusterPrefix(cluster) + "nodes/" + std::to_string(array_id);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(GetResult got, client->Get(key));
    if (!got.kv) {
      return Status::FailedPrecondition("node " + std::to_string(array_id) + " is not registered");
    }
    ASSIGN_OR_RETURN(NodeRecord record, ParseNodeRecord(got.kv->value));
    if (record.address == address && record.rpc_address == rpc_address) return Status::Ok();
    record.address = address;
    record.rpc_address = rpc_address;
    ASSIGN_OR_RETURN(TxnResult txn,
                     client->Txn({Compare::ModRevisionEquals(key, got.kv->mod_revision)},
                                 {TxnOp::Put(key, NodeJson(record))}, {}));
    if (txn.succeeded) return Status::Ok();
    Backoff(attempt);  // an operator or another update raced this one: re-read
  }
  return Status::Unavailable("UpdateNodeAddresses: too much contention on " + key);
}

Status SetPersistentState(EtcdClient* client, const std::string& cluster, uint32_t array_id,
                          const PersistentNodeState& state) {
  const std::string prefix = ClusterPrefix(cluster);
  const std::string id = std::to_string(array_id);
  ASSIGN_OR_RETURN(
      TxnResult txn,
      client->Txn({NodeExists(prefix, array_id)},
                  {TxnOp::Put(prefix + "states/" + id, json{{"soft_failed", state.soft_failed},
                                                            {"read_only", state.read_only},
                                                            {"dead", state.dead}}
                                                           .dump())}));
  if (!txn.succeeded) {
    return Status::FailedPrecondition("node " + id + " is not registered");
  }
  return Status::Ok();
}

}  // namespace tessera::cluster
