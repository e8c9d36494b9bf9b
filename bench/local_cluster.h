// A cluster started with `tessera up` in a directory, for the load benches
// (cluster_load_bench, packing_bench): its nodes from cluster.json, admin
// verbs against it, a health check, and `tessera down` (data kept) when it
// goes. Failures are logged and counted through the `fail` callback, so a
// bench's exit status reflects them.
//
// Not thread-safe; NodeClients gives each client thread its own connections.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/node_process.h"

namespace tessera::bench {

struct LocalClusterSpec {
  std::string binary;
  int nodes = 3;
  int drives = 4;
  std::string protection = "+2";
  int etcd_members = 0;  // 0: `tessera up`'s default
  int up_timeout = 120;
};

struct ClusterNode {
  std::string name;
  std::string host;
  int port = 0;
};

class LocalCluster {
 public:
  using FailFn = std::function<void(const std::string& why)>;
  LocalCluster(LocalClusterSpec spec, std::string dir, FailFn fail)
      : spec_(std::move(spec)), dir_(std::move(dir)), fail_(std::move(fail)) {}
  ~LocalCluster() { Down(); }
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // `tessera up` of a new cluster, then its nodes from cluster.json.
  bool Up();
  // Stops the cluster and starts it again (same ports and data), so that
  // settings of the restart kind take effect.
  bool Restart();
  void Down();

  // `tessera ARGS --cluster FILE`.
  testing::CommandResult Admin(std::vector<std::string> args) const;
  // An admin verb that must succeed (else a failure); its output.
  std::string MustAdmin(const std::vector<std::string>& args) const;

  // Every node's process still runs and answers GET /v1/node.
  bool Healthy(std::string* why) const;
  // The last lines of every node's log, for failure messages.
  std::string LogTails() const;

  std::string cluster_file() const { return dir_ + "/cluster.json"; }
  const std::vector<ClusterNode>& nodes() const { return nodes_; }
  const std::string& dir() const { return dir_; }
  size_t etcd_members() const { return etcd_members_; }
  std::string NodeDir(const ClusterNode& n) const { return dir_ + "/" + n.name; }
  std::string Drive(const ClusterNode& n, int d) const {
    return NodeDir(n) + "/d" + std::to_string(d);
  }

 private:
  bool Start(const std::vector<std::string>& argv);

  LocalClusterSpec spec_;
  std::string dir_;
  FailFn fail_;
  bool started_ = false;
  size_t etcd_members_ = 0;
  std::vector<ClusterNode> nodes_;
};

// One keep-alive client per node, made when the thread first needs it.
struct NodeClients {
  const LocalCluster* cluster;
  std::vector<std::unique_ptr<httplib::Client>> clients;
  httplib::Client& operator[](int node);
};

}  // namespace tessera::bench
