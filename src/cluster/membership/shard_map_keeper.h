// The metadata shard map in etcd, key ClusterPrefix(cluster) + "shardmap"
// (ShardMapJson, cluster/shard_map.h). Only the master writes it: after
// every group change it computes the map for the new group from the stored
// one (ComputeShardMap keeps surviving replicas) and writes it in a
// transaction fenced by its token (MasterTokenHolds), so a deposed master
// can never overwrite its successor's map. Members that are soft-failed or
// read-only get no shards. Free functions over a thread-safe EtcdClient.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cluster/etcd/etcd_client.h"
#include "cluster/membership/group_proposer.h"
#include "cluster/shard_map.h"
#include "common/status.h"

namespace tessera::cluster {

std::string ShardMapKey(const std::string& cluster);

// nullopt when no map was published yet.
Result<std::optional<ShardMap>> ReadShardMap(EtcdClient* client, const std::string& cluster);

enum class PublishOutcome {
  kWritten,    // the map for group.epoch is stored now
  kUpToDate,   // a map for this epoch or a later one was already stored
  kNotMaster,  // the master key is no longer `master_token`: nothing written
};

// Publishes the map for `group` (its epoch and members). `copies` is the
// number of replicas per shard (m+1 of the protection policy).
Result<PublishOutcome> PublishShardMap(EtcdClient* client, const std::string& cluster,
                                       int64_t master_token, const GroupRecord& group,
                                       uint32_t shard_count, uint32_t copies);

}  // namespace tessera::cluster
