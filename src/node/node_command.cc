#include "node/node_command.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "cluster/config/config_uri.h"
#include "common/host_port.h"
#include "common/http_worker_pool.h"
#include "common/listen_socket.h"
#include "common/stop_on_signal.h"
#include "common/units.h"
#include "jobs/flexprotect.h"
#include "jobs/job_engine.h"
#include "meta/sharded_metadata_store.h"
#include "node/cluster_agent.h"
#include "node/cluster_jobs.h"
#include "node/http_api.h"
#include "node/packing_api.h"
#include "node/storage_node.h"
#include "rpc/meta_server.h"
#include "rpc/piece_server.h"
#include "rpc/remote_piece_store.h"
#include "rpc/remote_shard_peer.h"
#include "rpc/rpc_server.h"

namespace tessera::node {
namespace {

struct NodeFlags {
  std::string config;
  std::string rpc_listen;
  std::string drives;
  std::string listen = "127.0.0.1:8080";
  std::string protection = "+2";
  std::string state_dir;
  std::string max_file_size = "1T";
  std::string segment_size = "64M";
  int compact_interval = 30;
  int delete_grace = 30;
  int threads = 64;
};

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Debian's cpp-httplib is a compiled library whose listen backlog is fixed at
// 5; a burst of clients connecting at once then loses SYNs and waits a second
// to retry. Calling listen() again on the listening socket raises the backlog.
void RaiseListenBacklog(int port) {
  for (int fd = 3; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    int bound = addr.ss_family == AF_INET
                    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                    : ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (bound == port) ::listen(fd, 1024);
  }
}

// The drives and the state dir, which every node takes from its flags.
// `path` made absolute, with symlinks, "." and ".." resolved as far as it
// exists; the text itself if even that fails.
std::string CanonicalPath(const std::string& path) {
  std::error_code error;
  std::filesystem::path canonical =
      std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error);
  if (error) return path;
  std::string text = canonical.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();  // "d0/" is "d0"
  return text;
}

int DrivesAndState(const NodeFlags& flags, NodeOptions& options) {
  options.drive_paths = SplitCommas(flags.drives);
  if (options.drive_paths.empty()) {
    spdlog::error("--drives needs at least one directory");
    return 2;
  }
  options.state_dir = flags.state_dir;
  if (options.state_dir.empty()) {
    std::filesystem::path first = std::filesystem::absolute(options.drive_paths.front());
    options.state_dir = (first.lexically_normal().parent_path() / "state").string();
  }
  // Two names for one directory would open it twice: the second would be
  // refused as in use, and the node would count a drive it does not have.
  std::map<std::string, std::string> named;  // canonical path -> as given
  for (const std::string& path : options.drive_paths) {
    auto [it, added] = named.emplace(CanonicalPath(path), path);
    if (!added) {
      spdlog::error("--drives names one directory twice: '{}' and '{}'", it->second, path);
      return 2;
    }
  }
  if (auto it = named.find(CanonicalPath(options.state_dir)); it != named.end()) {
    spdlog::error("--state '{}' is also drive '{}': give the node state a directory of its own",
                  options.state_dir, it->second);
    return 2;
  }
  return 0;
}

// A standalone node takes its settings from flags.
int StandaloneOptions(const NodeFlags& flags, NodeOptions& options) {
  Result<layout::ProtectionPolicy> policy = layout::ProtectionPolicy::Parse(flags.protection);
  if (!policy.ok()) {
    spdlog::error("{}", policy.status().message());
    return 2;
  }
  options.protection = *policy;
  std::optional<uint64_t> max_size = ParseSize(flags.max_file_size);
  if (!max_size || *max_size == 0) {
    spdlog::error("--max-file-size '{}' is not a size (e.g. 512G, 1T)", flags.max_file_size);
    return 2;
  }
  options.max_file_size = *max_size;
  std::optional<uint64_t> segment_size = ParseSize(flags.segment_size);
  if (!segment_size || *segment_size < kMiB) {
    spdlog::error("--segment-size '{}' must be a size of at least 1M", flags.segment_size);
    return 2;
  }
  options.drive_options.segment_size = *segment_size;
  options.compact_interval_seconds = flags.compact_interval;
  options.delete_grace = std::chrono::seconds(flags.delete_grace);
  return 0;
}

// A cluster node takes its settings from the shared configuration (they
// were validated when written, so they parse).
void ClusterOptions(const std::map<std::string, cluster::config::SettingValue>& settings,
                    NodeOptions& options, int& threads) {
  options.protection = *layout::ProtectionPolicy::Parse(settings.at("protection").canonical);
  options.max_file_size = static_cast<uint64_t>(settings.at("max_file_size").number);
  options.drive_options.segment_size = static_cast<uint64_t>(settings.at("segment_size").number);
  options.compact_interval_seconds =
      static_cast<int>(settings.at("compact_interval_seconds").number);
  options.delete_grace =
      std::chrono::seconds(static_cast<int64_t>(settings.at("delete_grace_seconds").number));
  threads = static_cast<int>(settings.at("http_threads").number);
  if (settings.at("debug_logging").number) spdlog::set_level(spdlog::level::debug);
}

// Live settings the node itself applies (the agent handles the master_* ones).
Status ApplyLiveSetting(StorageNode& node, const std::string& name,
                        const cluster::config::SettingValue& value) {
  if (name == "max_file_size") {
    node.SetMaxFileSize(static_cast<uint64_t>(value.number));
  } else if (name == "compact_interval_seconds") {
    node.SetCompactInterval(static_cast<int>(value.number));
  } else if (name == "debug_logging") {
    spdlog::set_level(value.number ? spdlog::level::debug : spdlog::level::info);
  } else {
    return Status::InvalidArgument("setting " + name + " cannot be applied live by a node");
  }
  spdlog::info("applied {} = {}", name, value.canonical);
  return Status::Ok();
}

// One RemotePieceStore per peer for the life of the process: a peer that
// leaves the group and comes back, or restarts on another port, keeps its
// store (re-pointed with SetAddress), so pieces appended before the change
// are still sent, or counted lost, by the store a later Sync reaches.
// Called from the agent's peer thread only.
class PeerStores {
 public:
  struct Peers {
    std::map<uint32_t, std::shared_ptr<io::PieceStore>> pieces;
    std::map<uint32_t, std::shared_ptr<meta::ShardPeer>> shards;
  };

  Peers For(uint32_t self, const std::map<uint32_t, std::string>& peers,
            const std::function<int64_t()>& epoch) {
    Peers out;
    for (const auto& [id, address] : peers) {
      std::shared_ptr<rpc::RemotePieceStore>& store = stores_[id];
      std::shared_ptr<rpc::RemoteShardPeer>& shards = shard_peers_[id];
      if (!store) {
        rpc::RemotePieceStoreOptions options;
        options.sender = self;
        store = std::make_shared<rpc::RemotePieceStore>(id, address, epoch, options);
        shards = std::make_shared<rpc::RemoteShardPeer>(id, address);
        spdlog::info("peer {} serves pieces and metadata at {}", id, address);
      } else if (store->address() != address) {
        spdlog::info("peer {} moved its RPC to {}", id, address);
        store->SetAddress(address);
        shards->SetAddress(address);
      }
      out.pieces[id] = store;
      out.shards[id] = shards;
    }
    return out;
  }

 private:
  std::map<uint32_t, std::shared_ptr<rpc::RemotePieceStore>> stores_;
  std::map<uint32_t, std::shared_ptr<rpc::RemoteShardPeer>> shard_peers_;
};

// The agent as the metadata store's threads reach it: they outlive the
// agent (the store goes with the node), so they call through this, which
// the shutdown clears before the agent goes.
struct AgentRef {
  std::mutex mu;
  ClusterAgent* agent = nullptr;

  Status Gate() {
    std::lock_guard<std::mutex> lock(mu);
    return agent ? agent->MetadataGate() : Status::Unavailable("node is stopping");
  }
  void RefreshSoon() {
    std::lock_guard<std::mutex> lock(mu);
    if (agent) agent->RefreshSoon();
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu);
    agent = nullptr;
  }
};

// Connects to etcd, retrying for up to a minute while it is unreachable (a
// node may start before etcd does); other errors are final. `stopped` says
// a SIGINT or SIGTERM ended the wait (the result is then the last error).
Result<std::unique_ptr<ClusterAgent>> ConnectWithRetry(const NodeFlags& flags,
                                                       const std::string& state_dir,
                                                       bool* stopped) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    Result<std::unique_ptr<ClusterAgent>> agent =
        ClusterAgent::Connect(flags.config, flags.listen, state_dir);
    if (agent.ok() || agent.status().code() != StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      return agent;
    }
    spdlog::warn("{}; retrying", agent.status().message());
    // Signals are blocked by now; a stop asked for while etcd is away is kept.
    if (WaitForStopSignal(std::chrono::seconds(1))) {
      *stopped = true;
      return agent;
    }
  }
}

int RunNode(const NodeFlags& flags, bool settings_from_flags) {
  NodeOptions options;
  if (int code = DrivesAndState(flags, options); code != 0) return code;
  int threads = flags.threads;
  std::unique_ptr<ClusterAgent> agent;
  if (flags.config.empty()) {
    if (!flags.rpc_listen.empty()) {
      spdlog::error("--rpc-listen needs --config: only a cluster node serves the piece RPC");
      return 2;
    }
    if (int code = StandaloneOptions(flags, options); code != 0) return code;
  } else {
    if (settings_from_flags) {
      spdlog::error(
          "with --config, settings come from the cluster configuration: set them "
          "with `tessera config set NAME VALUE` instead of --protection, "
          "--max-file-size, --segment-size, --compact-interval, --delete-grace or --threads");
      return 2;
    }
    if (Result<cluster::config::ConfigUri> uri = cluster::config::ParseConfigUri(flags.config);
        !uri.ok()) {
      spdlog::error("--config: {}", uri.status().message());
      return 2;
    }
  }
  Result<HostPort> listen = ParseHostPort(flags.listen, "--listen '" + flags.listen + "'");
  if (!listen.ok()) {
    spdlog::error("{}", listen.status().message());
    return 2;
  }
  std::vector<HostPort> to_serve = {*listen};
  if (!flags.rpc_listen.empty()) {
    Result<HostPort> rpc_listen = ParseHostPort(
        flags.rpc_listen, "--rpc-listen '" + flags.rpc_listen + "'", PortZero::kAnyFreePort);
    if (!rpc_listen.ok()) {
      spdlog::error("{}", rpc_listen.status().message());
      return 2;
    }
    if (rpc_listen->port != 0) to_serve.push_back(*rpc_listen);
  }
  // Before drives are formatted or the cluster joined: a node that cannot
  // serve must change nothing.
  for (const HostPort& address : to_serve) {
    if (Status free = CheckCanListen(address.host, address.port); !free.ok()) {
      spdlog::error("{}", free.message());
      return 1;
    }
  }
  const std::string& host = listen->host;
  const int port = listen->port;

  // Signals are taken by a dedicated thread, so every other thread blocks them.
  BlockStopSignals();
  signal(SIGPIPE, SIG_IGN);

  if (!flags.config.empty()) {
    bool stopped = false;
    Result<std::unique_ptr<ClusterAgent>> connected =
        ConnectWithRetry(flags, options.state_dir, &stopped);
    if (stopped) return 0;
    if (!connected.ok()) {
      spdlog::error("cannot join the cluster: {}", connected.status().ToString());
      return 1;
    }
    agent = std::move(connected).value();
    ClusterOptions(agent->settings(), options, threads);
  }
  auto agent_ref = std::make_shared<AgentRef>();
  std::unique_ptr<meta::MetadataStore> metadata;
  meta::ShardedMetadataStore* shards = nullptr;
  if (agent) {
    agent_ref->agent = agent.get();
    meta::ShardedStoreOptions store_options;
    store_options.self = agent->array_id();
    store_options.shard_count = agent->shard_count();
    store_options.gate = [agent_ref] { return agent_ref->Gate(); };
    store_options.map_is_stale = [agent_ref] { agent_ref->RefreshSoon(); };
    Result<std::unique_ptr<meta::ShardedMetadataStore>> opened =
        meta::ShardedMetadataStore::Open(options.state_dir + "/shards", store_options);
    if (!opened.ok()) {
      spdlog::error("cannot open the metadata shards: {}", opened.status().ToString());
      return 1;
    }
    shards = opened->get();
    metadata = std::move(opened).value();
  }
  Result<std::unique_ptr<StorageNode>> node = StorageNode::Open(options, std::move(metadata));
  if (!node.ok()) {
    spdlog::error("cannot start node: {}", node.status().ToString());
    return 1;
  }
  ClusterHooks hooks;
  std::unique_ptr<rpc::PieceServer> piece_server;
  std::unique_ptr<rpc::MetaServer> meta_server;
  std::unique_ptr<rpc::RpcServer> rpc_server;
  PeerStores peer_stores;
  // On every way out: the RPC server's handlers ask the agent for the
  // epoch, the agent's threads call into the node and the peer stores, and
  // the peer stores ask the agent too; so the server stops first, then the
  // agent, then the node lets go of the peer stores.
  // The job engine uses all of them, so it stops before any.
  std::unique_ptr<jobs::JobEngine> job_engine;
  struct StopInOrder {
    std::unique_ptr<jobs::JobEngine>& job_engine;
    std::unique_ptr<ClusterAgent>& agent;
    std::unique_ptr<rpc::RpcServer>& rpc_server;
    StorageNode* node;
    meta::ShardedMetadataStore* shards;
    AgentRef& agent_ref;
    ~StopInOrder() {
      job_engine.reset();
      if (rpc_server) rpc_server->Shutdown();
      node->SetCommitGate({});
      agent_ref.Clear();
      agent.reset();
      node->SetPeers({});
      if (shards) shards->SetPeers({});
    }
  } stop_in_order{job_engine, agent, rpc_server, node->get(), shards, *agent_ref};
  if (agent) {
    StorageNode* raw = node->get();
    ClusterAgent* a = agent.get();
    piece_server = std::make_unique<rpc::PieceServer>(a->array_id(), &raw->local_pieces(),
                                                      [a] { return a->epoch(); });
    std::string rpc_listen =
        flags.rpc_listen.empty() ? HostPort{host, 0}.ToString() : flags.rpc_listen;
    meta_server = std::make_unique<rpc::MetaServer>(shards);
    Result<std::unique_ptr<rpc::RpcServer>> started =
        rpc::RpcServer::Start(rpc_listen, {piece_server.get(), meta_server.get()});
    if (!started.ok()) {
      spdlog::error("cannot serve the piece RPC on {}: {}", rpc_listen,
                    started.status().ToString());
      return 1;
    }
    rpc_server = std::move(started).value();
    Status joined =
        agent->Join([raw] { return raw->UpDriveLnums(); },
                    [raw](const std::string& name, const cluster::config::SettingValue& value) {
                      return ApplyLiveSetting(*raw, name, value);
                    },
                    rpc_server->address(),
                    [raw, a, shards, &peer_stores](const std::map<uint32_t, std::string>& peers,
                                                   const std::set<uint32_t>& not_writable) {
                      PeerStores::Peers reach =
                          peer_stores.For(a->array_id(), peers, [a] { return a->epoch(); });
                      raw->SetPeers(std::move(reach.pieces), not_writable);
                      shards->SetPeers(std::move(reach.shards));
                    },
                    [shards](const cluster::ShardMap& map) { shards->SetShardMap(map); });
    if (!joined.ok()) {
      spdlog::error("cannot join the cluster: {}", joined.ToString());
      return 1;
    }
    hooks.write_gate = [a = agent.get()] { return a->WriteGate(); };
    raw->SetCommitGate([a] { return a->WriteGate(); });
    hooks.view = [a = agent.get()] { return a->View(); };
    hooks.protection = [raw, a]() -> Result<nlohmann::json> {
      std::optional<cluster::GroupState> group = a->Group();
      if (!group) return Status::Unavailable("no group known yet");
      jobs::DeviceHealth health(*group);
      ASSIGN_OR_RETURN(jobs::ProtectionSummary s,
                       jobs::SummarizeProtection(raw->metadata(), health));
      return nlohmann::json{{"below_protection", s.below_protection()},
                            {"files", s.files},
                            {"bytes", s.bytes},
                            {"files_at_risk", s.files_at_risk},
                            {"bytes_at_risk", s.bytes_at_risk},
                            {"units_at_risk", s.units_at_risk},
                            {"files_unavailable", s.files_unavailable},
                            {"bytes_unavailable", s.bytes_unavailable},
                            {"failed_devices", health.FailedDevices()},
                            {"array_id", a->array_id()}};
    };
    job_engine = std::make_unique<jobs::JobEngine>(
        a->client(), a->cluster(), [a] { return JobEngineInputs(*a); },
        [raw, a](const cluster::JobRecord& record) { return MakeClusterJob(record, *raw, *a); },
        jobs::JobEngine::Options{});
    job_engine->Start();
  }
  httplib::Server server;
  server.new_task_queue = [threads] { return new HttpWorkerPool(threads); };
  server.set_keep_alive_max_count(10000);
  // Small responses must not wait for the peer's delayed ACK.
  server.set_tcp_nodelay(true);
  server.set_socket_options(SetExclusiveListenOptions);
  server.set_read_timeout(300, 0);
  server.set_write_timeout(300, 0);
  RegisterHttpApi(server, **node, std::move(hooks));
  RegisterPackingApi(server, **node);
  if (!server.bind_to_port(host, port)) {
    spdlog::error("cannot listen on {}: address in use or not available", flags.listen);
    return 1;
  }
  RaiseListenBacklog(port);
  auto stopper = std::make_unique<StopOnSignal>([&server] { server.stop(); });
  if (agent) {
    spdlog::info(
        "node {} (lnn {}) of cluster '{}' serving http://{} with protection {}, {} "
        "drive(s), state in {}",
        agent->array_id(), agent->lnn(), agent->cluster(), flags.listen,
        options.protection.ToString(), options.drive_paths.size(), options.state_dir);
  } else {
    spdlog::info(
        "node {} of cluster {} serving http://{} with protection {}, {} drive(s), state in {}",
        (*node)->state().array_id, (*node)->state().cluster_guid, flags.listen,
        options.protection.ToString(), options.drive_paths.size(), options.state_dir);
  }
  server.listen_after_bind();
  stopper.reset();
  if (agent) agent->Leave();  // the others see this node leave now, not at lease expiry
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void AddNodeCommand(CLI::App& app, std::shared_ptr<int> exit_code) {
  auto flags = std::make_shared<NodeFlags>();
  CLI::App* cmd = app.add_subcommand("node", "Run a storage node serving the HTTP API");
  cmd->add_option("--config", flags->config,
                  "Join a cluster: etcd://HOST:PORT[,HOST:PORT...]/tessera/<cluster>/config. "
                  "Settings then come from the cluster configuration (tessera config), not "
                  "from flags");
  cmd->add_option("--rpc-listen", flags->rpc_listen,
                  "With --config: HOST:PORT for the node-to-node piece RPC (default: the "
                  "--listen host, any free port; peers find it in etcd)");
  cmd->add_option("--drives", flags->drives,
                  "Comma-separated drive directories; an empty or missing one is formatted")
      ->required();
  cmd->add_option("--listen", flags->listen, "HOST:PORT to serve the HTTP API on")
      ->capture_default_str();
  cmd->add_option("--protection", flags->protection,
                  "Protection policy for new files: +1..+4, +Nd:Mn, or 2x..8x")
      ->capture_default_str();
  cmd->add_option("--state", flags->state_dir,
                  "Directory for node identity and file metadata (default: 'state' beside the "
                  "first drive)");
  cmd->add_option("--max-file-size", flags->max_file_size, "Largest file accepted (413 above)")
      ->capture_default_str();
  cmd->add_option("--segment-size", flags->segment_size,
                  "Size at which a drive's segment file is sealed and a new one started")
      ->capture_default_str();
  // The same bounds as the cluster settings compact_interval_seconds and
  // http_threads (0 here turns compaction off).
  cmd->add_option("--compact-interval", flags->compact_interval,
                  "Seconds between background compaction passes (0: off)")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  cmd->add_option("--delete-grace", flags->delete_grace,
                  "Seconds the pieces of a replaced or deleted file are kept, so that reads "
                  "already under way finish (0: delete at once)")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "HTTP worker threads")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->callback([cmd, flags, exit_code] {
    bool settings_from_flags = false;
    for (const char* name : {"--protection", "--max-file-size", "--segment-size",
                             "--compact-interval", "--delete-grace", "--threads"}) {
      settings_from_flags = settings_from_flags || cmd->count(name) > 0;
    }
    *exit_code = RunNode(*flags, settings_from_flags);
  });
}

}  // namespace tessera::node
