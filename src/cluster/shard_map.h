// The metadata shard map: which nodes keep each metadata shard, and which
// of them is its primary, for one group epoch. Pure functions, no I/O.
//
// File records are split into `shard_count` shards by the file's directory
// (ShardOf), so a directory's entries stay in one shard and a listing of a
// directory asks one shard. Each shard lives on `copies` replicas (m+1 for
// protection +m) chosen from the group's members; the first replica is the
// primary, which orders the shard's writes.
//
// ComputeShardMap keeps, for every shard, each previous replica that is
// still a member, in its previous order, so a primary that survives stays
// primary and a surviving replica becomes primary when the old one left;
// it fills the missing places by rendezvous hashing of (shard, node), which
// spreads shards evenly and moves as few as possible when members change.
// Because survivors are kept, a shard that lost fewer than `copies`
// replicas always has a replica in the new map that held every write the
// old map acknowledged: the new primary catches up from it before serving.
// A joining node takes no shard from a full replica set: moving shards onto
// new nodes is a rebalancing job's work, not a group change's.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::cluster {

struct ShardReplicas {
  std::vector<uint32_t> nodes;  // distinct array ids; nodes[0] is the primary
  bool operator==(const ShardReplicas&) const = default;
};

struct ShardMap {
  int64_t epoch = 0;  // the group epoch the map was computed for
  std::vector<ShardReplicas> shards;
  bool operator==(const ShardMap&) const = default;
};

// The shard of a file: a hash of the namespace and the path's directory
// ("a/b/c.dcm" -> "a/b"; "c.dcm" -> ""), in [0, shard_count).
uint32_t ShardOf(std::string_view ns, std::string_view path, uint32_t shard_count);

// The map for `members` at `epoch`. Every shard gets min(copies, |members|)
// replicas. `previous` may be empty (no shards): a fresh map.
// InvalidArgument for shard_count 0, copies 0, or a previous map with
// another shard count.
Result<ShardMap> ComputeShardMap(const ShardMap& previous, const std::set<uint32_t>& members,
                                 uint32_t shard_count, uint32_t copies, int64_t epoch);

// {"epoch": 57, "shards": [[1, 3, 4], [2, 1, 5], ...]} and back.
std::string ShardMapJson(const ShardMap& map);
Result<ShardMap> ParseShardMap(const std::string& json);

}  // namespace tessera::cluster
