#include "cluster/cluster_file.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/fs_util.h"
#include "common/host_port.h"

namespace tessera::cluster {
namespace {

using nlohmann::json;

Status Bad(const std::string& what) { return Status::InvalidArgument("cluster.json: " + what); }

bool IsClusterName(const std::string& name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> StringField(const json& j, const char* name, bool required) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (required) return Bad(std::string("missing \"") + name + "\"");
    return std::string();
  }
  if (!it->is_string()) return Bad(std::string("\"") + name + "\" must be a string");
  return it->get<std::string>();
}

}  // namespace

std::string ClusterFile::EtcdEndpoints() const {
  std::string out;
  for (const std::string& endpoint : etcd) {
    if (!out.empty()) out += ",";
    out += "http://" + endpoint;
  }
  return out;
}

std::string ClusterFile::ConfigUri() const {
  std::string out = "etcd://";
  for (size_t i = 0; i < etcd.size(); ++i) out += (i ? "," : "") + etcd[i];
  return out + "/tessera/" + cluster + "/config";
}

Result<ClusterFile> ParseClusterFile(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad("must be a JSON object");
  ClusterFile file;
  ASSIGN_OR_RETURN(file.cluster, StringField(j, "cluster", true));
  if (!IsClusterName(file.cluster)) {
    return Bad("cluster '" + file.cluster + "' must be 1..63 of [a-z0-9-] starting with a letter");
  }
  auto etcd = j.find("etcd");
  if (etcd == j.end() || !etcd->is_array() || etcd->empty()) {
    return Bad("\"etcd\" must be a non-empty array of HOST:PORT");
  }
  for (size_t i = 0; i < etcd->size(); ++i) {
    const json& e = (*etcd)[i];
    std::string where = "etcd[" + std::to_string(i) + "]";
    if (!e.is_string() || !ParseHostPort(e.get<std::string>()).ok()) {
      return Bad(where + " " + e.dump() + " is not HOST:PORT");
    }
    file.etcd.push_back(e.get<std::string>());
  }
  if (auto nodes = j.find("nodes"); nodes != j.end()) {
    if (!nodes->is_array()) return Bad("\"nodes\" must be an array");
    for (size_t i = 0; i < nodes->size(); ++i) {
      const json& n = (*nodes)[i];
      std::string where = "nodes[" + std::to_string(i) + "]";
      if (!n.is_object()) return Bad(where + " must be an object");
      ClusterFileNode node;
      ASSIGN_OR_RETURN(node.name, StringField(n, "name", false));
      ASSIGN_OR_RETURN(node.api, StringField(n, "api", true));
      if (!ParseHostPort(node.api).ok())
        return Bad(where + ".api '" + node.api + "' is not HOST:PORT");
      file.nodes.push_back(std::move(node));
    }
  }
  ASSIGN_OR_RETURN(file.dir, StringField(j, "dir", false));
  ASSIGN_OR_RETURN(file.supervisor_config, StringField(j, "supervisor_config", false));
  return file;
}

std::string ClusterFileJson(const ClusterFile& file) {
  json nodes = json::array();
  for (const ClusterFileNode& n : file.nodes) nodes.push_back({{"name", n.name}, {"api", n.api}});
  json j = {{"cluster", file.cluster},
            {"etcd", file.etcd},
            {"nodes", nodes},
            {"dir", file.dir},
            {"supervisor_config", file.supervisor_config}};
  return j.dump(2) + "\n";
}

Result<ClusterFile> LoadClusterFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no cluster file at " + path +
                              " (start one with `tessera up`, or pass --cluster FILE)");
    }
    return text.status();
  }
  Result<ClusterFile> file = ParseClusterFile(*text);
  if (!file.ok()) return Status::InvalidArgument(path + ": " + file.status().message());
  return file;
}

Status SaveClusterFile(const std::string& path, const ClusterFile& file) {
  return WriteFileAtomically(path, ClusterFileJson(file));
}

std::string ResolveClusterFilePath(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TESSERA_CLUSTER"); env != nullptr && *env != '\0') return env;
  return "./var/cluster.json";
}

}  // namespace tessera::cluster
