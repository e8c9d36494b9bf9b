// Small process helpers for `tessera up` and `tessera down`: run a program
// and capture its output, and look at other processes through /proc.
// Thread-safe free functions; all do I/O.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::cluster::local {

struct ProgramOutput {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string output;  // stdout and stderr interleaved
};

// Runs argv (argv[0] looked up in $PATH) with stdin from /dev/null and waits.
// IOError only when it cannot be started at all (then exit_code is 127).
Result<ProgramOutput> RunProgram(const std::vector<std::string>& argv);

// Starts argv in the background with stdin from /dev/null and stdout/stderr
// appended to `log_path`; returns its pid (the caller reaps it).
Result<pid_t> SpawnProgram(const std::vector<std::string>& argv, const std::string& log_path);

// True while `pid` names a process that has not exited. A zombie counts as
// exited: in containers whose init does not reap orphans, a stopped
// daemon's pid can linger as a zombie forever.
bool ProcessAlive(pid_t pid);

// The process's argv from /proc/PID/cmdline; empty if it is gone.
std::vector<std::string> ProcessArgs(pid_t pid);

// Every live process but this one whose argv satisfies `match`.
std::vector<pid_t> FindProcesses(const std::function<bool(const std::vector<std::string>&)>& match);

// The absolute path of the running executable (/proc/self/exe).
Result<std::string> SelfExecutable();

// $PATH lookup; empty if not found or not executable.
std::string FindInPath(const std::string& program);

// The last `lines` lines of a text file ("" if it cannot be read).
std::string TailOfFile(const std::string& path, int lines);

}  // namespace tessera::cluster::local
