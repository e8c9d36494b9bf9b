// What integration tests and benchmarks ask of a running cluster: a node's
// view and a file's record over HTTP, and the admin verbs (`tessera job`,
// `tessera status`) through the real binary with `--cluster FILE`. Whoever
// started the cluster — NodeProcess and etcd, or `tessera up` — only says
// where its nodes listen and where its cluster.json is.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/support/node_process.h"

namespace tessera::testing {

// GET /v1/cluster/view of the node on 127.0.0.1:`port`; {} when it does not
// answer 200 within a few seconds.
nlohmann::json NodeView(int port);

// Members the node on `port` can read from (its view's quorum), 0 if none.
int ReadableMembers(int port);

// GET /v1/stat/`ns_path` on `port`; {} unless it answers 200.
nlohmann::json FileStat(int port, const std::string& ns_path);

// GET /v1/cluster/protection on `port`; {} unless it answers 200.
nlohmann::json ProtectionReport(int port);

// Writes the cluster.json at `path` for nodes a test started one by one:
// cluster `cluster`, etcd members "HOST:PORT", and nodes[i] as node<i+1>
// on 127.0.0.1, so the admin verbs reach them with --cluster.
Status WriteClusterFile(const std::string& path, const std::string& cluster,
                        const std::vector<std::string>& etcd,
                        const std::vector<std::unique_ptr<NodeProcess>>& nodes);

// The admin verbs of one cluster, run as `tessera ARGS --cluster FILE`.
class ClusterAdmin {
 public:
  explicit ClusterAdmin(std::string cluster_file) : cluster_file_(std::move(cluster_file)) {}

  CommandResult Run(std::vector<std::string> args) const;
  // Job `id` of `tessera job list --json`, or {}.
  nlohmann::json Job(int id) const;
  bool JobState(int id, const std::string& state) const {
    return Job(id).value("state", "") == state;
  }
  // The `job list` line of job `id`, or "".
  std::string JobLine(int id) const;
  // `tessera status` prints `text`.
  bool StatusSays(const std::string& text) const;

  const std::string& cluster_file() const { return cluster_file_; }

 private:
  std::string cluster_file_;
};

}  // namespace tessera::testing
