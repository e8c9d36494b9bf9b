#include "node/node_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "common/fs_util.h"

namespace tessera::node {

using nlohmann::json;

NodeState NodeState::New() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char guid[40];
  uint64_t a = rng(), b = rng();
  std::snprintf(guid, sizeof(guid), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  NodeState state;
  state.cluster_guid = guid;
  return state;
}

Result<NodeState> NodeState::Load(const std::string& state_dir) {
  std::string path = state_dir + "/node.json";
  std::ifstream in(path);
  if (!in) return Status::NotFound("no node state at " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  json j = json::parse(buffer.str(), nullptr, false);
  if (j.is_discarded()) return Status::Corruption(path + " is not valid JSON");
  try {
    NodeState state;
    state.cluster_guid = j.at("cluster_guid").get<std::string>();
    state.array_id = j.at("array_id").get<uint32_t>();
    state.next_lnum = j.at("next_lnum").get<uint32_t>();
    for (const json& d : j.at("drives")) {
      state.drive_paths[d.at("lnum").get<uint32_t>()] = d.at("path").get<std::string>();
    }
    return state;
  } catch (const json::exception& e) {
    return Status::Corruption(path + ": " + e.what());
  }
}

Status NodeState::Save(const std::string& state_dir) const {
  json drives = json::array();
  for (const auto& [lnum, path] : drive_paths) drives.push_back({{"lnum", lnum}, {"path", path}});
  json j = {{"cluster_guid", cluster_guid},
            {"array_id", array_id},
            {"next_lnum", next_lnum},
            {"drives", drives}};
  return WriteFileAtomically(state_dir + "/node.json", j.dump(2) + "\n");
}

}  // namespace tessera::node
