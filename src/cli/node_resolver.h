// Which node the data verbs (put, get, ls, rm, stat, cp) talk to.
//
// The first of these that is given wins:
//   1. --node URL
//   2. --cluster FILE            (a cluster.json, cluster/cluster_file.h)
//   3. $TESSERA_NODE
//   4. $TESSERA_CLUSTER
//   5. ./var/cluster.json, if it exists (where scripts/up keeps its cluster)
//   6. http://127.0.0.1:8080
// With a cluster file, the verb uses any live node: the file's nodes are
// tried in order with a short connect timeout, and the first that answers
// GET /v1/node with 200 is used.
//
// ChooseNodeSource is pure; PickLiveNode and ResolveNode do network and file
// I/O. Thread-safe free functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "cluster/cluster_file.h"
#include "common/status.h"

namespace tessera::cli {

inline constexpr const char* kDefaultNodeUrl = "http://127.0.0.1:8080";
inline constexpr const char* kDefaultClusterFile = "./var/cluster.json";

struct NodeSource {
  enum class Kind { kNodeFlag, kClusterFlag, kNodeEnv, kClusterEnv, kDefaultClusterFile, kDefault };
  Kind kind = Kind::kDefault;
  std::string value;  // a node URL or a cluster file path
  bool is_cluster_file() const {
    return kind == Kind::kClusterFlag || kind == Kind::kClusterEnv ||
           kind == Kind::kDefaultClusterFile;
  }
  // "--node", "--cluster", "$TESSERA_NODE", "$TESSERA_CLUSTER", "./var/cluster.json",
  // "the default": for messages.
  std::string Describe() const;
  bool operator==(const NodeSource&) const = default;
};

// Pure: the environment variables are passed in (nullptr when unset; empty
// counts as unset), and whether ./var/cluster.json exists.
NodeSource ChooseNodeSource(const std::optional<std::string>& node_flag,
                            const std::optional<std::string>& cluster_flag, const char* node_env,
                            const char* cluster_env, bool default_cluster_file_exists);

// The URL ("http://HOST:PORT") of the first node of `file` that answers.
// Unavailable naming every node tried and why when none does.
Result<std::string> PickLiveNode(const cluster::ClusterFile& file, const std::string& path,
                                 std::chrono::milliseconds connect_timeout);

// From the flags and the process environment to a node URL. InvalidArgument
// (a usage error) for a malformed URL or cluster file, NotFound for a cluster
// file that does not exist, Unavailable when no node of a cluster answers.
Result<std::string> ResolveNode(
    const std::optional<std::string>& node_flag, const std::optional<std::string>& cluster_flag,
    std::chrono::milliseconds connect_timeout = std::chrono::milliseconds(500));

}  // namespace tessera::cli
