#include "tests/support/up_cluster.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace tessera::testing {

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

bool ProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] == 'Z';
}

UpCluster::~UpCluster() {
  if (started_) RunCommand({TesseraBinary(), "down", "--dir", dir_});
}

CommandResult UpCluster::Up(std::vector<std::string> args) {
  args.insert(args.begin(), {TesseraBinary(), "up", "--dir", dir_});
  // Whatever up did, a supervisord may run: down must clean it up.
  started_ = true;
  CommandResult r = RunCommand(args);
  if (r.exit_code != 0) return r;
  nlohmann::json file = nlohmann::json::parse(ReadAll(cluster_file()), nullptr, false);
  ports_.clear();
  if (file.is_object() && file["nodes"].is_array()) {
    for (const auto& node : file["nodes"]) {
      std::string api = node.value("api", "");
      ports_.push_back(std::atoi(api.substr(api.rfind(':') + 1).c_str()));
    }
  }
  return r;
}

CommandResult UpCluster::Ctl(std::vector<std::string> args) const {
  args.insert(args.begin(), {"supervisorctl", "-c", dir_ + "/supervisord.conf"});
  return RunCommand(args);
}

pid_t UpCluster::Pid(int i) const {
  CommandResult r = Ctl({"pid", program(i)});
  return static_cast<pid_t>(std::strtol(r.output.c_str(), nullptr, 10));
}

bool UpCluster::CrashAndKeepDown(const std::vector<int>& nodes, std::string* why) {
  std::vector<pid_t> pids;
  for (int i : nodes) {
    pid_t pid = Pid(i);
    if (pid <= 0) {
      if (why) *why = program(i) + " is not running: " + Ctl({"status"}).output;
      return false;
    }
    pids.push_back(pid);
  }
  // Pids first, then every kill back to back: the nodes fail together.
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  std::vector<std::string> stop = {"stop"};
  for (int i : nodes) stop.push_back(program(i));
  CommandResult stopped = Ctl(stop);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (size_t k = 0; k < nodes.size(); ++k) {
    while (!ProcessGone(pids[k]) || Pid(nodes[k]) != 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        if (why) *why = program(nodes[k]) + " still runs: " + stopped.output;
        return false;
      }
      // If the stop came while supervisord saw the process exited but had
      // not yet started it again, it said "not running" and the restart
      // followed: stop that one too.
      if (Pid(nodes[k]) != 0) stopped = Ctl({"stop", program(nodes[k])});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return true;
}

std::string UpCluster::LogTail(int i, size_t bytes) const {
  std::string log = ReadAll(dir_ + "/logs/" + program(i) + ".log");
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

}  // namespace tessera::testing
