// Runs a real `tessera node` process for integration tests: picks a free
// loopback port, starts the binary, waits until it serves, and can stop it
// gracefully, kill -9 it, or restart it with the same drives.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tessera::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Path of the tessera binary under test.
std::string TesseraBinary();

struct NodeConfig {
  std::vector<std::string> drives;
  std::string state_dir;  // empty: the node's default
  std::string protection = "+2";
  std::vector<std::string> extra_args;
};

class NodeProcess {
 public:
  explicit NodeProcess(NodeConfig config);
  ~NodeProcess();  // kills the process if it still runs

  // Starts the node and waits up to 20 s for GET /v1/node. False on failure
  // (the log has why).
  bool Start();
  void Kill();  // SIGKILL, then reap
  bool Stop();  // SIGTERM, then reap; true if it exited 0
  bool Restart() {
    Kill();
    return Start();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;
  pid_t pid() const { return pid_; }

 private:
  NodeConfig config_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
};

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
