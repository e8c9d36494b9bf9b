// Runs a real `tessera images` process for integration tests: a free
// loopback port, the cluster reached through `node_url`, and the same
// start/kill/stop life cycle as NodeProcess (SIGKILL when the starting
// thread exits). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tessera::testing {

class ImagesProcess {
 public:
  // `extra_args` are appended to `tessera images --listen ... --node URL`;
  // an empty `node_url` omits --node (e.g. for --cluster FILE in extra_args).
  ImagesProcess(std::string node_url, std::string log_path,
                std::vector<std::string> extra_args = {});
  ~ImagesProcess();  // kills the process if it still runs

  // Starts it and waits up to 30 s for GET /versions. False with why.
  bool Start(std::string* why = nullptr);
  void Kill();  // SIGKILL, then reap
  bool Alive();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string ReadLog() const;

 private:
  std::string node_url_, log_path_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tessera::testing
