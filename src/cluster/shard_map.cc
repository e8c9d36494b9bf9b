#include "cluster/shard_map.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace tessera::cluster {
namespace {

// splitmix64: a fixed mix, so every node computes the same map.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t Fnv1a(std::string_view text, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

uint32_t ShardOf(std::string_view ns, std::string_view path, uint32_t shard_count) {
  size_t slash = path.rfind('/');
  std::string_view dir =
      slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  uint64_t h = Fnv1a(dir, Fnv1a(std::string_view("\0", 1), Fnv1a(ns)));
  return static_cast<uint32_t>(Mix(h) % shard_count);
}

Result<ShardMap> ComputeShardMap(const ShardMap& previous, const std::set<uint32_t>& members,
                                 uint32_t shard_count, uint32_t copies, int64_t epoch) {
  if (shard_count == 0 || copies == 0) {
    return Status::InvalidArgument("a shard map needs at least one shard and one copy");
  }
  if (!previous.shards.empty() && previous.shards.size() != shard_count) {
    return Status::InvalidArgument("the previous map has " +
                                   std::to_string(previous.shards.size()) + " shards, not " +
                                   std::to_string(shard_count));
  }
  const size_t want = std::min<size_t>(copies, members.size());
  ShardMap map;
  map.epoch = epoch;
  map.shards.resize(shard_count);
  for (uint32_t s = 0; s < shard_count; ++s) {
    std::vector<uint32_t>& nodes = map.shards[s].nodes;
    if (!previous.shards.empty()) {
      for (uint32_t n : previous.shards[s].nodes) {
        if (members.count(n) && nodes.size() < want) nodes.push_back(n);
      }
    }
    // Rendezvous: the members with the highest hash for this shard fill in.
    std::vector<std::pair<uint64_t, uint32_t>> ranked;
    for (uint32_t n : members) {
      if (std::find(nodes.begin(), nodes.end(), n) == nodes.end()) {
        ranked.emplace_back(Mix((static_cast<uint64_t>(s) << 32) ^ Mix(n)), n);
      }
    }
    std::sort(ranked.rbegin(), ranked.rend());
    for (size_t i = 0; nodes.size() < want && i < ranked.size(); ++i)
      nodes.push_back(ranked[i].second);
  }
  return map;
}

std::string ShardMapJson(const ShardMap& map) {
  nlohmann::json shards = nlohmann::json::array();
  for (const ShardReplicas& r : map.shards) shards.push_back(r.nodes);
  return nlohmann::json{{"epoch", map.epoch}, {"shards", shards}}.dump();
}

Result<ShardMap> ParseShardMap(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("epoch") || !j["epoch"].is_number_integer() ||
      !j.contains("shards") || !j["shards"].is_array()) {
    return Status::Corruption("shard map is not {\"epoch\", \"shards\"}: " + text);
  }
  ShardMap map;
  map.epoch = j["epoch"].get<int64_t>();
  for (const nlohmann::json& shard : j["shards"]) {
    if (!shard.is_array() || shard.empty()) {
      return Status::Corruption("shard map: every shard needs a non-empty list of nodes");
    }
    ShardReplicas r;
    for (const nlohmann::json& n : shard) {
      if (!n.is_number_unsigned() || n.get<uint64_t>() == 0 || n.get<uint64_t>() > UINT32_MAX) {
        return Status::Corruption("shard map: " + n.dump() + " is not an array id");
      }
      uint32_t id = n.get<uint32_t>();
      if (std::find(r.nodes.begin(), r.nodes.end(), id) != r.nodes.end()) {
        return Status::Corruption("shard map: node " + std::to_string(id) + " twice in a shard");
      }
      r.nodes.push_back(id);
    }
    map.shards.push_back(std::move(r));
  }
  return map;
}

}  // namespace tessera::cluster
