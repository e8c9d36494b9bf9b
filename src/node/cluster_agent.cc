#include "node/cluster_agent.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cluster/group_notation.h"
#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"
#include "cluster/membership/shard_map_keeper.h"
#include "common/fs_util.h"
#include "common/thread_name.h"
#include "layout/protection_policy.h"
#include "node/hook_runner.h"
#include "node/node_state.h"

namespace tessera::node {
namespace {

using cluster::EtcdClient;
using cluster::config::SettingValue;
using nlohmann::json;

// The cluster's GUID, made by the first node that asks (drives carry it).
Result<std::string> ClusterGuid(EtcdClient* client, const std::string& cluster) {
  const std::string key = cluster::ClusterPrefix(cluster) + "guid";
  RETURN_IF_ERROR(client
                      ->Txn({cluster::Compare::Absent(key)},
                            {cluster::TxnOp::Put(key, NodeState::New().cluster_guid)}, {})
                      .status());
  ASSIGN_OR_RETURN(cluster::GetResult got, client->Get(key));
  if (!got.kv || got.kv->value.empty()) return Status::Corruption(key + " is empty");
  return got.kv->value;
}

// The notation after "new group: " (with its <initiator,epoch> stamp), or "".
std::string GroupOfLogLine(const std::string& line) {
  constexpr std::string_view kMarker = "new group: ";
  size_t at = line.find(kMarker);
  return at == std::string::npos ? "" : line.substr(at + kMarker.size());
}

}  // namespace

Result<std::unique_ptr<ClusterAgent>> ClusterAgent::Connect(const std::string& config_uri,
                                                            const std::string& api_address,
                                                            const std::string& state_dir) {
  std::unique_ptr<ClusterAgent> agent(new ClusterAgent());
  ASSIGN_OR_RETURN(cluster::config::ConfigUri uri, cluster::config::ParseConfigUri(config_uri));
  ASSIGN_OR_RETURN(agent->cluster_, cluster::config::ClusterNameFromConfigRoot(uri.root));
  agent->root_ = uri.root;
  agent->state_dir_ = state_dir;
  agent->endpoints_ = uri.EtcdEndpoints();
  ASSIGN_OR_RETURN(agent->client_, EtcdClient::Create(agent->endpoints_));
  EtcdClient* client = agent->client_.get();
  const std::string& name = agent->cluster_;

  Result<std::string> guid = ClusterGuid(client, name);
  if (!guid.ok()) {
    return Status::Unavailable("cannot reach etcd at " + uri.EtcdEndpoints() + ": " +
                               guid.status().message());
  }
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Status::IOError("creating state directory " + state_dir + ": " + ec.message());
  Result<NodeState> loaded = NodeState::Load(state_dir);
  if (loaded.ok()) {
    if (loaded->cluster_guid != *guid) {
      return Status::FailedPrecondition("state directory " + state_dir + " belongs to cluster " +
                                        loaded->cluster_guid + ", not to '" + name + "' (" + *guid +
                                        ")");
    }
    ASSIGN_OR_RETURN(std::vector<cluster::NodeRecord> nodes, cluster::ListNodes(client, name));
    std::string rpc_address;
    for (const cluster::NodeRecord& n : nodes) {
      if (n.array_id != loaded->array_id) continue;
      agent->lnn_ = n.lnn;
      rpc_address = n.rpc_address;
    }
    if (agent->lnn_ == 0) {
      return Status::FailedPrecondition("node " + std::to_string(loaded->array_id) +
                                        " is not registered in cluster '" + name +
                                        "' (was it removed?)");
    }
    agent->array_id_ = loaded->array_id;
    RETURN_IF_ERROR(
        cluster::UpdateNodeAddresses(client, name, agent->array_id_, api_address, rpc_address));
  } else if (loaded.status().code() == StatusCode::kNotFound) {
    ASSIGN_OR_RETURN(cluster::NodeRecord record, cluster::RegisterNode(client, name, api_address));
    NodeState state;
    state.cluster_guid = *guid;
    state.array_id = record.array_id;
    RETURN_IF_ERROR(state.Save(state_dir));
    agent->array_id_ = record.array_id;
    agent->lnn_ = record.lnn;
    spdlog::info("registered in cluster '{}' as array id {}, lnn {}", name, record.array_id,
                 record.lnn);
  } else {
    return loaded.status();
  }

  ClusterAgent* raw = agent.get();
  ASSIGN_OR_RETURN(agent->config_,
                   cluster::config::ConfigWatcher::Create(
                       client, uri.root, std::to_string(agent->array_id_),
                       [raw](const std::string& setting, const SettingValue& value) {
                         return raw->ApplySetting(setting, value);
                       }));
  auto running = agent->config_->running();
  {
    std::lock_guard<std::mutex> lock(agent->mu_);
    agent->takeover_command_ = running["master_takeover_command"].canonical;
    agent->release_command_ = running["master_release_command"].canonical;
  }
  // metadata_shards is immutable: once the cluster has a shard map, its
  // shard count is the cluster's, whatever the setting says now.
  agent->shard_count_ = static_cast<uint32_t>(running["metadata_shards"].number);
  ASSIGN_OR_RETURN(std::optional<cluster::ShardMap> map, cluster::ReadShardMap(client, name));
  if (map && !map->shards.empty() && map->shards.size() != agent->shard_count_) {
    spdlog::warn("metadata_shards is immutable: the cluster keeps its {} shards, not {}",
                 map->shards.size(), agent->shard_count_);
    agent->shard_count_ = static_cast<uint32_t>(map->shards.size());
  }
  return agent;
}

ClusterAgent::~ClusterAgent() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  peer_cv_.notify_all();
  hook_cv_.notify_all();
  if (nodes_watcher_) nodes_watcher_->Stop();
  if (shard_map_watcher_) shard_map_watcher_->Stop();
  if (peer_thread_.joinable()) peer_thread_.join();
  if (hook_thread_.joinable()) hook_thread_.join();
  if (elector_) elector_->Stop();
  membership_.reset();
  if (config_) config_->Stop();
  if (log_fd_ >= 0) close(log_fd_);
}

std::map<std::string, SettingValue> ClusterAgent::settings() const { return config_->running(); }

Status ClusterAgent::ApplySetting(const std::string& name, const SettingValue& value) {
  if (name == "master_takeover_command" || name == "master_release_command") {
    std::lock_guard<std::mutex> lock(mu_);
    (name == "master_takeover_command" ? takeover_command_ : release_command_) = value.canonical;
    return Status::Ok();
  }
  // Read by the job engine and its jobs when they need them.
  if (name.starts_with("flexprotect_") || name.starts_with("mediascan_") ||
      name.starts_with("packing_") || name.starts_with("smartpools_") ||
      name.starts_with("sstore_")) {
    return Status::Ok();
  }
  if (name == "master_priority") {
    RETURN_IF_ERROR(cluster::SetPriority(client_.get(), cluster_, array_id_, value.number));
    RememberPublishedPriority(value.number);
    return Status::Ok();
  }
  ApplyFn apply;
  {
    std::lock_guard<std::mutex> lock(mu_);
    apply = apply_;
  }
  if (!apply) return Status::Unavailable("the node is still starting");
  return apply(name, value);
}

// <state>/published-priority: the master_priority setting this node last
// wrote to its priorities key, so that a change made while it was away is
// told from the priority a master raised or an operator set since.
Status ClusterAgent::PublishPriorityAtJoin(int64_t configured) {
  const std::string key = cluster::PriorityKey(cluster_, array_id_);
  std::optional<int64_t> published;
  {
    std::ifstream in(state_dir_ + "/published-priority");
    int64_t value = 0;
    if (in >> value) published = value;
  }
  if (published && *published != configured) {
    spdlog::info("master_priority changed to {} while this node was away: publishing it",
                 configured);
    RETURN_IF_ERROR(cluster::SetPriority(client_.get(), cluster_, array_id_, configured));
  } else {
    RETURN_IF_ERROR(client_
                        ->Txn({cluster::Compare::Absent(key)},
                              {cluster::TxnOp::Put(key, std::to_string(configured))}, {})
                        .status());
  }
  RememberPublishedPriority(configured);
  return Status::Ok();
}

void ClusterAgent::RememberPublishedPriority(int64_t priority) {
  Status st =
      WriteFileAtomically(state_dir_ + "/published-priority", std::to_string(priority) + "\n");
  if (!st.ok()) spdlog::warn("remembering the published master priority: {}", st.ToString());
}

void ClusterAgent::LogGroup(const std::string& line) {
  spdlog::info("{}", line);
  {
    std::lock_guard<std::mutex> lock(mu_);
    peers_dirty_ = true;
  }
  peer_cv_.notify_all();
  std::lock_guard<std::mutex> lock(log_mu_);
  if (log_fd_ < 0) return;
  std::string group = GroupOfLogLine(line);
  if (!group.empty() && group == last_logged_group_) return;
  last_logged_group_ = std::move(group);
  std::string text = line + "\n";
  if (write(log_fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    spdlog::warn("could not append to {}/group.log", state_dir_);
  }
}

void ClusterAgent::RefreshSoon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    peers_dirty_ = true;
  }
  peer_cv_.notify_all();
}

void ClusterAgent::OnMasterChange(bool is_master, int64_t token) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (is_master) peers_dirty_ = true;  // a new master publishes the shard map
    hook_queue_.emplace_back(is_master, token);
  }
  peer_cv_.notify_all();
  hook_cv_.notify_all();
}

// Hooks run here, in the order of the transitions, so a slow hook never
// keeps the elector from stepping down.
void ClusterAgent::HookLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    hook_cv_.wait(lock, [this] { return stopping_ || !hook_queue_.empty(); });
    if (hook_queue_.empty()) return;  // stopping
    auto [is_master, token] = hook_queue_.front();
    std::string command = is_master ? takeover_command_ : release_command_;
    lock.unlock();
    if (!command.empty()) {
      Status s = RunHook(command, {{"TESSERA_MASTER_TOKEN", std::to_string(token)},
                                   {"TESSERA_ARRAY_ID", std::to_string(array_id_)},
                                   {"TESSERA_CLUSTER", cluster_},
                                   {"TESSERA_MASTER", is_master ? "1" : "0"}});
      if (s.ok()) {
        spdlog::info("master {} hook ran: {}", is_master ? "takeover" : "release", command);
      } else {
        spdlog::error("master {} hook failed: {}", is_master ? "takeover" : "release",
                      s.ToString());
      }
    }
    lock.lock();
    hook_queue_.pop_front();
    hook_cv_.notify_all();
  }
}

void ClusterAgent::PeerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // A group change or a node record change pokes; the timeout is a
    // backstop (a lost watch event, an etcd error on the last read).
    peer_cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stopping_ || peers_dirty_; });
    if (stopping_) return;
    peers_dirty_ = false;
    lock.unlock();
    SyncDrivesIfChanged();
    cluster::MembershipView view = membership_->View();
    Result<std::vector<cluster::NodeRecord>> nodes = cluster::ListNodes(client_.get(), cluster_);
    if (!nodes.ok() || !view.group) {  // the next tick tries again
      lock.lock();
      continue;
    }
    PublishShardMapIfMaster(view);
    std::map<uint32_t, std::string> peers;
    for (const cluster::NodeRecord& n : *nodes) {
      if (n.array_id != array_id_ && !n.rpc_address.empty() &&
          view.group->group.members.count(n.array_id)) {
        peers[n.array_id] = n.rpc_address;
      }
    }
    const std::vector<uint32_t> not_writable = view.group->group.NodesNotWritable().ToVector();
    on_peers_(peers, {not_writable.begin(), not_writable.end()});
    if (on_shard_map_) {
      Result<std::optional<cluster::ShardMap>> map = cluster::ReadShardMap(client_.get(), cluster_);
      if (map.ok() && map->has_value()) on_shard_map_(**map);
    }
    lock.lock();
  }
}

// A drive that failed while the node runs is registered down, as a drive
// missing at start is: the group then lists it and FlexProtect rebuilds it.
void ClusterAgent::SyncDrivesIfChanged() {
  std::vector<uint32_t> now = up_lnums_();
  if (now == synced_lnums_) return;
  Status st = cluster::SyncDriveLnums(client_.get(), cluster_, array_id_, now);
  if (!st.ok()) {  // the next tick tries again
    spdlog::warn("registering this node's drives: {}", st.ToString());
    return;
  }
  spdlog::warn("drives taking writes changed: {} of them now", now.size());
  synced_lnums_ = std::move(now);
}

void ClusterAgent::PublishShardMapIfMaster(const cluster::MembershipView& view) {
  if (!view.quorate || !view.group || !elector_->is_master()) return;
  auto running = config_->running();
  auto policy = layout::ProtectionPolicy::Parse(running["protection"].canonical);
  if (!policy.ok()) return;
  Result<cluster::PublishOutcome> out =
      cluster::PublishShardMap(client_.get(), cluster_, elector_->token(), *view.group,
                               shard_count_, static_cast<uint32_t>(policy->mirror_copies()));
  if (!out.ok()) {  // the next tick tries again
    spdlog::warn("publishing the shard map: {}", out.status().ToString());
  } else if (*out == cluster::PublishOutcome::kWritten) {
    spdlog::info("published the metadata shard map for group epoch {}", view.group->epoch);
  }
}

int64_t ClusterAgent::epoch() const {
  if (!joined_.load()) return 0;
  cluster::MembershipView view = membership_->View();
  return view.group ? view.group->epoch : 0;
}

Status ClusterAgent::Join(UpLnumsFn up_lnums, ApplyFn apply, const std::string& rpc_address,
                          PeersFn on_peers, ShardMapFn on_shard_map) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    apply_ = std::move(apply);
  }
  EtcdClient* client = client_.get();
  if (!rpc_address.empty()) {
    ASSIGN_OR_RETURN(std::vector<cluster::NodeRecord> nodes, cluster::ListNodes(client, cluster_));
    for (const cluster::NodeRecord& n : nodes) {
      if (n.array_id == array_id_) {
        RETURN_IF_ERROR(
            cluster::UpdateNodeAddresses(client, cluster_, array_id_, n.address, rpc_address));
      }
    }
  }
  up_lnums_ = std::move(up_lnums);
  synced_lnums_ = up_lnums_();
  RETURN_IF_ERROR(cluster::SyncDriveLnums(client, cluster_, array_id_, synced_lnums_));
  auto running = config_->running();
  RETURN_IF_ERROR(PublishPriorityAtJoin(running["master_priority"].number));

  const std::string group_log = state_dir_ + "/group.log";
  {
    std::ifstream previous(group_log);
    std::string line;
    while (std::getline(previous, line)) {
      if (std::string group = GroupOfLogLine(line); !group.empty()) last_logged_group_ = group;
    }
  }
  log_fd_ = open(group_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd_ < 0) spdlog::warn("cannot open {}/group.log: {}", state_dir_, strerror(errno));

  cluster::MembershipOptions options;
  options.ttl_seconds = running["node_lease_seconds"].number;
  options.proposer_poll = std::chrono::milliseconds(500);
  ASSIGN_OR_RETURN(
      membership_,
      cluster::Membership::Start(
          client, cluster_, array_id_, options, [this](const std::string& line) { LogGroup(line); },
          [this](const Status& why) {
            spdlog::error("etcd session lost ({}): writes are suspended", why.ToString());
            if (joined_.load()) elector_->Poke();
          }));
  hook_thread_ = std::thread([this] {
    SetThreadName("agent-hooks");
    HookLoop();
  });
  // The elector has a client of its own with short timeouts: a master must
  // notice quickly that it can no longer reach etcd.
  cluster::EtcdClientOptions quick;
  quick.connect_timeout = std::chrono::milliseconds(500);
  quick.request_timeout = std::chrono::milliseconds(1000);
  ASSIGN_OR_RETURN(elector_client_, EtcdClient::Create(endpoints_, quick));
  elector_ = std::make_unique<cluster::MasterElector>(
      elector_client_.get(), cluster_, array_id_,
      [this] {
        cluster::MembershipView v = membership_->View();
        cluster::MasterElector::Inputs in;
        in.quorate = v.quorate;
        in.lease_id = v.lease_id;
        if (v.group) {
          for (const auto& [member, drives] : v.group->group.members) in.members.insert(member);
          for (const cluster::DeviceRef& d : v.group->group.soft_failed) {
            if (d.whole_node()) in.ineligible.insert(d.node);
          }
        }
        return in;
      },
      [this](bool is_master, int64_t token) { OnMasterChange(is_master, token); });
  joined_.store(true);
  if (on_peers) {
    on_peers_ = std::move(on_peers);
    on_shard_map_ = std::move(on_shard_map);
    // A node that restarts within its lease stays in the group, so no group
    // change announces its new RPC address: watch the node records too.
    cluster::WatchOptions watch;
    watch.key = cluster::ClusterPrefix(cluster_) + "nodes/";
    watch.prefix = true;
    nodes_watcher_ =
        std::make_unique<cluster::Watcher>(client, watch, [this](const cluster::WatchUpdate&) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            peers_dirty_ = true;
          }
          peer_cv_.notify_all();
        });
    // Every node routes metadata by the map the master publishes: learn of
    // a new one when it is written, not at the next tick.
    cluster::WatchOptions map_watch;
    map_watch.key = cluster::ShardMapKey(cluster_);
    shard_map_watcher_ = std::make_unique<cluster::Watcher>(
        client, map_watch, [this](const cluster::WatchUpdate&) { RefreshSoon(); });
    peer_thread_ = std::thread([this] {
      SetThreadName("agent-peers");
      PeerLoop();
    });
  }
  return Status::Ok();
}

void ClusterAgent::Leave() {
  if (elector_) elector_->Stop();
  if (elector_ && elector_->is_master()) OnMasterChange(false, elector_->token());
  {  // the release hook runs before the node leaves
    std::unique_lock<std::mutex> lock(mu_);
    hook_cv_.wait(lock, [this] { return hook_queue_.empty() || !hook_thread_.joinable(); });
  }
  if (membership_) membership_->Leave();
}

Status ClusterAgent::WriteGate() const {
  if (!membership_) return Status::Unavailable("node is joining the cluster");
  cluster::MembershipView v = membership_->View();
  if (v.quorate) return Status::Ok();
  return Status::Unavailable("writes suspended: " + v.reason);
}

Status ClusterAgent::MetadataGate() const {
  if (!membership_) return Status::Unavailable("node is joining the cluster");
  cluster::MembershipView v = membership_->View();
  if (v.quorate) return Status::Ok();
  return Status::Unavailable("metadata suspended: this node cannot prove its shard map current (" +
                             v.reason + ")");
}

std::optional<cluster::GroupState> ClusterAgent::Group() const {
  if (!joined_.load()) return std::nullopt;
  cluster::MembershipView view = membership_->View();
  if (!view.group) return std::nullopt;
  return view.group->group;
}

bool ClusterAgent::IsMaster() const {
  return joined_.load() && membership_->View().quorate && elector_->is_master();
}

int64_t ClusterAgent::MasterToken() const { return joined_.load() ? elector_->token() : 0; }

int64_t ClusterAgent::SettingNumber(const std::string& name) const {
  return config_->running()[name].number;
}

json ClusterAgent::View() const {
  json view = {{"array_id", array_id_}, {"lnn", lnn_}, {"cluster", cluster_}};
  if (!membership_) {
    view.update({{"writable", false},
                 {"reason", "node is joining the cluster"},
                 {"session_lost", false},
                 {"epoch", 0},
                 {"group", ""},
                 {"is_master", false},
                 {"master", 0}});
    return view;
  }
  cluster::MembershipView v = membership_->View();
  std::string notation;
  if (v.group) {
    cluster::GroupState g = v.group->group;
    g.sequence = cluster::SerialSequence{v.group->initiator, static_cast<uint64_t>(v.group->epoch)};
    notation = cluster::FormatGroupNotation(g);
  }
  view.update({{"writable", v.quorate},
               {"reason", v.quorate ? "" : v.reason},
               {"session_lost", v.session_lost},
               {"epoch", v.group ? v.group->epoch : 0},
               {"group", notation},
               {"is_master", v.quorate && elector_->is_master()},
               {"master", elector_->known_master()},
               {"quorum",
                {{"configured", v.quorum.configured},
                 {"readable", v.quorum.readable},
                 {"writable", v.quorum.writable},
                 {"read", v.quorum.has_read_quorum},
                 {"write", v.quorum.has_write_quorum}}}});
  return view;
}

}  // namespace tessera::node
