// `tessera nodes -l`: one row per registered node, laid out like the
// corolistener listing of the reference (002, "corolistener -l"):
//
//          Id               Ip    Status  Master/Slave  Priority
//           1   127.0.0.1:8081    joined             M         1
//           2   127.0.0.1:8082      down             S         0
//
// Status is one word, the first that applies of
//
//   dead         states/<id> says dead (the node is to be removed)
//   soft_failed  states/<id> says soft_failed (being smartfailed)
//   read_only    states/<id> says read_only
//   joined       a member of the current group with a live key
//   down         anything else: listed down in the group, no live key, or
//                no group has been written yet
//
// Operator-set states come first because they are what an operator must act
// on and they persist across restarts; whether such a node is up as well is
// in the "joined" field of the JSON rows. Master/Slave is M for the array id
// in the master key, S otherwise; Priority is priorities/<id> (0 if absent).
//
// Columns are right-aligned at the reference's widths (11, 17, 10, 14, 10)
// and grow to keep two spaces before a longer value. Pure, no I/O.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/admin/admin_snapshot.h"

namespace tessera::cluster::admin {

enum class NodeStatus { kJoined, kDown, kDead, kSoftFailed, kReadOnly };

// "joined", "down", "dead", "soft_failed", "read_only".
std::string_view NodeStatusName(NodeStatus status);

struct NodeRow {
  uint32_t array_id = 0;
  std::string address;
  NodeStatus status = NodeStatus::kDown;
  bool joined = false;  // member of the current group and live
  bool live = false;
  PersistentNodeState state;
  bool master = false;
  int64_t priority = 0;
  bool operator==(const NodeRow&) const = default;
};

// True when `node` is a member of `group` and has a live key.
bool Joined(const AdminNode& node, const std::optional<GroupRecord>& group);

// The status by the precedence above.
NodeStatus StatusOf(const AdminNode& node, const std::optional<GroupRecord>& group);

// One row per registered node, in array id order.
std::vector<NodeRow> NodeRows(const AdminSnapshot& snapshot);

// The header line and one line per row, each ending in '\n'.
std::string FormatNodesTable(const std::vector<NodeRow>& rows);

// [{"id", "ip", "status", "master_slave": "M"|"S", "priority", "joined",
//   "live", "soft_failed", "read_only", "dead"}, ...]
nlohmann::ordered_json NodesJson(const std::vector<NodeRow>& rows);

}  // namespace tessera::cluster::admin
