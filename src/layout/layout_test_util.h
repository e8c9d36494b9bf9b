// Test-only helpers for the layout tests: the full policy set and topology
// builders.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/units.h"
#include "layout/geometry.h"
#include "layout/protection_policy.h"

namespace tessera::layout::layout_test {

inline ProtectionPolicy Parity(int drive_failures, int node_failures) {
  ProtectionPolicy p;
  p.kind = ProtectionPolicy::Kind::kParity;
  p.drive_failures = drive_failures;
  p.node_failures = node_failures;
  return p;
}

inline ProtectionPolicy Mirror(int copies) {
  ProtectionPolicy p;
  p.kind = ProtectionPolicy::Kind::kMirror;
  p.mirrors = copies;
  return p;
}

// Every valid policy, built from fields rather than by Parse so that the
// Parse tests are not circular: +1..+4, +Nd:Mn for 1 <= M < N <= 4, 2x..8x.
inline std::vector<ProtectionPolicy> AllPolicies() {
  std::vector<ProtectionPolicy> all;
  for (int n = 1; n <= 4; ++n) {
    for (int m = 1; m <= n; ++m) all.push_back(Parity(n, m));
  }
  for (int c = 2; c <= 8; ++c) all.push_back(Mirror(c));
  return all;
}

// drives_per_node[i] drives on node i (node ids 0..), lnums 0.., all with
// `free_bytes` free.
inline Topology MakeTopology(const std::vector<int>& drives_per_node,
                             uint64_t free_bytes = 100 * kGiB) {
  Topology t;
  for (size_t node = 0; node < drives_per_node.size(); ++node) {
    for (int lnum = 0; lnum < drives_per_node[node]; ++lnum) {
      t.drives.push_back({static_cast<uint32_t>(node), static_cast<uint32_t>(lnum), free_bytes});
    }
  }
  return t;
}

inline Topology Uniform(int nodes, int drives_per_node, uint64_t free_bytes = 100 * kGiB) {
  return MakeTopology(std::vector<int>(nodes, drives_per_node), free_bytes);
}

// The topologies the exhaustive tests sweep: one node with 1..24 drives,
// 1..24 nodes with 1..3 drives each, and some lopsided clusters.
inline std::vector<Topology> SweepTopologies() {
  std::vector<Topology> all;
  for (int drives = 1; drives <= 24; ++drives) all.push_back(Uniform(1, drives));
  for (int nodes = 2; nodes <= 24; ++nodes) {
    for (int drives = 1; drives <= 3; ++drives) all.push_back(Uniform(nodes, drives));
  }
  for (const std::vector<int>& counts : std::vector<std::vector<int>>{
           {1, 5}, {5, 1}, {3, 1, 1}, {2, 2, 2, 10}, {1, 1, 1, 1, 1, 12}, {4, 4, 1}, {24, 24}}) {
    all.push_back(MakeTopology(counts));
  }
  return all;
}

// Units per node of a placement.
inline std::map<uint32_t, int> LoadPerNode(const std::vector<DriveSlot>& placement) {
  std::map<uint32_t, int> load;
  for (const DriveSlot& d : placement) ++load[d.node];
  return load;
}

}  // namespace tessera::layout::layout_test
