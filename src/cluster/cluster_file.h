// cluster.json: how the CLI finds a running cluster.
//
// `tessera up` writes it into its directory; every admin verb and the data
// verbs (put, get, ...) read it to reach etcd and any live node:
//
//   {"cluster": "local",
//    "etcd": ["127.0.0.1:23790", "127.0.0.1:23791", "127.0.0.1:23792"],
//    "nodes": [{"name": "node1", "api": "127.0.0.1:8081"}, ...],
//    "dir": "/abs/path/of/the/cluster/dir",
//    "supervisor_config": "/abs/path/supervisord.conf"}
//
// "cluster" is the name under /tessera/<cluster>/ in etcd (a config-setting
// string: [a-z][a-z0-9-]*, at most 63); "etcd" lists HOST:PORT client
// endpoints (at least one); "nodes" may be empty; "dir" and
// "supervisor_config" are empty for a cluster not started by `tessera up`.
// Parsing is strict and names the field that is wrong. Thread-safe free
// functions; Load/Save do file I/O, the rest is pure.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::cluster {

struct ClusterFileNode {
  std::string name;  // "node1"
  std::string api;   // "HOST:PORT" of the node's HTTP API
  bool operator==(const ClusterFileNode&) const = default;
};

struct ClusterFile {
  std::string cluster;
  std::vector<std::string> etcd;  // "HOST:PORT"
  std::vector<ClusterFileNode> nodes;
  std::string dir;
  std::string supervisor_config;

  // "http://h1:p1,http://h2:p2", for EtcdClient::Create.
  std::string EtcdEndpoints() const;
  // "etcd://h1:p1,h2:p2/tessera/<cluster>/config", for `tessera node --config`.
  std::string ConfigUri() const;
  bool operator==(const ClusterFile&) const = default;
};

// InvalidArgument naming the field, e.g. "cluster.json: etcd[1] 'x' is not HOST:PORT".
Result<ClusterFile> ParseClusterFile(const std::string& json);
std::string ClusterFileJson(const ClusterFile& file);

// NotFound naming the path when it does not exist; otherwise as ParseClusterFile.
Result<ClusterFile> LoadClusterFile(const std::string& path);
// Writes atomically (temp file, fsync, rename).
Status SaveClusterFile(const std::string& path, const ClusterFile& file);

// Which cluster file a command uses: `flag` when not empty, else
// $TESSERA_CLUSTER when set and not empty, else "./var/cluster.json".
std::string ResolveClusterFilePath(const std::string& flag);

}  // namespace tessera::cluster
