#include "node/hook_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tessera::node {

Status RunHook(const std::string& command, const std::map<std::string, std::string>& env,
               std::chrono::milliseconds timeout) {
  if (command.empty()) return Status::InvalidArgument("empty hook command");
  // Everything the child needs is built before fork(): in a threaded process
  // the child may only make async-signal-safe calls until it execs.
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    if (!env.count(entry.substr(0, entry.find('=')))) entries.push_back(std::move(entry));
  }
  for (const auto& [name, value] : env) entries.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& entry : entries) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh", dash_c = "-c", script = command;
  char* argv[] = {shell.data(), dash_c.data(), script.data(), nullptr};
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  sigset_t none;
  sigemptyset(&none);

  pid_t pid = fork();
  if (pid < 0) {
    if (devnull >= 0) close(devnull);
    return Status::IOError("fork for hook: " + std::string(strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);  // its own group, so a timeout kills what it started too
    sigprocmask(SIG_SETMASK, &none, nullptr);  // the node blocks signals for its threads
    signal(SIGPIPE, SIG_DFL);
    if (devnull >= 0) dup2(devnull, 0);
    // The node's sockets are not all close-on-exec (httplib's are not): a
    // hook that leaves a process behind must not keep the node's port.
    close_range(3, ~0U, 0);
    execve(argv[0], argv, envp.data());
    _exit(127);
  }
  if (devnull >= 0) close(devnull);
  setpgid(pid, pid);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR)
      return Status::IOError("waiting for hook: " + std::string(strerror(errno)));
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Status::Unavailable("hook '" + command + "' ran past " +
                                 std::to_string(timeout.count()) + " ms and was killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  if (WIFEXITED(status)) {
    return Status::FailedPrecondition("hook '" + command + "' exited with status " +
                                      std::to_string(WEXITSTATUS(status)));
  }
  return Status::FailedPrecondition("hook '" + command + "' was killed by signal " +
                                    std::to_string(WTERMSIG(status)));
}

}  // namespace tessera::node
