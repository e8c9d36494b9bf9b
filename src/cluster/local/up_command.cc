#include "cluster/local/up_command.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cluster/cluster_file.h"
#include "cluster/config/config_store.h"
#include "cluster/etcd/etcd_client.h"
#include "cluster/local/local_plan.h"
#include "cluster/local/process.h"
#include "cluster/local/supervisor.h"
#include "cluster/local/supervisord_config.h"
#include "common/fs_util.h"

namespace tessera::cluster::local {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kLogTailLines = 20;

struct Streams {
  std::ostream& out;
  std::ostream& err;
};

// Thrown inside a command to end it with an exit code after printing why.
struct Exit {
  int code;
};

[[noreturn]] void Fail(const Streams& io, int code, const std::string& message) {
  io.err << "tessera: " << message << std::endl;
  throw Exit{code};
}

void FailIfError(const Streams& io, const Status& status, int code = kExitFailed) {
  if (!status.ok()) Fail(io, code, status.message());
}

std::string AbsoluteDir(const std::string& dir) {
  std::string abs = fs::absolute(dir).lexically_normal().string();
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  return abs;
}

std::string EtcdBinary() {
  const char* env = std::getenv("TESSERA_ETCD");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/etcd";
}

// Free loopback ports, all held open until every one is chosen so that none
// repeats. Another process may still take one before the cluster binds it;
// --base-port avoids the race for callers that know their ports are free.
std::vector<int> FreePorts(int count) {
  std::vector<int> fds;
  std::vector<int> ports;
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) ::close(fd);
      break;
    }
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

// "HOST:PORT" -> port.
int PortOf(const std::string& host_port) {
  return std::atoi(host_port.substr(host_port.rfind(':') + 1).c_str());
}

// Why a node is not ready yet, or "" once it serves and is writable.
std::string NodeNotReady(int port) {
  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(0, 300'000);
  http.set_read_timeout(2, 0);
  auto info = http.Get("/v1/node");
  if (!info) return "GET /v1/node: " + httplib::to_string(info.error()) + " error";
  if (info->status != 200) return "GET /v1/node answered " + std::to_string(info->status);
  auto view = http.Get("/v1/cluster/view");
  if (!view) return "GET /v1/cluster/view: " + httplib::to_string(view.error()) + " error";
  if (view->status != 200) {
    return "GET /v1/cluster/view answered " + std::to_string(view->status) + " " + view->body;
  }
  nlohmann::json j = nlohmann::json::parse(view->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "GET /v1/cluster/view: not JSON: " + view->body;
  if (j.value("writable", false) != true) {
    std::string reason = j.contains("reason") && j["reason"].is_string()
                             ? j["reason"].get<std::string>()
                             : std::string();
    return "not writable yet" + (reason.empty() ? "" : ": " + reason);
  }
  return "";
}

// Warns of every drive a node serves without (a directory that is gone or
// not a directory): the cluster is up, but with less room and protection
// than its layout promises.
void WarnOfDownDrives(const Streams& io, const ClusterFile& file) {
  for (const ClusterFileNode& node : file.nodes) {
    httplib::Client http("127.0.0.1", PortOf(node.api));
    http.set_connection_timeout(0, 300'000);
    http.set_read_timeout(2, 0);
    auto info = http.Get("/v1/node");
    if (!info || info->status != 200) continue;  // WaitForNodes saw it serve
    nlohmann::json j = nlohmann::json::parse(info->body, nullptr, false);
    if (!j.is_object() || !j.contains("drives") || !j["drives"].is_array()) continue;
    size_t up = 0;
    for (const nlohmann::json& d : j["drives"]) {
      if (d.value("status", "") == "up") {
        ++up;
        continue;
      }
      io.err << "tessera: warning: " << node.name << ": drive " << d.value("lnum", 0) << " ("
             << d.value("path", "?") << ") is " << d.value("status", "?") << ": "
             << d.value("reason", "no reason given") << "\n";
    }
    if (up < j["drives"].size()) {
      io.err << "tessera: warning: " << node.name << " serves " << up << " of "
             << j["drives"].size() << " drives; see " << file.dir << "/logs/" << node.name
             << ".log\n";
    }
  }
}

// Writes the settings nodes read at start; retries while etcd elects a leader.
void WriteSettings(const Streams& io, const ClusterFile& file, const std::string& protection,
                   Clock::time_point deadline) {
  Result<std::unique_ptr<EtcdClient>> client = EtcdClient::Create(
      file.EtcdEndpoints(), EtcdClientOptions{.connect_timeout = std::chrono::milliseconds(300),
                                              .request_timeout = std::chrono::milliseconds(2000)});
  FailIfError(io, client.status());
  config::ConfigStore store(client->get(), "/tessera/" + file.cluster + "/config");
  std::vector<std::pair<std::string, std::string>> settings = {{"cluster_name", file.cluster}};
  if (!protection.empty()) settings.emplace_back("protection", protection);
  for (const auto& [name, value] : settings) {
    Status status;
    while (true) {
      status = store.Set(name, value);
      if (status.ok() || status.code() == StatusCode::kInvalidArgument || Clock::now() > deadline) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!status.ok()) {
      std::string logs;
      for (size_t i = 0; i < file.etcd.size(); ++i) {
        std::string log = file.dir + "/logs/etcd" + std::to_string(i + 1) + ".log";
        logs += "\n" + log + " ends with:\n" + TailOfFile(log, 5);
      }
      Fail(io, kExitFailed,
           "cannot write setting " + name + " into etcd at " + file.EtcdEndpoints() + ": " +
               status.message() + logs);
    }
  }
}

// Waits until every node serves and is writable, or fails naming the first
// node that is not, with the tail of its log.
void WaitForNodes(const Streams& io, const Supervisor& supervisor, const ClusterFile& file,
                  Clock::time_point deadline, int timeout_seconds) {
  std::set<size_t> pending;
  for (size_t i = 0; i < file.nodes.size(); ++i) pending.insert(i);
  std::map<size_t, std::string> why;
  auto last_status_check = Clock::now();
  while (!pending.empty()) {
    for (auto it = pending.begin(); it != pending.end();) {
      std::string not_ready = NodeNotReady(PortOf(file.nodes[*it].api));
      if (not_ready.empty()) {
        it = pending.erase(it);
      } else {
        why[*it] = not_ready;
        ++it;
      }
    }
    if (pending.empty()) break;
    // A node supervisord gave up on will never come up: say so now.
    std::string fatal;
    if (Clock::now() - last_status_check > std::chrono::seconds(1)) {
      last_status_check = Clock::now();
      Result<std::vector<ProgramStatus>> programs = supervisor.Programs();
      if (programs.ok()) {
        for (const ProgramStatus& p : *programs) {
          for (size_t i : pending) {
            if (p.name == file.nodes[i].name && p.state == "FATAL") {
              why[i] = "supervisord gave up on it (FATAL: " + p.detail + ")";
              fatal = p.name;
            }
          }
        }
      }
    }
    if (!fatal.empty() || Clock::now() > deadline) {
      size_t first = *pending.begin();
      for (size_t i : pending) {
        if (file.nodes[i].name == fatal) first = i;
      }
      const ClusterFileNode& node = file.nodes[first];
      std::string log = file.dir + "/logs/" + node.name + ".log";
      std::string others;
      for (size_t i : pending) {
        if (i != first) others += (others.empty() ? "" : ", ") + file.nodes[i].name;
      }
      Fail(io, kExitFailed,
           node.name + " (http://" + node.api + ") is not ready" +
               (fatal.empty() ? " after " + std::to_string(timeout_seconds) + " s" : "") + ": " +
               why[first] + (others.empty() ? "" : " (also not ready: " + others + ")") + "\n" +
               log + " ends with:\n" + TailOfFile(log, kLogTailLines) +
               "The cluster is left running for inspection; `tessera down --dir " + file.dir +
               "` stops it.");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// The cluster's own processes still running, found by the directories on
// their command lines (this also finds those that outlived supervisord).
std::vector<pid_t> ClusterProcesses(const std::string& dir) {
  return FindProcesses([&](const std::vector<std::string>& args) {
    return !ProgramOfCommandLine(dir, args).empty();
  });
}

struct UpFlags {
  UpOptions options;
  bool name_given = false;
};

void RunUp(const Streams& io, UpFlags flags) {
  UpOptions& o = flags.options;
  if (o.dir.empty()) Fail(io, kExitUsage, "--dir is required");
  o.dir = AbsoluteDir(o.dir);
  FailIfError(io, ValidateClusterDir(o.dir), kExitUsage);
  Supervisor supervisor(SupervisordConfPath(o.dir), PidfilePath(o.dir));
  if (pid_t pid = supervisor.RunningPid(); pid != 0) {
    Fail(io, kExitFailed,
         o.dir + " already holds a running cluster (supervisord pid " + std::to_string(pid) +
             "); use it with `export TESSERA_CLUSTER=" + ClusterJsonPath(o.dir) +
             "`, or stop it with `tessera down --dir " + o.dir + "`");
  }
  // Processes that outlived a supervisord killed by hand hold the ports.
  if (std::vector<pid_t> orphans = ClusterProcesses(o.dir); !orphans.empty()) {
    std::string pids;
    for (pid_t pid : orphans) pids += (pids.empty() ? "" : ", ") + std::to_string(pid);
    Fail(io, kExitFailed,
         "processes of the cluster in " + o.dir + " still run without supervisord (pids " + pids +
             "); `tessera down --dir " + o.dir + "` stops them");
  }
  const bool restart = fs::exists(ClusterJsonPath(o.dir));
  FailIfError(io, ValidateUpOptions(o, !restart), kExitUsage);
  ClusterFile file;
  if (restart) {
    Result<ClusterFile> loaded = LoadClusterFile(ClusterJsonPath(o.dir));
    FailIfError(io, loaded.status());
    file = *loaded;
    if (!fs::exists(SupervisordConfPath(o.dir))) {
      Fail(io, kExitFailed,
           ClusterJsonPath(o.dir) + " exists but " + SupervisordConfPath(o.dir) +
               " does not: this is not a cluster `tessera up` made; pick another --dir");
    }
    auto mismatch = [&](const std::string& what, const std::string& asked, const std::string& has) {
      Fail(io, kExitUsage,
           o.dir + " holds a stopped cluster with " + has + " " + what + ", not " + asked +
               "; `tessera up --dir " + o.dir + "` restarts it as it was");
    };
    if (o.nodes != 0 && static_cast<size_t>(o.nodes) != file.nodes.size()) {
      mismatch("nodes", std::to_string(o.nodes), std::to_string(file.nodes.size()));
    }
    if (o.etcd_members != 0 && static_cast<size_t>(o.etcd_members) != file.etcd.size()) {
      mismatch("etcd members", std::to_string(o.etcd_members), std::to_string(file.etcd.size()));
    }
    if (flags.name_given && o.name != file.cluster) {
      mismatch("as its name", "'" + o.name + "'", "'" + file.cluster + "'");
    }
    io.out << "restarting cluster '" << file.cluster << "' in " << o.dir << " (same ports and data)"
           << std::endl;
  } else {
    std::string etcd = EtcdBinary();
    if (::access(etcd.c_str(), X_OK) != 0) {
      Fail(io, kExitFailed,
           "etcd is not installed at " + etcd +
               " (Debian package etcd-server; scripts/install-deps installs it, $TESSERA_ETCD "
               "names another binary)");
    }
    Result<std::string> self = SelfExecutable();
    FailIfError(io, self.status());
    if (o.etcd_members == 0) o.etcd_members = DefaultEtcdMembers(o.nodes);
    int needed = PortsNeeded(o.nodes, o.etcd_members);
    Result<PortPlan> ports = AssignPorts(o.nodes, o.etcd_members, o.base_port,
                                         o.base_port == 0 ? FreePorts(needed) : std::vector<int>{});
    FailIfError(io, ports.status());
    LocalClusterPlan plan = MakePlan(o, *ports, *self, etcd);
    FailIfError(io, CreateDirDurably(plan.LogDir()));
    for (const EtcdMemberPlan& m : plan.etcd) FailIfError(io, CreateDirDurably(m.data_dir));
    for (const NodePlan& n : plan.nodes) FailIfError(io, CreateDirDurably(n.state_dir));
    file = plan.ToClusterFile();
    // cluster.json first: its presence marks DIR as a cluster to restart.
    FailIfError(io, SaveClusterFile(plan.ClusterJsonPath(), file));
    FailIfError(io, WriteFileAtomically(plan.SupervisordConfPath(), SupervisordConfig(plan)));
  }

  auto deadline = Clock::now() + std::chrono::seconds(o.timeout_seconds);
  FailIfError(io, supervisor.Start(o.dir + "/logs/supervisord.out", std::chrono::seconds(30)));
  WriteSettings(io, file, o.protection, deadline);
  std::vector<std::string> start = {"start"};
  for (const ClusterFileNode& n : file.nodes) start.push_back(n.name);
  // A node that fails to start shows up below, with its log.
  (void)supervisor.Ctl(start);
  WaitForNodes(io, supervisor, file, deadline, o.timeout_seconds);
  WarnOfDownDrives(io, file);

  std::map<std::string, pid_t> pids;
  if (Result<std::vector<ProgramStatus>> programs = supervisor.Programs(); programs.ok()) {
    for (const ProgramStatus& p : *programs) pids[p.name] = p.pid;
  }
  io.out << "cluster '" << file.cluster << "' is up in " << o.dir << ": " << file.nodes.size()
         << (file.nodes.size() == 1 ? " node, " : " nodes, ") << file.etcd.size()
         << (file.etcd.size() == 1 ? " etcd member" : " etcd members") << "\n";
  for (const ClusterFileNode& n : file.nodes) {
    io.out << "  " << n.name << "  http://" << n.api << "  pid " << pids[n.name] << "  log "
           << o.dir << "/logs/" << n.name << ".log\n";
  }
  for (size_t i = 0; i < file.etcd.size(); ++i) {
    std::string name = "etcd" + std::to_string(i + 1);
    io.out << "  " << name << "  http://" << file.etcd[i] << "  pid " << pids[name] << "\n";
  }
  io.out << "config: " << file.ConfigUri() << "\n"
         << "Use it:\n"
         << "  export TESSERA_CLUSTER=" << ClusterJsonPath(o.dir) << "\n"
         << "  tessera put FILE NS/PATH; tessera ls NS/\n"
         << "  tessera status; tessera nodes -l\n"
         << "  supervisorctl -c " << SupervisordConfPath(o.dir) << " status\n"
         << "Stop it (data stays): tessera down --dir " << o.dir << std::endl;
}

void RunDown(const Streams& io, const std::string& dir_flag) {
  if (dir_flag.empty()) Fail(io, kExitUsage, "--dir is required");
  std::string dir = AbsoluteDir(dir_flag);
  Supervisor supervisor(SupervisordConfPath(dir), PidfilePath(dir));
  std::vector<std::string> stopped;
  std::vector<pid_t> children;
  pid_t supervisord = supervisor.RunningPid();
  if (supervisord != 0) {
    if (Result<std::vector<ProgramStatus>> programs = supervisor.Programs(); programs.ok()) {
      for (const ProgramStatus& p : *programs) {
        if (p.pid != 0) {
          stopped.push_back(p.name + " (pid " + std::to_string(p.pid) + ")");
          children.push_back(p.pid);
        }
      }
    }
    Status shut = supervisor.Shutdown(std::chrono::seconds(60));
    if (!shut.ok()) io.err << "tessera: " << shut.message() << "\n";
    stopped.push_back("supervisord (pid " + std::to_string(supervisord) + ")");
  }
  // Whatever supervisord left behind, or what outlived a supervisord that
  // died: the processes of this cluster still running.
  std::map<pid_t, std::string> leftovers;  // pid -> program, named before it dies
  for (pid_t pid : ClusterProcesses(dir))
    leftovers[pid] = ProgramOfCommandLine(dir, ProcessArgs(pid));
  for (pid_t pid : children) {
    if (ProcessAlive(pid) && !leftovers.contains(pid)) {
      leftovers[pid] = ProgramOfCommandLine(dir, ProcessArgs(pid));
    }
  }
  if (!leftovers.empty()) {
    for (const auto& [pid, name] : leftovers) ::kill(pid, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    auto any_alive = [&] {
      for (const auto& [pid, name] : leftovers) {
        if (ProcessAlive(pid)) return true;
      }
      return false;
    };
    while (any_alive() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (const auto& [pid, name] : leftovers) {
      if (ProcessAlive(pid)) ::kill(pid, SIGKILL);
      stopped.push_back("leftover " + (name.empty() ? "process" : name) + " (pid " +
                        std::to_string(pid) + ")");
    }
  }
  if (stopped.empty()) {
    io.out << "nothing is running in " << dir << std::endl;
    return;
  }
  io.out << "stopped in " << dir << ":";
  for (size_t i = 0; i < stopped.size(); ++i) io.out << (i ? ", " : " ") << stopped[i];
  io.out << "\ndata kept; `tessera up --dir " << dir << "` starts it again" << std::endl;
}

template <typename Fn>
void RunCommand(const Streams& io, const std::shared_ptr<int>& exit_code, Fn&& fn) {
  try {
    fn();
    *exit_code = 0;
  } catch (const Exit& e) {
    *exit_code = e.code;
  } catch (const std::exception& e) {
    io.err << "tessera: internal error: " << e.what() << std::endl;
    *exit_code = kExitFailed;
  }
}

}  // namespace

void AddUpDownCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out,
                       std::ostream* err) {
  auto io = std::make_shared<Streams>(
      Streams{out != nullptr ? *out : std::cout, err != nullptr ? *err : std::cerr});
  {
    auto flags = std::make_shared<UpFlags>();
    CLI::App* up =
        app.add_subcommand("up", "Start a local cluster: etcd and N nodes under supervisord");
    up->footer(
        "DIR holds everything: cluster.json, supervisord.conf, logs/, etcd/ and nodeK/ (docs/"
        "cluster.md). Returns once every node serves and is writable. On a DIR whose cluster is "
        "stopped, starts it again with the same ports and data.\n\nExit status: 0 ok, 1 failed, "
        "2 usage error.");
    UpOptions& o = flags->options;
    up->add_option("--nodes", o.nodes, "Number of nodes (new cluster)")->type_name("N");
    up->add_option("--drives", o.drives, "Drives per node (new cluster)")->type_name("D");
    up->add_option("--dir", o.dir, "Directory of the cluster")->type_name("DIR")->required();
    CLI::Option* name = up->add_option("--name", o.name, "Cluster name")->capture_default_str();
    up->add_option("--protection", o.protection, "Protection policy, e.g. +2 or +2d:1n")
        ->type_name("POLICY");
    up->add_option("--etcd-members", o.etcd_members,
                   "etcd members, 1 or 3 (default: 3 when N >= 3, else 1)");
    up->add_option("--base-port", o.base_port,
                   "Nodes listen on P..P+N-1, etcd above them (default: free ports)")
        ->type_name("P");
    up->add_option("--timeout", o.timeout_seconds, "Seconds to wait for every node to serve")
        ->capture_default_str();
    up->callback([io, flags, name, exit_code] {
      flags->name_given = name->count() > 0;
      RunCommand(*io, exit_code, [&] { RunUp(*io, *flags); });
    });
  }
  {
    auto dir = std::make_shared<std::string>();
    CLI::App* down = app.add_subcommand("down", "Stop a local cluster started by `tessera up`");
    down->footer(
        "Stops the nodes, etcd and supervisord of DIR and keeps the data. Nothing running is not "
        "an error.\n\nExit status: 0 ok, 1 failed, 2 usage error.");
    down->add_option("--dir", *dir, "Directory of the cluster")->type_name("DIR")->required();
    down->callback(
        [io, dir, exit_code] { RunCommand(*io, exit_code, [&] { RunDown(*io, *dir); }); });
  }
}

}  // namespace tessera::cluster::local
