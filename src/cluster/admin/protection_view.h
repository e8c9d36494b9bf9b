// What a node says about the data's protection: GET /v1/cluster/protection
// (docs/api.md), which scans the node's file records against the group it
// sees. `tessera status` asks the master for it.
//
// Threading: plain functions; FetchProtectionView blocks for one request.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::cluster::admin {

struct ProtectionView {
  uint32_t array_id = 0;  // the node that answered
  bool below_protection = false;
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t files_at_risk = 0;
  uint64_t bytes_at_risk = 0;
  uint64_t units_at_risk = 0;
  uint64_t files_unavailable = 0;
  uint64_t bytes_unavailable = 0;
  std::vector<std::string> failed_devices;
  bool operator==(const ProtectionView&) const = default;
};

// Corruption when the text is not the endpoint's JSON.
Result<ProtectionView> ParseProtectionView(const std::string& text);

// "at full protection: 12 files, 3.0M" or "BELOW PROTECTION: 2 of 12 files
// (1.5M of 3.0M, 10 units) have units on failed devices (node 3); 0 files
// (0B) unavailable", then " (as node 1 sees it)".
std::string DescribeProtectionView(const ProtectionView& view);

Result<ProtectionView> FetchProtectionView(const std::string& address,
                                           std::chrono::milliseconds timeout);

}  // namespace tessera::cluster::admin
