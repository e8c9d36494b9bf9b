// ClusterAgent: what makes a storage node a cluster member (the cluster mode
// of `tessera node --config etcd://HOST:PORT/tessera/<cluster>/config`).
//
// Connect() reaches etcd, establishes the node's identity and reads its
// settings:
//   * a state dir without node.json is a new node: it is registered
//     (RegisterNode: a new array id and the lowest free LNN, address = the
//     API address) and node.json is written with the cluster's GUID (kept
//     in etcd at /tessera/<cluster>/guid, made by the first node);
//   * a state dir with node.json must belong to this cluster (same GUID) and
//     its array id must still be registered; otherwise Connect fails saying
//     which, rather than join under a wrong identity;
//   * settings are read for this array id (ConfigWatcher), so the caller
//     configures the node from settings() before opening it.
// Join() then, with the node's drives open: registers drive lnums the cluster
// has not seen and removes the keys of drives no longer up; publishes the
// node's priority when it has none; starts Membership (leased liveness, the
// group proposer and watcher; every group change goes to the log sink and
// <state>/group.log) and the MasterElector, whose transitions run (in order,
// on a thread of their own, so a slow hook never delays a step-down) the
// master_takeover_command / master_release_command hooks.
//
// After Join, a peer thread hands `on_peers` the other group members' piece
// RPC addresses, and the members whose drives take no new data (soft-failed,
// read-only), whenever the group or a node record changes (and every 2 s);
// on the master the same thread publishes the metadata shard map for each
// new group, fenced by the master's token.
//
// WriteGate() is what the HTTP API asks before a write: OK while the node is
// in a quorate group with a live etcd session, else Unavailable with the
// reason. View() is GET /v1/cluster/view. Leave() revokes the node's lease
// (a clean shutdown: the others see it leave at once).
//
// Threading: thread-safe after Join(); Connect/Join/Leave from one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/config/config_uri.h"
#include "cluster/config/config_watcher.h"
#include "cluster/etcd/etcd_client.h"
#include "cluster/membership/master_elector.h"
#include "cluster/membership/membership.h"
#include "cluster/shard_map.h"
#include "common/status.h"

namespace tessera::node {

class ClusterAgent {
 public:
  // Applies a live setting to the running node (called on the config thread).
  using ApplyFn = cluster::config::ConfigWatcher::ApplyFn;
  // The other members of the current group that serve the piece RPC: array
  // id -> "host:port"; and the members, this node included, that take no new
  // data (GroupState::NodesNotWritable). Called on the agent's peer thread
  // after every group change (and every few seconds while etcd could not
  // be read).
  using PeersFn = std::function<void(const std::map<uint32_t, std::string>& peers,
                                     const std::set<uint32_t>& not_writable)>;
  // The metadata shard map as stored in etcd, handed over on the same thread
  // after the peers (so the peers a map names are known first).
  using ShardMapFn = std::function<void(const cluster::ShardMap& map)>;

  // Errors: InvalidArgument (bad URI or root), Unavailable (etcd),
  // FailedPrecondition (state dir of another cluster, or node not registered).
  static Result<std::unique_ptr<ClusterAgent>> Connect(const std::string& config_uri,
                                                       const std::string& api_address,
                                                       const std::string& state_dir);
  ~ClusterAgent();
  ClusterAgent(const ClusterAgent&) = delete;
  ClusterAgent& operator=(const ClusterAgent&) = delete;

  // Settings as read at Connect (name -> canonical value).
  std::map<std::string, cluster::config::SettingValue> settings() const;
  // The cluster's metadata shard count: the stored shard map's once there is
  // one (metadata_shards is immutable), else the metadata_shards setting.
  uint32_t shard_count() const { return shard_count_; }

  // The lnums of the drives that take writes now.
  using UpLnumsFn = std::function<std::vector<uint32_t>()>;

  // `up_lnums`: the lnums of the drives that take writes, asked at join and
  // then every few seconds, so that a drive that fails while the node runs
  // is registered down (and the group says so). `apply` handles live
  // settings other than the ones the agent handles itself (master_*).
  // `rpc_address` is where this node serves the piece RPC (published in its
  // node record); `on_peers` learns the other members' addresses.
  Status Join(UpLnumsFn up_lnums, ApplyFn apply, const std::string& rpc_address = "",
              PeersFn on_peers = {}, ShardMapFn on_shard_map = {});
  // Re-reads peers and the shard map now instead of at the next tick (a peer
  // named a newer map than the one this node routes by).
  void RefreshSoon();
  void Leave();

  Status WriteGate() const;
  // What the metadata service asks before serving: OK while this node can
  // prove its shard map current (the same condition as WriteGate).
  Status MetadataGate() const;
  // The epoch of the group this node last saw (0: none): piece RPCs carry it.
  int64_t epoch() const;
  nlohmann::json View() const;

  // For the job engine (jobs/job_engine.h): the group this node last saw,
  // whether it is master (and quorate) with which fencing token, and the
  // live flexprotect_* settings. Valid after Join().
  std::optional<cluster::GroupState> Group() const;
  bool IsMaster() const;
  int64_t MasterToken() const;
  // The running value of a numeric setting (int, duration, size, bool).
  int64_t SettingNumber(const std::string& name) const;
  cluster::EtcdClient* client() const { return client_.get(); }

  uint32_t array_id() const { return array_id_; }
  uint32_t lnn() const { return lnn_; }
  const std::string& cluster() const { return cluster_; }

 private:
  ClusterAgent() = default;
  Status ApplySetting(const std::string& name, const cluster::config::SettingValue& value);
  void OnMasterChange(bool is_master, int64_t token);
  void LogGroup(const std::string& line);
  void SyncDrivesIfChanged();
  // Publishes master_priority at join: if absent, or if the setting changed
  // since this node last published it (a change made while it was away).
  Status PublishPriorityAtJoin(int64_t configured);
  void RememberPublishedPriority(int64_t priority);
  void PeerLoop();
  void HookLoop();
  // The master keeps the metadata shard map current (shard_map_keeper.h).
  void PublishShardMapIfMaster(const cluster::MembershipView& view);

  std::string cluster_;
  uint32_t shard_count_ = 0;  // set by Connect
  std::string root_;
  std::string endpoints_;
  std::string state_dir_;
  uint32_t array_id_ = 0;
  uint32_t lnn_ = 0;
  std::unique_ptr<cluster::EtcdClient> client_;
  std::unique_ptr<cluster::config::ConfigWatcher> config_;

  mutable std::mutex mu_;
  ApplyFn apply_;                 // guarded by mu_
  std::string takeover_command_;  // guarded by mu_
  std::string release_command_;   // guarded by mu_
  std::unique_ptr<cluster::EtcdClient> elector_client_;
  std::unique_ptr<cluster::Membership> membership_;
  std::unique_ptr<cluster::MasterElector> elector_;
  PeersFn on_peers_;
  ShardMapFn on_shard_map_;
  UpLnumsFn up_lnums_;                                   // set by Join
  std::vector<uint32_t> synced_lnums_;                   // as last registered; peer thread only
  std::unique_ptr<cluster::Watcher> nodes_watcher_;      // pokes the peer thread
  std::unique_ptr<cluster::Watcher> shard_map_watcher_;  // pokes the peer thread
  std::thread peer_thread_;
  std::condition_variable hook_cv_;
  std::deque<std::pair<bool, int64_t>> hook_queue_;  // transitions to hook; guarded by mu_
  std::thread hook_thread_;
  std::condition_variable peer_cv_;
  bool peers_dirty_ = true;          // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  std::atomic<bool> joined_{false};  // membership_ and elector_ are set
  std::mutex log_mu_;
  int log_fd_ = -1;  // <state>/group.log, guarded by log_mu_
  // The group of its last line, which a restarted node's watcher delivers
  // again: written once, the file stays one line per group change.
  std::string last_logged_group_;  // guarded by log_mu_
};

}  // namespace tessera::node
