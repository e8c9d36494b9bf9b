// `tessera status`: the summary an operator reads first, built from an
// AdminSnapshot (when etcd answered), the protection setting and what every
// node says about itself (node_view.h). Pure: FormatStatus and StatusJson do
// no I/O, so every line is tested exhaustively; status_command.cc gathers
// the input.
//
// Text layout (one "key: value" line per topic, details indented):
//
//   cluster: local
//   etcd: ok (127.0.0.1:2379)
//   nodes: 3 configured: 2 joined, 1 down, 0 dead; 1 soft_failed, 0 read_only
//   drives:
//     node 1: 0-3 (4 drives), in group: 0-3
//     node 3: 0-3 (4 drives), not in group
//   quorum: read yes, write yes (3 of 3 nodes readable, need 2; ...)
//   master: node 1 at 127.0.0.1:8081, priority 1, token 57
//   group: <1,57>: { 1-2:0-3, down: 3 } (epoch 57, cause split)
//   protection: +2 (default)
//   node views:
//     node 1 at 127.0.0.1:8081: writable; epoch 57; master 1
//     node 3 at 127.0.0.1:8083: unreachable (Connection)
//
// Node counts: joined / down / dead partition the registered nodes (dead by
// state; joined = group member with a live key, as nodes_table.h; down the
// rest); soft_failed and read_only count the flags, whatever the liveness.
// Quorum is EvaluateGroupQuorum of the stored group. When etcd could not be
// read, only the cluster, "etcd: unreachable (no quorum?): <why>" (or
// "etcd: error: <why>" for an answer that is not Unavailable) and the
// node views (of the nodes in cluster.json) are printed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cluster/admin/admin_snapshot.h"
#include "cluster/admin/node_view.h"
#include "cluster/admin/protection_view.h"
#include "common/status.h"

namespace tessera::cluster::admin {

// One node asked for its view.
struct NodeProbe {
  uint32_t array_id = 0;  // 0 when the node is known only by name (cluster.json)
  std::string name;       // the cluster.json name; empty for registered nodes
  std::string address;    // HOST:PORT
  Result<NodeView> view = Status::Internal("not asked");
};

// The protection setting as the cluster sees it (ConfigStore::Load).
struct ProtectionSetting {
  std::string value;   // canonical, e.g. "+2d:1n"
  std::string source;  // "default" or the key it came from
  std::string error;   // non-empty when it could not be read or resolved
};

struct StatusInput {
  std::string cluster;
  std::string etcd_endpoints;             // "127.0.0.1:2379,..." for the etcd line
  Status etcd_status;                     // OK, or why etcd could not be read
  std::optional<AdminSnapshot> snapshot;  // set when etcd answered
  ProtectionSetting protection;
  std::vector<NodeProbe> probes;  // in the order to print
  // The master's GET /v1/cluster/protection (protection_view.h); not asked
  // when etcd could not be read.
  Result<ProtectionView> data = Status::Internal("not asked");
};

struct NodeCounts {
  uint32_t configured = 0;
  uint32_t joined = 0;
  uint32_t down = 0;
  uint32_t dead = 0;
  uint32_t soft_failed = 0;
  uint32_t read_only = 0;
  bool operator==(const NodeCounts&) const = default;
};

NodeCounts CountNodes(const AdminSnapshot& snapshot);

// "read yes, write no (<QuorumStatus::reason>)"; "unknown (no group yet)"
// without a group; "unknown (<error>)" when the group cannot be evaluated.
std::string DescribeQuorum(const std::optional<GroupRecord>& group);

// The stored group in notation with its sequence <initiator,epoch>, as the
// group log writes it (GroupLogLine).
GroupState GroupWithSequence(const GroupRecord& record);

// "writable; epoch 57; master 1", "not writable (etcd session lost); ...",
// "unreachable (Connection)", "no view (HTTP 404: ...)".
std::string DescribeProbe(const NodeProbe& probe);

std::string FormatStatus(const StatusInput& input);
nlohmann::ordered_json StatusJson(const StatusInput& input);

}  // namespace tessera::cluster::admin
