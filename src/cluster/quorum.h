// Read and write quorum of a group, from the states of its nodes.
//
// Of N configured nodes, a group has read quorum when at least
// floor(N/2) + 1 of them are readable, and write quorum when at least
// floor(N/2) + 1 are writable. Readable and writable come from the node
// capability table (capability.h) at a caller-chosen access level, normally
// AccessLevel::kNormal. A GONE node counts as neither; nodes of the N that
// the caller gives no state for count as neither too (they are not there).
//
// Two groups that cannot see each other can never both have quorum, since
// each would need more than half of the same N nodes.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "cluster/capability.h"
#include "cluster/device_state.h"
#include "cluster/group_state.h"
#include "common/status.h"

namespace tessera::cluster {

// floor(n/2) + 1: the fewest nodes that are a majority of n.
uint32_t QuorumSize(uint32_t configured);

struct QuorumStatus {
  uint32_t configured = 0;  // N
  uint32_t needed = 0;      // floor(N/2) + 1
  uint32_t readable = 0;
  uint32_t writable = 0;
  bool has_read_quorum = false;
  bool has_write_quorum = false;
  // "4 of 5 nodes readable, need 3; 2 of 5 nodes writable, need 3".
  std::string reason;

  bool operator==(const QuorumStatus&) const = default;
};

// InvalidArgument when configured is 0, when more states than configured
// nodes are given, or when a state is not a valid node condition (stalled;
// see CapabilitiesOf).
Result<QuorumStatus> EvaluateQuorum(uint32_t configured, std::span<const DeviceCondition> nodes,
                                    AccessLevel level = AccessLevel::kNormal);

// The condition of every node a group names: its members and the nodes
// named as whole nodes in down, soft_failed, dead or stalled, or in
// read_only. Per node: liveness is DEAD if named in dead, else DOWN if named
// in down, else UP (a down or dead node is not a member, but a soft-failed
// or read-only one still is); soft_failed and read_only are set when the
// node is in those lists. References to single drives do not change a
// node's condition. InvalidArgument when a whole node is listed as stalled
// (stalled applies to drives only).
Result<std::map<uint32_t, DeviceCondition>> NodeConditionsOf(const GroupState& group);

// EvaluateQuorum over NodeConditionsOf(group), with N the number of nodes
// the group names. A group seen from a split-off node names the rest as
// down, so N is the whole cluster there; when the configured node count is
// known from elsewhere, pass it to EvaluateQuorum instead.
Result<QuorumStatus> EvaluateGroupQuorum(const GroupState& group,
                                         AccessLevel level = AccessLevel::kNormal);

}  // namespace tessera::cluster
