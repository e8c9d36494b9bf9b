#include "node/node_command.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <thread>

#include "common/units.h"
#include "node/http_api.h"
#include "node/storage_node.h"

namespace tessera::node {
namespace {

struct NodeFlags {
  std::string drives;
  std::string listen = "127.0.0.1:8080";
  std::string protection = "+2";
  std::string state_dir;
  std::string max_file_size = "1T";
  std::string segment_size = "64M";
  int compact_interval = 30;
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

int RunNode(const NodeFlags& flags) {
  NodeOptions options;
  options.drive_paths = SplitCommas(flags.drives);
  if (options.drive_paths.empty()) {
    spdlog::error("--drives needs at least one directory");
    return 2;
  }
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
  options.state_dir = flags.state_dir;
  if (options.state_dir.empty()) {
    std::filesystem::path first = std::filesystem::absolute(options.drive_paths.front());
    options.state_dir = (first.lexically_normal().parent_path() / "state").string();
  }
  size_t colon = flags.listen.rfind(':');
  int port = colon == std::string::npos ? -1 : std::atoi(flags.listen.c_str() + colon + 1);
  if (colon == std::string::npos || port <= 0 || port > 65535) {
    spdlog::error("--listen '{}' must be HOST:PORT", flags.listen);
    return 2;
  }
  std::string host = flags.listen.substr(0, colon);

  // Signals are taken by a dedicated thread, so every other thread blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Result<std::unique_ptr<StorageNode>> node = StorageNode::Open(options);
  if (!node.ok()) {
    spdlog::error("cannot start node: {}", node.status().ToString());
    return 1;
  }
  httplib::Server server;
  int threads = flags.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(10000);
  // Small responses must not wait for the peer's delayed ACK.
  server.set_tcp_nodelay(true);
  server.set_read_timeout(300, 0);
  server.set_write_timeout(300, 0);
  RegisterHttpApi(server, **node);
  if (!server.bind_to_port(host, port)) {
    spdlog::error("cannot listen on {}: address in use or not available", flags.listen);
    return 1;
  }
  RaiseListenBacklog(port);
  std::thread waiter([&server, signals] {
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("signal {}: stopping", received);
    server.stop();
  });
  spdlog::info(
      "node {} of cluster {} serving http://{} with protection {}, {} drive(s), state in {}",
      (*node)->state().array_id, (*node)->state().cluster_guid, flags.listen,
      options.protection.ToString(), options.drive_paths.size(), options.state_dir);
  server.listen_after_bind();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void AddNodeCommand(CLI::App& app, std::shared_ptr<int> exit_code) {
  auto flags = std::make_shared<NodeFlags>();
  CLI::App* cmd = app.add_subcommand("node", "Run a storage node serving the HTTP API");
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
  cmd->add_option("--compact-interval", flags->compact_interval,
                  "Seconds between background compaction passes (0: off)")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "HTTP worker threads")->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunNode(*flags); });
}

}  // namespace tessera::node
