#include "cli/node_resolver.h"

#include <httplib.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/node_client.h"

namespace tessera::cli {
namespace {

bool Given(const char* env) { return env != nullptr && *env != '\0'; }

}  // namespace

std::string NodeSource::Describe() const {
  switch (kind) {
    case Kind::kNodeFlag:
      return "--node";
    case Kind::kClusterFlag:
      return "--cluster";
    case Kind::kNodeEnv:
      return "$TESSERA_NODE";
    case Kind::kClusterEnv:
      return "$TESSERA_CLUSTER";
    case Kind::kDefaultClusterFile:
      return kDefaultClusterFile;
    case Kind::kDefault:
      break;
  }
  return "the default";
}

NodeSource ChooseNodeSource(const std::optional<std::string>& node_flag,
                            const std::optional<std::string>& cluster_flag, const char* node_env,
                            const char* cluster_env, bool default_cluster_file_exists) {
  using Kind = NodeSource::Kind;
  if (node_flag.has_value()) return {Kind::kNodeFlag, *node_flag};
  if (cluster_flag.has_value()) return {Kind::kClusterFlag, *cluster_flag};
  if (Given(node_env)) return {Kind::kNodeEnv, node_env};
  if (Given(cluster_env)) return {Kind::kClusterEnv, cluster_env};
  if (default_cluster_file_exists) return {Kind::kDefaultClusterFile, kDefaultClusterFile};
  return {Kind::kDefault, kDefaultNodeUrl};
}

Result<std::string> PickLiveNode(const cluster::ClusterFile& file, const std::string& path,
                                 std::chrono::milliseconds connect_timeout) {
  if (file.nodes.empty()) {
    return Status::Unavailable("cluster file " + path + " lists no nodes");
  }
  std::string tried;
  for (const cluster::ClusterFileNode& node : file.nodes) {
    std::string url = "http://" + node.api;
    Result<NodeUrl> parsed = ParseNodeUrl(url);
    std::string why;
    if (!parsed.ok()) {
      why = parsed.status().message();
    } else {
      httplib::Client http(parsed->host, parsed->port);
      http.set_connection_timeout(
          std::chrono::duration_cast<std::chrono::microseconds>(connect_timeout));
      // A node that accepts but does not answer is as good as dead here.
      http.set_read_timeout(2, 0);
      auto res = http.Get("/v1/node");
      if (res && res->status == 200) return parsed->ToString();
      why = res ? "answered " + std::to_string(res->status)
                : httplib::to_string(res.error()) + " error";
    }
    tried += "\n  " + (node.name.empty() ? url : node.name + " " + url) + ": " + why;
  }
  return Status::Unavailable("no node of cluster '" + file.cluster + "' (" + path +
                             ") answers:" + tried);
}

Result<std::string> ResolveNode(const std::optional<std::string>& node_flag,
                                const std::optional<std::string>& cluster_flag,
                                std::chrono::milliseconds connect_timeout) {
  NodeSource source =
      ChooseNodeSource(node_flag, cluster_flag, std::getenv("TESSERA_NODE"),
                       std::getenv("TESSERA_CLUSTER"), ::access(kDefaultClusterFile, F_OK) == 0);
  if (!source.is_cluster_file()) {
    Result<NodeUrl> parsed = ParseNodeUrl(source.value);
    if (!parsed.ok()) {
      return Status::InvalidArgument("bad " + source.Describe() + ": " + parsed.status().message());
    }
    return parsed->ToString();
  }
  Result<cluster::ClusterFile> file = cluster::LoadClusterFile(source.value);
  if (!file.ok()) {
    return Status(file.status().code(),
                  "bad " + source.Describe() + ": " + file.status().message());
  }
  return PickLiveNode(*file, source.value, connect_timeout);
}

}  // namespace tessera::cli
