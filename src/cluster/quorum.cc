#include "cluster/quorum.h"

#include <vector>

namespace tessera::cluster {

uint32_t QuorumSize(uint32_t configured) { return configured / 2 + 1; }

Result<QuorumStatus> EvaluateQuorum(uint32_t configured, std::span<const DeviceCondition> nodes,
                                    AccessLevel level) {
  if (configured == 0) return Status::InvalidArgument("a group needs at least one configured node");
  if (nodes.size() > configured) {
    return Status::InvalidArgument(std::to_string(nodes.size()) + " node states given for " +
                                   std::to_string(configured) + " configured nodes");
  }
  QuorumStatus status;
  status.configured = configured;
  status.needed = QuorumSize(configured);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].liveness == Liveness::kGone) continue;
    Result<Capabilities> caps = CapabilitiesOf(DeviceKind::kNode, nodes[i], level);
    if (!caps.ok()) return caps.status().WithContext("node state " + std::to_string(i));
    if (caps->readable) ++status.readable;
    if (caps->writable) ++status.writable;
  }
  status.has_read_quorum = status.readable >= status.needed;
  status.has_write_quorum = status.writable >= status.needed;
  std::string of = " of " + std::to_string(configured) + " nodes ";
  std::string need = ", need " + std::to_string(status.needed);
  status.reason = std::to_string(status.readable) + of + "readable" + need + "; " +
                  std::to_string(status.writable) + of + "writable" + need;
  return status;
}

Result<std::map<uint32_t, DeviceCondition>> NodeConditionsOf(const GroupState& group) {
  std::map<uint32_t, DeviceCondition> nodes;
  for (const auto& [id, drives] : group.members) nodes[id];
  for (const DeviceRef& ref : group.stalled) {
    if (ref.whole_node()) {
      return Status::InvalidArgument("node " + std::to_string(ref.node) +
                                     " is listed as stalled; stalled applies to drives only");
    }
  }
  for (const DeviceRef& ref : group.down) {
    if (ref.whole_node()) nodes[ref.node].liveness = Liveness::kDown;
  }
  for (const DeviceRef& ref : group.dead) {
    if (ref.whole_node()) nodes[ref.node].liveness = Liveness::kDead;
  }
  for (const DeviceRef& ref : group.soft_failed) {
    if (ref.whole_node()) nodes[ref.node].soft_failed = true;
  }
  for (uint32_t id : group.read_only.ToVector()) nodes[id].read_only = true;
  return nodes;
}

Result<QuorumStatus> EvaluateGroupQuorum(const GroupState& group, AccessLevel level) {
  ASSIGN_OR_RETURN(auto nodes, NodeConditionsOf(group));
  std::vector<DeviceCondition> conditions;
  conditions.reserve(nodes.size());
  for (const auto& [id, condition] : nodes) conditions.push_back(condition);
  return EvaluateQuorum(static_cast<uint32_t>(conditions.size()), conditions, level);
}

}  // namespace tessera::cluster
