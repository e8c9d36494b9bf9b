#include "cluster/membership/shard_map_keeper.h"

#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"

namespace tessera::cluster {

std::string ShardMapKey(const std::string& cluster) { return ClusterPrefix(cluster) + "shardmap"; }

Result<std::optional<ShardMap>> ReadShardMap(EtcdClient* client, const std::string& cluster) {
  ASSIGN_OR_RETURN(GetResult got, client->Get(ShardMapKey(cluster)));
  if (!got.kv) return std::optional<ShardMap>();
  ASSIGN_OR_RETURN(ShardMap map, ParseShardMap(got.kv->value));
  return std::optional<ShardMap>(std::move(map));
}

Result<PublishOutcome> PublishShardMap(EtcdClient* client, const std::string& cluster,
                                       int64_t master_token, const GroupRecord& group,
                                       uint32_t shard_count, uint32_t copies) {
  const std::string key = ShardMapKey(cluster);
  ASSIGN_OR_RETURN(GetResult got, client->Get(key));
  ShardMap previous;
  if (got.kv) {
    ASSIGN_OR_RETURN(previous, ParseShardMap(got.kv->value));
    if (previous.epoch >= group.epoch) return PublishOutcome::kUpToDate;
    if (previous.shards.size() != shard_count)
      previous = ShardMap{};  // re-sharding is not a group change's
  }
  std::set<uint32_t> eligible;
  for (const auto& [node, drives] : group.group.members) eligible.insert(node);
  for (const DeviceRef& d : group.group.soft_failed) {
    if (d.whole_node()) eligible.erase(d.node);
  }
  for (uint32_t node : group.group.read_only.ToVector()) eligible.erase(node);
  ASSIGN_OR_RETURN(ShardMap map,
                   ComputeShardMap(previous, eligible, shard_count, copies, group.epoch));
  ASSIGN_OR_RETURN(
      TxnResult txn,
      client->Txn({MasterTokenHolds(cluster, master_token),
                   Compare::ModRevisionEquals(key, got.kv ? got.kv->mod_revision : 0)},
                  {TxnOp::Put(key, ShardMapJson(map))}, {TxnOp::Get(MasterKey(cluster))}));
  if (txn.succeeded) return PublishOutcome::kWritten;
  // Either the tenure ended or another write raced this one.
  const std::vector<KeyValue>& master =
      txn.responses.empty() ? std::vector<KeyValue>{} : txn.responses[0].kvs;
  if (master.empty() || master[0].create_revision != master_token) {
    return PublishOutcome::kNotMaster;
  }
  return PublishOutcome::kUpToDate;
}

}  // namespace tessera::cluster
