// MetadataStore over replicated metadata shards: the store of a cluster node.
//
// A file's record lives in shard ShardOf(ns, path) (its directory's shard).
// The shard map (cluster/shard_map.h, published by the master for every
// group epoch) names each shard's replicas; the first is its primary. Every
// call here is routed to the file's primary: served in place when this node
// leads the shard, else forwarded to the primary (ShardPeer::Lead). A List
// asks every primary and merges; ForEach pages through every shard.
//
// As a primary for epoch E, this node first catches its shards up: every
// replica promises E (so a deposed primary can no longer write to them), the
// most advanced replica's writes are pulled here, and every replica is
// brought level (from the log, or by a full copy). Only then does it serve
// the shard. Writes are ordered per shard and batched (group commit): a
// batch is appended on every replica, then here, and acknowledged when all
// have it synced. A replica that fails a batch stops the shard until a new
// catch-up succeeds; the batch's writers get Indeterminate (it may have
// committed on some replicas and a later catch-up may keep it).
//
// Reads and writes are served only while `gate` is OK (the node holds a
// live etcd session in a quorate group): a node that cannot prove its shard
// map current serves no metadata. A request for a shard that has no serving
// primary waits up to `request_wait` for one, then fails Unavailable.
//
// Thread-safe. SetShardMap and SetPeers come from the agent's peer thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/shard_map.h"
#include "meta/metadata_store.h"
#include "meta/shard_peer.h"
#include "meta/shard_replica_store.h"
#include "meta/shard_request.h"

namespace tessera::meta {

struct ShardedStoreOptions {
  uint32_t self = 0;  // this node's array id
  uint32_t shard_count = 64;
  std::function<Status()> gate;        // empty: always OK
  std::function<void()> map_is_stale;  // a peer knows a newer map: re-read it soon
  std::chrono::milliseconds request_wait{5000};
};

// What `tessera status` and the cluster view show of this node's shards.
struct ShardServiceStats {
  int64_t epoch = 0;       // of the map in use
  uint32_t led = 0;        // shards this node is primary of
  uint32_t serving = 0;    // of those, caught up and serving
  std::string last_error;  // the latest catch-up failure, if any
};

class ShardedMetadataStore final : public MetadataStore {
 public:
  static Result<std::unique_ptr<ShardedMetadataStore>> Open(const std::string& dir,
                                                            ShardedStoreOptions options);
  ~ShardedMetadataStore() override;

  // A map with an epoch not newer than the current one is ignored.
  void SetShardMap(const cluster::ShardMap& map);
  void SetPeers(std::map<uint32_t, std::shared_ptr<ShardPeer>> peers);

  Result<uint64_t> NewObjectId() override;
  Result<FileRecord> Get(const std::string& ns, const std::string& path) override;
  Result<std::optional<FileRecord>> Put(FileRecord record) override;
  Result<bool> ReplacePlacement(
      const FileRecord& record, uint64_t expected_object_id,
      std::optional<int64_t> expected_modified_ns = std::nullopt) override;
  Result<FileRecord> Delete(const std::string& ns, const std::string& path) override;
  Result<Listing> List(const std::string& ns, const std::string& prefix, const std::string& marker,
                       size_t limit) override;
  Status ForEach(const std::function<bool(const FileRecord&)>& visit) override;

  // The service side, for requests from other nodes.
  ShardReplicaStore& replica() { return *replica_; }
  Result<ShardReply> Lead(const ShardRequest& request);

  ShardServiceStats Stats();

 private:
  struct Writer;
  struct LedShard;
  ShardedMetadataStore(ShardedStoreOptions options, std::unique_ptr<ShardReplicaStore> replica);

  Result<ShardReply> Route(ShardRequest request);
  // With map_mu_ held: waits until a map is known.
  Status AwaitMap(std::unique_lock<std::mutex>& lock,
                  std::chrono::steady_clock::time_point deadline);
  // Whether a refused request may be sent again; pauses first if so.
  bool RetryAfter(const Status& refused, std::chrono::steady_clock::time_point deadline);
  Result<ShardReply> LeadWrite(LedShard& led, std::unique_lock<std::mutex>& lock,
                               const ShardRequest& request);
  Result<ShardReply> LeadList(const ShardRequest& request);
  // Waits until `led` serves `epoch`; Unavailable/FailedPrecondition if not in time.
  Status AwaitServing(LedShard& led, std::unique_lock<std::mutex>& lock, int64_t epoch);
  void RunBatch(uint32_t shard, LedShard& led, std::unique_lock<std::mutex>& lock);
  Status Replicate(uint32_t shard, int64_t epoch, const std::vector<uint32_t>& replicas,
                   const std::vector<std::shared_ptr<ShardPeer>>& peers, LogVersion prev,
                   const std::vector<ShardEntry>& entries);
  void CatchUpLoop();
  Status CatchUp(uint32_t shard, int64_t epoch, const std::vector<uint32_t>& replicas);
  Status PullFrom(ShardPeer& source, uint32_t shard, int64_t epoch, const ShardPosition& mine,
                  LogVersion target);
  Status PushTo(ShardPeer& replica, uint32_t shard, int64_t epoch, const ShardPosition& position,
                LogVersion applied);
  std::shared_ptr<ShardPeer> PeerFor(uint32_t node);
  Status Gate() const;

  const ShardedStoreOptions options_;
  std::unique_ptr<ShardReplicaStore> replica_;
  std::vector<std::unique_ptr<LedShard>> led_;

  std::mutex map_mu_;
  cluster::ShardMap map_;                                 // guarded by map_mu_
  std::map<uint32_t, std::shared_ptr<ShardPeer>> peers_;  // guarded by map_mu_
  std::condition_variable map_cv_;                        // a map arrived

  std::mutex catch_up_mu_;
  std::condition_variable catch_up_cv_;
  bool catch_up_wanted_ = false;     // guarded by catch_up_mu_
  bool stopping_ = false;            // guarded by catch_up_mu_
  std::string last_catch_up_error_;  // guarded by catch_up_mu_
  std::thread catch_up_thread_;
};

}  // namespace tessera::meta
