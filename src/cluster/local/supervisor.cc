#include "cluster/local/supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "cluster/local/process.h"
#include "common/fs_util.h"

namespace tessera::cluster::local {
namespace {

bool IsUpperWord(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

std::vector<ProgramStatus> ParseSupervisorStatus(const std::string& text) {
  std::vector<ProgramStatus> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    ProgramStatus st;
    if (!(words >> st.name >> st.state) || !IsUpperWord(st.state)) continue;
    std::string rest;
    std::getline(words, rest);
    st.detail = Trim(rest);
    if (st.detail.rfind("pid ", 0) == 0) {
      st.pid = static_cast<pid_t>(std::strtol(st.detail.c_str() + 4, nullptr, 10));
    }
    out.push_back(std::move(st));
  }
  return out;
}

Supervisor::Supervisor(std::string conf, std::string pidfile)
    : conf_(std::move(conf)), pidfile_(std::move(pidfile)) {}

pid_t Supervisor::RunningPid() const {
  Result<std::string> text = ReadWholeFile(pidfile_);
  if (!text.ok()) return 0;
  pid_t pid = static_cast<pid_t>(std::strtol(text->c_str(), nullptr, 10));
  if (!ProcessAlive(pid)) return 0;
  // A pid recycled since supervisord died belongs to something else.
  for (const std::string& arg : ProcessArgs(pid)) {
    if (arg.find("supervisord") != std::string::npos) return pid;
  }
  return 0;
}

Status Supervisor::Start(const std::string& log_path, std::chrono::seconds timeout) {
  std::string binary = FindInPath("supervisord");
  if (binary.empty()) {
    return Status::FailedPrecondition(
        "supervisord is not installed (Debian package `supervisor`; scripts/install-deps "
        "installs it)");
  }
  ASSIGN_OR_RETURN(pid_t pid, SpawnProgram({binary, "-c", conf_}, log_path));
  // supervisord forks its daemon and the first process exits; reap it.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IOError("supervisord -c " + conf_ + " failed; " + log_path + " ends with:\n" +
                           TailOfFile(log_path, 10));
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<std::vector<ProgramStatus>> programs = Programs();
    if (programs.ok()) return Status::Ok();
    last = programs.status().message();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Unavailable("supervisord did not answer within " +
                             std::to_string(timeout.count()) + " s: " + last);
}

Result<std::string> Supervisor::Ctl(const std::vector<std::string>& args) const {
  std::string binary = FindInPath("supervisorctl");
  if (binary.empty()) {
    return Status::FailedPrecondition(
        "supervisorctl is not installed (Debian package `supervisor`)");
  }
  std::vector<std::string> argv = {binary, "-c", conf_};
  argv.insert(argv.end(), args.begin(), args.end());
  ASSIGN_OR_RETURN(ProgramOutput out, RunProgram(argv));
  if (out.exit_code != 0) {
    std::string command = "supervisorctl";
    for (const std::string& a : args) command += " " + a;
    return Status::Unavailable(command + " exited " + std::to_string(out.exit_code) + ": " +
                               Trim(out.output));
  }
  return out.output;
}

Result<std::vector<ProgramStatus>> Supervisor::Programs() const {
  std::string binary = FindInPath("supervisorctl");
  if (binary.empty()) {
    return Status::FailedPrecondition(
        "supervisorctl is not installed (Debian package `supervisor`)");
  }
  ASSIGN_OR_RETURN(ProgramOutput out, RunProgram({binary, "-c", conf_, "status"}));
  // status exits 3 when some program is not running; that is still an answer.
  std::vector<ProgramStatus> programs = ParseSupervisorStatus(out.output);
  if (programs.empty() || (out.exit_code != 0 && out.exit_code != 3)) {
    return Status::Unavailable("supervisorctl status: " + Trim(out.output));
  }
  return programs;
}

Status Supervisor::Shutdown(std::chrono::seconds timeout) const {
  pid_t pid = RunningPid();
  if (pid == 0) return Status::Ok();
  // A failure here (say, the socket is gone) still leaves the pid to wait
  // for and, if need be, kill.
  Result<std::string> said = Ctl({"shutdown"});
  if (!said.ok()) ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ProcessAlive(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (ProcessAlive(pid)) {
    ::kill(pid, SIGKILL);
    return Status::Unavailable("supervisord (pid " + std::to_string(pid) +
                               ") did not exit within " + std::to_string(timeout.count()) +
                               " s of shutdown; killed it");
  }
  return Status::Ok();
}

}  // namespace tessera::cluster::local
