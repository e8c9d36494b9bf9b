// A cluster started by `tessera up` in a directory, for integration tests
// and benchmarks: its nodes' ports from cluster.json, supervisorctl, and
// crashing nodes so that they stay down. The destructor runs `tessera down`,
// so a failed test leaves no cluster behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/support/node_process.h"

namespace tessera::testing {

// Gone, or a zombie nobody reaps (containers whose init does not reap).
bool ProcessGone(pid_t pid);

class UpCluster {
 public:
  explicit UpCluster(std::string dir) : dir_(std::move(dir)) {}
  ~UpCluster();
  UpCluster(const UpCluster&) = delete;
  UpCluster& operator=(const UpCluster&) = delete;

  // `tessera up --dir DIR ARGS`; on success reads the nodes from cluster.json.
  CommandResult Up(std::vector<std::string> args);

  int size() const { return static_cast<int>(ports_.size()); }
  // Node i (0-based) is supervisord's program "node<i+1>".
  int port(int i) const { return ports_[i]; }
  std::string program(int i) const { return "node" + std::to_string(i + 1); }
  std::string cluster_file() const { return dir_ + "/cluster.json"; }
  const std::string& dir() const { return dir_; }

  CommandResult Ctl(std::vector<std::string> args) const;
  pid_t Pid(int i) const;  // 0 when not running
  // kill -9 every node of `nodes` at once, then `supervisorctl stop` them
  // so supervisord does not start them again. supervisord may restart one
  // in the moment between; stop then ends that new process, so what the
  // cluster sees is the crash. False, with why, if a node was not running.
  bool CrashAndKeepDown(const std::vector<int>& nodes, std::string* why);
  bool Start(int i) const { return Ctl({"start", program(i)}).exit_code == 0; }
  // The tail of node i's log, for failure messages.
  std::string LogTail(int i, size_t bytes = 4000) const;

 private:
  std::string dir_;
  std::vector<int> ports_;
  bool started_ = false;
};

}  // namespace tessera::testing
