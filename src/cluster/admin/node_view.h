// A node's own view of the cluster: GET http://<address>/v1/cluster/view.
//
//   {"array_id": 3, "lnn": 3, "cluster": "local", "writable": true, "reason": "",
//    "session_lost": false, "epoch": 57, "group": "<3,57>: { 1-3:0-3 }",
//    "is_master": false, "master": 1}
//
// ParseNodeView is pure and strict about types (a field of the wrong type is
// Corruption naming it); fields a node leaves out keep their defaults, so an
// older node still parses. FetchNodeView asks one node: Unavailable
// ("unreachable: ...") when it does not answer within `timeout`,
// FailedPrecondition ("HTTP 404: ...") for any other status, Corruption for a
// body that is not a view. FetchNodeViews asks many in parallel, so a whole
// cluster costs about one timeout. Thread-safe free functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::cluster::admin {

struct NodeView {
  uint32_t array_id = 0;
  uint32_t lnn = 0;
  std::string cluster;
  bool writable = false;
  std::string reason;  // why not writable
  bool session_lost = false;
  int64_t epoch = 0;  // 0: no group seen
  std::string group;  // notation; "" when none seen
  bool is_master = false;
  uint32_t master = 0;  // 0: none known
  bool operator==(const NodeView&) const = default;
};

Result<NodeView> ParseNodeView(const std::string& json);

inline constexpr std::chrono::milliseconds kNodeViewTimeout{1000};

// `address` is HOST:PORT.
// GET `path` on a node: its body on 200; Unavailable when the node does not
// answer, FailedPrecondition "HTTP <status>: <error>" otherwise.
Result<std::string> GetNodeBody(const std::string& address, const std::string& path,
                                std::chrono::milliseconds connect_timeout,
                                std::chrono::milliseconds timeout);

Result<NodeView> FetchNodeView(const std::string& address,
                               std::chrono::milliseconds timeout = kNodeViewTimeout);

// One result per address, in the same order.
std::vector<Result<NodeView>> FetchNodeViews(const std::vector<std::string>& addresses,
                                             std::chrono::milliseconds timeout = kNodeViewTimeout);

}  // namespace tessera::cluster::admin
