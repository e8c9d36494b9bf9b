#include "tests/support/node_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace tessera::testing {
namespace {

// Tests talk to nodes that may close a connection mid-request (413, kill -9);
// that must fail the request, not kill the test binary.
const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

// How a process ended, from its wait status: "exited with status 1",
// "killed by signal 9 (Killed)".
std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    return "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")" +
           (WCOREDUMP(wait_status) ? ", core dumped" : "");
  }
  return "ended with wait status " + std::to_string(wait_status);
}

}  // namespace

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string TesseraBinary() {
#ifdef TESSERA_BINARY
  return TESSERA_BINARY;
#else
  return "tessera";
#endif
}

NodeConfig ClusterNode(const std::string& dir, const std::string& config_uri, int drives) {
  NodeConfig config;
  for (int i = 0; i < drives; ++i) config.drives.push_back(dir + "/d" + std::to_string(i));
  config.state_dir = dir + "/state";
  config.config_uri = config_uri;
  return config;
}

NodeConfig FourDriveNode(const std::string& dir, std::vector<std::string> extra_args) {
  NodeConfig config;
  for (int i = 0; i < 4; ++i) config.drives.push_back(dir + "/d" + std::to_string(i));
  config.extra_args = std::move(extra_args);
  return config;
}

NodeProcess::NodeProcess(NodeConfig config) : config_(std::move(config)) {
  if (!config_.log_path.empty()) {
    log_path_ = config_.log_path;
    return;
  }
  std::string base = config_.drives.empty()
                         ? std::string("/tmp")
                         : std::filesystem::path(config_.drives.front()).parent_path().string();
  log_path_ = base + "/node-" + std::to_string(::getpid()) + "-" +
              std::to_string(reinterpret_cast<uintptr_t>(this) % 100000) + ".log";
}

NodeProcess::~NodeProcess() { Kill(); }

std::vector<std::string> NodeProcess::Command() {
  if (port_ == 0) port_ = FreePort();
  std::string drives;
  for (const std::string& d : config_.drives) drives += (drives.empty() ? "" : ",") + d;
  std::vector<std::string> args = {config_.binary.empty() ? TesseraBinary() : config_.binary,
                                   "node",
                                   "--drives",
                                   drives,
                                   "--listen",
                                   config_.host + ":" + std::to_string(port_)};
  if (config_.config_uri.empty()) {
    args.insert(args.end(), {"--protection", config_.protection});
  } else {
    args.insert(args.end(), {"--config", config_.config_uri});
  }
  if (!config_.state_dir.empty()) {
    args.push_back("--state");
    args.push_back(config_.state_dir);
  }
  args.insert(args.end(), config_.extra_args.begin(), config_.extra_args.end());
  args.insert(args.begin(), config_.launcher.begin(), config_.launcher.end());
  return args;
}

bool NodeProcess::Start(std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  std::vector<std::string> args = Command();
  pid_ = SpawnWithLog(std::move(args), log_path_, why);
  if (pid_ < 0) return false;
  httplib::Client client(config_.host, port_);
  client.set_connection_timeout(0, 200000);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Alive(why)) return false;
    auto res = client.Get("/v1/node");
    if (res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *why = "node did not answer GET /v1/node within 30 s";
  return false;
}

bool NodeProcess::Alive(std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  if (pid_ <= 0) {
    *why = "node is not running";
    return false;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    *why = "node " + DescribeExit(status);
    return false;
  }
  return true;
}

void NodeProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool NodeProcess::Stop(std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  if (pid_ <= 0) {
    *why = "node was not running";
    return false;
  }
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) {
      Kill();
      *why = "node did not stop within 60 s of SIGTERM; killed";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  *why = "node " + DescribeExit(status) + " on SIGTERM";
  return false;
}

std::string NodeProcess::ReadLog() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::multiset<std::string> ThreadNames(pid_t pid) {
  std::multiset<std::string> names;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  return names;
}

pid_t SpawnWithLog(std::vector<std::string> args, const std::string& log_path, std::string* why) {
  // The log's directory may not exist yet (a node's dir before it formats
  // its drives); without it the child would write to our stdout.
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(log_path).parent_path(), ec);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    *why = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);     // never outlive the test or bench
    if (::getppid() != parent) _exit(127);  // it died before prctl
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "exec %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  return pid;
}

CommandResult RunCommand(const std::vector<std::string>& argv_in,
                         const std::vector<std::string>& extra_env) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    for (const std::string& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<std::string> args = argv_in;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    _exit(127);
  }
  ::close(pipefd[1]);
  CommandResult result;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0) result.output.append(buf, n);
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

uint64_t DiskUsage(const std::string& path) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

}  // namespace tessera::testing
