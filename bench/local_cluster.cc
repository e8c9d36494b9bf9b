#include "bench/local_cluster.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "bench/load_common.h"

namespace tessera::bench {

using testing::CommandResult;
using testing::RunCommand;

bool LocalCluster::Start(const std::vector<std::string>& argv) {
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  Log("starting: " + command);
  started_ = true;
  CommandResult result = RunCommand(argv);
  if (result.exit_code != 0) {
    fail_("tessera up exited " + std::to_string(result.exit_code) + ":\n" +
          Tail(result.output, 40));
    return false;
  }
  return true;
}

bool LocalCluster::Up() {
  std::vector<std::string> argv = {spec_.binary,   "up",
                                   "--nodes",      std::to_string(spec_.nodes),
                                   "--drives",     std::to_string(spec_.drives),
                                   "--dir",        dir_,
                                   "--protection", spec_.protection,
                                   "--timeout",    std::to_string(spec_.up_timeout)};
  if (spec_.etcd_members > 0) {
    argv.insert(argv.end(), {"--etcd-members", std::to_string(spec_.etcd_members)});
  }
  if (!Start(argv)) return false;
  std::ifstream in(cluster_file());
  json file = json::parse(in, nullptr, false);
  if (!file.is_object() || !file.contains("nodes")) {
    fail_(cluster_file() + " is missing or malformed");
    return false;
  }
  etcd_members_ = file.value("etcd", json::array()).size();
  for (const json& n : file["nodes"]) {
    std::string api = n.value("api", "");
    size_t colon = api.rfind(':');
    if (colon == std::string::npos) continue;
    nodes_.push_back({n.value("name", ""), api.substr(0, colon), std::stoi(api.substr(colon + 1))});
  }
  if (static_cast<int>(nodes_.size()) != spec_.nodes) {
    fail_(cluster_file() + " lists " + std::to_string(nodes_.size()) + " nodes, wanted " +
          std::to_string(spec_.nodes));
    return false;
  }
  Log("cluster of " + std::to_string(spec_.nodes) + " nodes up in " + dir_);
  return true;
}

bool LocalCluster::Restart() {
  Down();
  return Start({spec_.binary, "up", "--dir", dir_, "--timeout", std::to_string(spec_.up_timeout)});
}

void LocalCluster::Down() {
  if (!started_) return;
  started_ = false;
  CommandResult result = RunCommand({spec_.binary, "down", "--dir", dir_});
  if (result.exit_code != 0) {
    fail_("tessera down exited " + std::to_string(result.exit_code) + ":\n" +
          Tail(result.output, 20));
  }
}

CommandResult LocalCluster::Admin(std::vector<std::string> args) const {
  args.insert(args.begin(), spec_.binary);
  args.insert(args.end(), {"--cluster", cluster_file()});
  return RunCommand(args);
}

std::string LocalCluster::MustAdmin(const std::vector<std::string>& args) const {
  CommandResult r = Admin(args);
  if (r.exit_code != 0) {
    std::string command;
    for (const std::string& a : args) command += " " + a;
    fail_("tessera" + command + " exited " + std::to_string(r.exit_code) + ": " +
          Tail(r.output, 10));
  }
  return r.output;
}

bool LocalCluster::Healthy(std::string* why) const {
  for (const ClusterNode& n : nodes_) {
    httplib::Client client(n.host, n.port);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(30, 0);
    auto res = client.Get("/v1/node");
    if (!res || res->status != 200) {
      *why = n.name + " does not answer GET /v1/node";
      return false;
    }
  }
  return true;
}

std::string LocalCluster::LogTails() const {
  std::string out;
  for (const ClusterNode& n : nodes_) {
    std::ifstream in(dir_ + "/logs/" + n.name + ".log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out += "--- " + n.name + ".log (last lines):\n" + Tail(text, 15) + "\n";
  }
  return out;
}

httplib::Client& NodeClients::operator[](int node) {
  if (clients.empty()) clients.resize(cluster->nodes().size());
  if (!clients[node]) {
    const ClusterNode& n = cluster->nodes()[node];
    clients[node] = MakeClient(n.host, n.port);
  }
  return *clients[node];
}

}  // namespace tessera::bench
