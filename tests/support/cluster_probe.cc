#include "tests/support/cluster_probe.h"

#include <httplib.h>

#include <regex>

#include "cluster/cluster_file.h"

namespace tessera::testing {

using nlohmann::json;

namespace {

json GetJson(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  // Short enough to poll; long enough for a node busy rebuilding on a
  // loaded machine.
  client.set_read_timeout(5);
  auto res = client.Get(path.c_str());
  if (!res || res->status != 200) return json::object();
  json j = json::parse(res->body, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

}  // namespace

Status WriteClusterFile(const std::string& path, const std::string& cluster,
                        const std::vector<std::string>& etcd,
                        const std::vector<std::unique_ptr<NodeProcess>>& nodes) {
  cluster::ClusterFile file;
  file.cluster = cluster;
  file.etcd = etcd;
  for (size_t i = 0; i < nodes.size(); ++i) {
    file.nodes.push_back(
        {"node" + std::to_string(i + 1), "127.0.0.1:" + std::to_string(nodes[i]->port())});
  }
  return cluster::SaveClusterFile(path, file);
}

json NodeView(int port) { return GetJson(port, "/v1/cluster/view"); }

int ReadableMembers(int port) {
  json v = NodeView(port);
  return v.contains("quorum") ? v["quorum"].value("readable", 0) : 0;
}

json FileStat(int port, const std::string& ns_path) { return GetJson(port, "/v1/stat/" + ns_path); }

json ProtectionReport(int port) { return GetJson(port, "/v1/cluster/protection"); }

CommandResult ClusterAdmin::Run(std::vector<std::string> args) const {
  std::vector<std::string> argv = {TesseraBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--cluster", cluster_file_});
  return RunCommand(argv);
}

json ClusterAdmin::Job(int id) const {
  CommandResult r = Run({"job", "list", "--json"});
  json list = json::parse(r.output, nullptr, false);
  if (!list.is_array()) return json::object();
  for (const json& j : list) {
    if (j.value("id", 0) == id) return j;
  }
  return json::object();
}

std::string ClusterAdmin::JobLine(int id) const {
  CommandResult r = Run({"job", "list"});
  std::regex line("(^|\n)( *" + std::to_string(id) + "  [^\n]*)");
  std::smatch m;
  return std::regex_search(r.output, m, line) ? m[2].str() : "";
}

bool ClusterAdmin::StatusSays(const std::string& text) const {
  return Run({"status"}).output.find(text) != std::string::npos;
}

}  // namespace tessera::testing
