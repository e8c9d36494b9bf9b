// Runs a real `tessera node` process for integration tests and benchmarks:
// picks a free loopback port, starts the binary, waits until it serves, and
// can stop it gracefully, kill -9 it, or restart it with the same drives.
// A node gets SIGKILL when the thread that started it exits
// (PR_SET_PDEATHSIG), so it never outlives its test or benchmark.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

namespace tessera::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Path of the tessera binary under test.
std::string TesseraBinary();

struct NodeConfig {
  std::string binary;  // empty: TesseraBinary()
  std::vector<std::string> drives;
  std::string state_dir;           // empty: the node's default
  std::string protection = "+2";   // ignored with config_uri
  std::string config_uri;          // non-empty: a cluster node (--config URI)
  std::string host = "127.0.0.1";  // address to listen on
  // Prefix of the command line, e.g. NetNamespace::Wrap's {"ip", "netns", "exec", NAME}.
  std::vector<std::string> launcher;
  std::vector<std::string> extra_args;
  std::string log_path;  // empty: a new node-*.log beside the first drive
};

// A cluster node: `drives` drives `dir`/d0.., state in `dir`/state, settings
// from `config_uri`.
NodeConfig ClusterNode(const std::string& dir, const std::string& config_uri, int drives = 3);

// Four drives, `dir`/d0 to `dir`/d3, and the defaults for everything else.
NodeConfig FourDriveNode(const std::string& dir, std::vector<std::string> extra_args = {});

class NodeProcess {
 public:
  explicit NodeProcess(NodeConfig config);
  ~NodeProcess();  // kills the process if it still runs

  // The command line Start() runs; picks the port if there is none yet.
  std::vector<std::string> Command();
  // Starts the node and waits up to 30 s for GET /v1/node. False on failure,
  // with a line of why in `*why` if given (the log has more).
  bool Start(std::string* why = nullptr);
  void Kill();  // SIGKILL, then reap
  // SIGTERM, then reap, killing it after 60 s; true if it exited 0, else
  // false with why in `*why` if given.
  bool Stop(std::string* why = nullptr);
  bool Restart() {
    Kill();
    return Start();
  }
  // True while the process runs; false, with how it ended in `*why` if given,
  // once it has (it is then reaped).
  bool Alive(std::string* why = nullptr);

  int port() const { return port_; }
  std::string url() const { return "http://" + config_.host + ":" + std::to_string(port_); }
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;
  pid_t pid() const { return pid_; }
  const NodeConfig& config() const { return config_; }

 private:
  NodeConfig config_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
};

// The names of a process's threads, as top -H and ps -L show them.
std::multiset<std::string> ThreadNames(pid_t pid);

// Starts argv[0] with `args`, stdout and stderr appended to `log_path`. The
// child dies with its parent (PR_SET_PDEATHSIG); a failed exec is written to
// the log and exits 127. Returns the pid, or -1 with *why set.
pid_t SpawnWithLog(std::vector<std::string> args, const std::string& log_path, std::string* why);

// Runs a command, returns its exit status and (stdout+stderr) output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env = {});

// Bytes used on disk by everything under `path` (like du: allocated blocks).
uint64_t DiskUsage(const std::string& path);

}  // namespace tessera::testing
