#include "cluster/shard_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace tessera::cluster {
namespace {

std::set<uint32_t> Members(uint32_t mask) {
  std::set<uint32_t> out;
  for (uint32_t n = 1; n <= 8; ++n) {
    if (mask & (1u << (n - 1))) out.insert(n);
  }
  return out;
}

void ExpectValid(const ShardMap& map, const std::set<uint32_t>& members, uint32_t copies) {
  for (const ShardReplicas& r : map.shards) {
    ASSERT_EQ(r.nodes.size(), std::min<size_t>(copies, members.size()));
    std::set<uint32_t> distinct(r.nodes.begin(), r.nodes.end());
    EXPECT_EQ(distinct.size(), r.nodes.size()) << "replicas must be distinct";
    for (uint32_t n : r.nodes) EXPECT_TRUE(members.count(n)) << n << " is not a member";
  }
}

TEST(ShardMapTest, ShardFollowsTheDirectory) {
  const uint32_t shards = 64;
  EXPECT_EQ(ShardOf("ns", "a/b/c.dcm", shards), ShardOf("ns", "a/b/d.dcm", shards));
  EXPECT_EQ(ShardOf("ns", "top1", shards), ShardOf("ns", "top2", shards));
  for (uint32_t n : {1u, 7u, 64u}) {
    for (const char* p : {"x", "a/b", "a/b/c", "deep/er/and/deeper/f"}) {
      EXPECT_LT(ShardOf("ns", p, n), n);
    }
  }
  // Different directories and namespaces spread over the shards.
  std::set<uint32_t> seen;
  for (int d = 0; d < 200; ++d) seen.insert(ShardOf("ns", "d" + std::to_string(d) + "/f", shards));
  EXPECT_GT(seen.size(), 50u);
  EXPECT_NE(ShardOf("a", "x/f", 1u << 20), ShardOf("b", "x/f", 1u << 20));
}

// Every set of up to 8 members, every copy count 1..4: valid fresh maps;
// and for every transition to another member set: survivors kept in order.
TEST(ShardMapTest, ExhaustiveTransitionsKeepSurvivorsAndStayValid) {
  const uint32_t shards = 16;
  for (uint32_t copies = 1; copies <= 4; ++copies) {
    for (uint32_t before = 1; before < 256; ++before) {
      std::set<uint32_t> old_members = Members(before);
      auto fresh = ComputeShardMap({}, old_members, shards, copies, 1);
      ASSERT_TRUE(fresh.ok());
      ExpectValid(*fresh, old_members, copies);
      for (uint32_t after = 1; after < 256; after += 7) {
        std::set<uint32_t> members = Members(after);
        auto next = ComputeShardMap(*fresh, members, shards, copies, 2);
        ASSERT_TRUE(next.ok());
        ExpectValid(*next, members, copies);
        for (uint32_t s = 0; s < shards; ++s) {
          std::vector<uint32_t> survivors;
          for (uint32_t n : fresh->shards[s].nodes) {
            if (members.count(n)) survivors.push_back(n);
          }
          size_t keep = std::min(survivors.size(), next->shards[s].nodes.size());
          std::vector<uint32_t> prefix(next->shards[s].nodes.begin(),
                                       next->shards[s].nodes.begin() + keep);
          survivors.resize(keep);
          EXPECT_EQ(prefix, survivors) << "survivors lead, in their old order";
        }
      }
    }
  }
}

TEST(ShardMapTest, UnchangedMembersGiveTheSameMapAndLoadIsBalanced) {
  std::set<uint32_t> members = {1, 2, 3, 4, 5, 6};
  auto a = ComputeShardMap({}, members, 256, 3, 5);
  ASSERT_TRUE(a.ok());
  auto b = ComputeShardMap(*a, members, 256, 3, 6);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->shards, b->shards);
  std::map<uint32_t, int> primaries, replicas;
  for (const ShardReplicas& r : a->shards) {
    ++primaries[r.nodes[0]];
    for (uint32_t n : r.nodes) ++replicas[n];
  }
  for (uint32_t n : members) {
    EXPECT_GT(primaries[n], 256 / 6 / 2) << n;  // within a factor of two of even
    EXPECT_LT(primaries[n], 256 / 6 * 2) << n;
    EXPECT_GT(replicas[n], 3 * 256 / 6 / 2) << n;
  }
  // A node leaving moves only its own shards.
  std::set<uint32_t> fewer = {1, 2, 3, 4, 5};
  auto c = ComputeShardMap(*a, fewer, 256, 3, 7);
  ASSERT_TRUE(c.ok());
  for (size_t s = 0; s < 256; ++s) {
    const auto& before = a->shards[s].nodes;
    if (std::find(before.begin(), before.end(), 6u) == before.end()) {
      EXPECT_EQ(c->shards[s].nodes, before) << "shard " << s << " moved needlessly";
    }
  }
}

TEST(ShardMapTest, RejectsBadArgumentsAndRoundTripsJson) {
  EXPECT_FALSE(ComputeShardMap({}, {1}, 0, 1, 1).ok());
  EXPECT_FALSE(ComputeShardMap({}, {1}, 4, 0, 1).ok());
  auto four = ComputeShardMap({}, {1, 2}, 4, 2, 1);
  ASSERT_TRUE(four.ok());
  EXPECT_FALSE(ComputeShardMap(*four, {1, 2}, 8, 2, 2).ok());
  auto none = ComputeShardMap({}, {}, 4, 2, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->shards[0].nodes.empty());

  auto parsed = ParseShardMap(ShardMapJson(*four));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, *four);
  for (const char* bad : {"", "[]", R"({"epoch":1})", R"({"epoch":1,"shards":[[]]})",
                          R"({"epoch":1,"shards":[[0]]})", R"({"epoch":1,"shards":[[1,1]]})",
                          R"({"epoch":1,"shards":[["x"]]})", R"({"epoch":"1","shards":[]})"}) {
    EXPECT_FALSE(ParseShardMap(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tessera::cluster
