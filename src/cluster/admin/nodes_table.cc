#include "cluster/admin/nodes_table.h"

#include <algorithm>
#include <array>

namespace tessera::cluster::admin {
namespace {

// The reference's column widths; each includes the spaces before the value.
constexpr std::array<size_t, 5> kMinWidths = {11, 17, 10, 14, 10};
constexpr size_t kGap = 2;

std::string RightAligned(const std::string& text, size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::array<std::string, 5> Cells(const NodeRow& row) {
  return {std::to_string(row.array_id), row.address, std::string(NodeStatusName(row.status)),
          row.master ? "M" : "S", std::to_string(row.priority)};
}

}  // namespace

std::string_view NodeStatusName(NodeStatus status) {
  switch (status) {
    case NodeStatus::kJoined:
      return "joined";
    case NodeStatus::kDown:
      return "down";
    case NodeStatus::kDead:
      return "dead";
    case NodeStatus::kSoftFailed:
      return "soft_failed";
    case NodeStatus::kReadOnly:
      return "read_only";
  }
  return "unknown";
}

bool Joined(const AdminNode& node, const std::optional<GroupRecord>& group) {
  return node.live && group.has_value() && group->group.members.count(node.record.array_id) > 0;
}

NodeStatus StatusOf(const AdminNode& node, const std::optional<GroupRecord>& group) {
  if (node.state.dead) return NodeStatus::kDead;
  if (node.state.soft_failed) return NodeStatus::kSoftFailed;
  if (node.state.read_only) return NodeStatus::kReadOnly;
  return Joined(node, group) ? NodeStatus::kJoined : NodeStatus::kDown;
}

std::vector<NodeRow> NodeRows(const AdminSnapshot& snapshot) {
  std::vector<NodeRow> rows;
  for (const AdminNode& node : snapshot.nodes) {
    NodeRow row;
    row.array_id = node.record.array_id;
    row.address = node.record.address;
    row.status = StatusOf(node, snapshot.group);
    row.joined = Joined(node, snapshot.group);
    row.live = node.live;
    row.state = node.state;
    row.master = snapshot.master.has_value() && snapshot.master->array_id == row.array_id;
    row.priority = node.priority;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string FormatNodesTable(const std::vector<NodeRow>& rows) {
  const std::array<std::string, 5> header = {"Id", "Ip", "Status", "Master/Slave", "Priority"};
  std::array<size_t, 5> widths = kMinWidths;
  for (const NodeRow& row : rows) {
    std::array<std::string, 5> cells = Cells(row);
    for (size_t i = 0; i < cells.size(); ++i) {
      widths[i] = std::max(widths[i], cells[i].size() + kGap);
    }
  }
  auto line = [&widths](const std::array<std::string, 5>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) out += RightAligned(cells[i], widths[i]);
    return out + "\n";
  };
  std::string out = line(header);
  for (const NodeRow& row : rows) out += line(Cells(row));
  return out;
}

nlohmann::ordered_json NodesJson(const std::vector<NodeRow>& rows) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const NodeRow& row : rows) {
    out.push_back({{"id", row.array_id},
                   {"ip", row.address},
                   {"status", NodeStatusName(row.status)},
                   {"master_slave", row.master ? "M" : "S"},
                   {"priority", row.priority},
                   {"joined", row.joined},
                   {"live", row.live},
                   {"soft_failed", row.state.soft_failed},
                   {"read_only", row.state.read_only},
                   {"dead", row.state.dead}});
  }
  return out;
}

}  // namespace tessera::cluster::admin
