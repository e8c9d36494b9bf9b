#include "images/images_command.h"

#include <httplib.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <optional>
#include <thread>

#include "cli/node_resolver.h"
#include "common/host_port.h"
#include "common/http_worker_pool.h"
#include "common/listen_socket.h"
#include "common/object_name.h"
#include "common/stop_on_signal.h"
#include "common/thread_name.h"
#include "images/cluster_store.h"
#include "images/image_service.h"

namespace tessera::images {
namespace {

struct Flags {
  std::string listen = "127.0.0.1:9292";
  std::optional<std::string> node, cluster;
  std::string ns = "_images";
  std::string admin_token;
  double lease_seconds = 60;
  int threads = 16;
};

int Run(const Flags& flags) {
  Result<HostPort> listen = ParseHostPort(flags.listen, "--listen '" + flags.listen + "'");
  if (!listen.ok()) {
    spdlog::error("{}", listen.status().message());
    return 2;
  }
  if (Status s = ValidateNamespace(flags.ns); !s.ok()) {
    spdlog::error("--namespace: {}", s.message());
    return 2;
  }
  // Written so that NaN fails too.
  if (!(flags.lease_seconds >= 1 && flags.lease_seconds <= 86400)) {
    spdlog::error("--upload-lease must be 1 to 86400 seconds, got {}", flags.lease_seconds);
    return 2;
  }
  // A node or cluster file that can never work is a usage error now, not a
  // 404 on every request later; a cluster that does not answer yet is not.
  if (Result<std::string> node = cli::ResolveNode(flags.node, flags.cluster); !node.ok()) {
    if (node.status().code() != StatusCode::kUnavailable) {
      spdlog::error("{}", node.status().message());
      return 2;
    }
    spdlog::warn("{} (starting anyway: the service uses the first node that answers)",
                 node.status().message());
  }
  if (Status free = CheckCanListen(listen->host, listen->port); !free.ok()) {
    spdlog::error("{}", free.message());
    return 1;
  }
  // Signals are taken by a dedicated thread, so every other thread blocks them.
  BlockStopSignals();
  signal(SIGPIPE, SIG_IGN);

  // Resolved on first use and again after a node stops answering, so the
  // service starts before the cluster and follows it when nodes come and go.
  ClusterStore store(
      [node = flags.node, cluster = flags.cluster] { return cli::ResolveNode(node, cluster); },
      flags.ns);
  ImageServiceOptions options;
  options.admin_token = flags.admin_token;
  options.lease_ms = static_cast<int64_t>(flags.lease_seconds * 1000);
  ImageService service(store, options);

  httplib::Server server;
  int threads = flags.threads;
  server.new_task_queue = [threads] { return new HttpWorkerPool(threads); };
  server.set_tcp_nodelay(true);
  server.set_socket_options(SetExclusiveListenOptions);
  server.set_read_timeout(300, 0);
  server.set_write_timeout(300, 0);
  // No payload limit: httplib would apply it to streamed uploads too.
  service.Register(server);
  if (!server.bind_to_port(listen->host, listen->port)) {
    spdlog::error("cannot listen on {}: address in use or not available", flags.listen);
    return 1;
  }
  auto stopper = std::make_unique<StopOnSignal>([&server] { server.stop(); });
  std::thread sweeper([&service] {
    SetThreadName("orphan-sweep");
    if (Status s = service.SweepOrphans(); !s.ok()) {
      spdlog::warn("orphan sweep: {}", s.ToString());
    }
  });
  spdlog::info("image service on http://{} keeping images in namespace '{}'{}", flags.listen,
               flags.ns, flags.admin_token.empty() ? " (any token accepted)" : "");
  bool ok = server.listen_after_bind();
  sweeper.join();
  stopper.reset();
  return ok ? 0 : 1;
}

}  // namespace

void AddImagesCommand(CLI::App& app, std::shared_ptr<int> exit_code) {
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "images", "Serve the OpenStack Image API v2 (Glance), images stored in the cluster");
  cmd->add_option("--listen", flags->listen, "HOST:PORT to serve on")->capture_default_str();
  cmd->add_option("--node", flags->node, "a node's URL (http://HOST:PORT)");
  cmd->add_option("--cluster", flags->cluster, "a cluster.json: use any live node");
  cmd->add_option("--namespace", flags->ns, "cluster namespace for image records and bytes")
      ->capture_default_str();
  cmd->add_option("--admin-token", flags->admin_token,
                  "require this X-Auth-Token on every request (default: accept any)");
  cmd->add_option("--upload-lease", flags->lease_seconds,
                  "seconds after which an upload whose service stopped renewing it is "
                  "abandoned and its image queued again")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads, "request threads")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = Run(*flags); });
}

}  // namespace tessera::images
