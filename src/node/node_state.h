// What a node remembers about itself across restarts, in <state>/node.json:
// its cluster, its array id, and every drive it has ever had (by lnum, which
// is never reused). Written atomically (temp file, fsync, rename).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace tessera::node {

struct NodeState {
  std::string cluster_guid;
  uint32_t array_id = 1;
  uint32_t next_lnum = 0;
  std::map<uint32_t, std::string> drive_paths;  // lnum -> path it was last seen at

  // NotFound when there is no state yet; Corruption when it cannot be read.
  static Result<NodeState> Load(const std::string& state_dir);
  Status Save(const std::string& state_dir) const;
  // A fresh node: a random cluster GUID, array id 1.
  static NodeState New();
};

}  // namespace tessera::node
