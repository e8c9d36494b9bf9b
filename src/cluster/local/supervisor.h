// Supervisor: drives the supervisord of one local cluster through its config
// file (`supervisord -c CONF`, `supervisorctl -c CONF ...`). Holds only paths;
// every call runs a program. Not thread-safe. Errors are Status values whose
// message includes what supervisorctl said.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::cluster::local {

// One line of `supervisorctl status`.
struct ProgramStatus {
  std::string name;    // "node1"
  std::string state;   // "RUNNING", "STOPPED", "STARTING", "BACKOFF", "FATAL", ...
  pid_t pid = 0;       // 0 unless RUNNING (or STOPPING)
  std::string detail;  // the rest of the line, e.g. "pid 123, uptime 0:00:05"
  bool operator==(const ProgramStatus&) const = default;
};

// Parses `supervisorctl status` output, e.g.
//   "node1    RUNNING   pid 4242, uptime 0:01:02\netcd1  STOPPED   Not started\n".
// Pure. Lines that are not "NAME STATE ..." are skipped (supervisorctl
// prints warnings there too).
std::vector<ProgramStatus> ParseSupervisorStatus(const std::string& text);

class Supervisor {
 public:
  // `conf`: DIR/supervisord.conf; `pidfile`: the pidfile it names.
  Supervisor(std::string conf, std::string pidfile);

  // supervisord's pid if it runs, else 0 (a stale pidfile reads as 0).
  pid_t RunningPid() const;
  // Starts supervisord (which daemonizes; its early output goes to
  // `log_path`) and waits up to `timeout` until supervisorctl reaches it.
  Status Start(const std::string& log_path, std::chrono::seconds timeout);
  // `supervisorctl -c CONF ARGS...`. Non-OK unless it exits 0.
  Result<std::string> Ctl(const std::vector<std::string>& args) const;
  Result<std::vector<ProgramStatus>> Programs() const;  // `supervisorctl status`
  // `supervisorctl shutdown`, then waits up to `timeout` for supervisord's
  // pid to exit (SIGKILL after that). OK at once if it does not run.
  Status Shutdown(std::chrono::seconds timeout) const;

  const std::string& conf() const { return conf_; }

 private:
  std::string conf_;
  std::string pidfile_;
};

}  // namespace tessera::cluster::local
