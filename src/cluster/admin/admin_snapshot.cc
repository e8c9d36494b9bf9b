#include "cluster/admin/admin_snapshot.h"

#include <map>

namespace tessera::cluster::admin {
namespace {

Result<int64_t> ParsePriority(const KeyValue& kv) {
  try {
    size_t used = 0;
    int64_t priority = std::stoll(kv.value, &used);
    if (used == kv.value.size()) return priority;
  } catch (const std::exception&) {
  }
  return Status::Corruption(kv.key + " is not a decimal priority: '" + kv.value + "'");
}

// drives/<id>/<lnum> -> (id, lnum).
Result<std::pair<uint32_t, uint32_t>> DriveIds(const std::string& drives_prefix,
                                               const std::string& key) {
  std::string rest = key.substr(drives_prefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return Status::Corruption("malformed drive key " + key);
  ASSIGN_OR_RETURN(uint32_t id, IdAfterLastSlash("/" + rest.substr(0, slash)));
  ASSIGN_OR_RETURN(uint32_t lnum, IdAfterLastSlash(key));
  return std::make_pair(id, lnum);
}

}  // namespace

const AdminNode* AdminSnapshot::Find(uint32_t array_id) const {
  for (const AdminNode& node : nodes) {
    if (node.record.array_id == array_id) return &node;
  }
  return nullptr;
}

Result<AdminSnapshot> ReadAdminSnapshot(EtcdClient* client, const std::string& cluster) {
  const std::string prefix = ClusterPrefix(cluster);
  ASSIGN_OR_RETURN(
      TxnResult txn,
      client->Txn({}, {TxnOp::GetPrefix(prefix + "nodes/"), TxnOp::GetPrefix(prefix + "live/"),
                       TxnOp::GetPrefix(prefix + "states/"), TxnOp::GetPrefix(prefix + "drives/"),
                       TxnOp::GetPrefix(prefix + "priorities/"), TxnOp::Get(prefix + "group"),
                       TxnOp::Get(MasterKey(cluster))}));
  if (txn.responses.size() != 7) return Status::Corruption("snapshot: wrong response count");
  AdminSnapshot snap;
  snap.cluster = cluster;
  snap.revision = txn.revision;
  std::map<uint32_t, AdminNode> nodes;
  for (const KeyValue& kv : txn.responses[0].kvs) {
    ASSIGN_OR_RETURN(NodeRecord record, ParseNodeRecord(kv.value));
    nodes[record.array_id].record = record;
  }
  // Keys of nodes that are not registered (being removed) are left out.
  auto node_of = [&nodes](const std::string& key) -> Result<AdminNode*> {
    ASSIGN_OR_RETURN(uint32_t id, IdAfterLastSlash(key));
    auto it = nodes.find(id);
    return it == nodes.end() ? static_cast<AdminNode*>(nullptr) : &it->second;
  };
  for (const KeyValue& kv : txn.responses[1].kvs) {
    ASSIGN_OR_RETURN(AdminNode * node, node_of(kv.key));
    if (node != nullptr) node->live = true;
  }
  for (const KeyValue& kv : txn.responses[2].kvs) {
    ASSIGN_OR_RETURN(AdminNode * node, node_of(kv.key));
    if (node != nullptr) {
      ASSIGN_OR_RETURN(node->state, ParsePersistentState(kv.value));
    }
  }
  for (const KeyValue& kv : txn.responses[3].kvs) {
    ASSIGN_OR_RETURN(auto ids, DriveIds(prefix + "drives/", kv.key));
    auto it = nodes.find(ids.first);
    if (it != nodes.end()) it->second.drives.Insert(ids.second);
  }
  for (const KeyValue& kv : txn.responses[4].kvs) {
    ASSIGN_OR_RETURN(AdminNode * node, node_of(kv.key));
    if (node != nullptr) {
      ASSIGN_OR_RETURN(node->priority, ParsePriority(kv));
      node->has_priority = true;
    }
  }
  if (!txn.responses[5].kvs.empty()) {
    const KeyValue& kv = txn.responses[5].kvs.front();
    ASSIGN_OR_RETURN(snap.group, ParseGroupRecord(kv.value, kv.mod_revision));
  }
  if (!txn.responses[6].kvs.empty()) {
    const KeyValue& kv = txn.responses[6].kvs.front();
    ASSIGN_OR_RETURN(snap.master, ParseMasterRecord(kv.value, kv.create_revision));
  }
  for (auto& [id, node] : nodes) snap.nodes.push_back(std::move(node));
  return snap;
}

}  // namespace tessera::cluster::admin
