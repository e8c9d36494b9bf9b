#include "cluster/quorum.h"

#include <gtest/gtest.h>

#include <vector>

#include "cluster/group_notation.h"

namespace tessera::cluster {
namespace {

// floor(N/2) + 1 written out for N = 1..9.
const uint32_t kNeeded[10] = {0, 1, 2, 2, 3, 3, 4, 4, 5, 5};

TEST(QuorumTest, QuorumSizeIsAStrictMajority) {
  for (uint32_t n = 1; n <= 9; ++n) EXPECT_EQ(QuorumSize(n), kNeeded[n]) << n;
  EXPECT_EQ(QuorumSize(100), 51u);
  EXPECT_EQ(QuorumSize(101), 51u);
}

// The node conditions and what they give at normal access and at
// read_soft_fail (from the node table: readable, writable).
struct NodeCase {
  DeviceCondition condition;
  bool readable_normal, writable_normal;
  bool readable_soft_fail, writable_soft_fail;
};
const NodeCase kNodeCases[] = {
    {{Liveness::kUp, false, false}, true, true, true, true},
    {{Liveness::kUp, true, false}, false, false, true, false},
    {{Liveness::kUp, false, true}, true, false, true, false},
    {{Liveness::kUp, true, true}, false, false, true, false},
    {{Liveness::kDown, false, false}, false, false, false, false},
    {{Liveness::kDown, true, false}, false, false, false, false},
    {{Liveness::kDown, false, true}, false, false, false, false},
    {{Liveness::kDown, true, true}, false, false, false, false},
    {{Liveness::kDead, false, false}, false, false, false, false},
    {{Liveness::kGone, false, false}, false, false, false, false},
};
constexpr size_t kNumNodeCases = sizeof(kNodeCases) / sizeof(kNodeCases[0]);

// Every count of writable/readable nodes for N = 1..9: w plain UP nodes,
// r - w read-only UP nodes, the rest down.
TEST(QuorumTest, EveryCountForOneToNineNodes) {
  for (uint32_t n = 1; n <= 9; ++n) {
    for (uint32_t r = 0; r <= n; ++r) {
      for (uint32_t w = 0; w <= r; ++w) {
        std::vector<DeviceCondition> nodes;
        for (uint32_t i = 0; i < n; ++i) {
          if (i < w) {
            nodes.push_back({Liveness::kUp, false, false});
          } else if (i < r) {
            nodes.push_back({Liveness::kUp, false, true});
          } else {
            nodes.push_back({Liveness::kDown, false, false});
          }
        }
        Result<QuorumStatus> q = EvaluateQuorum(n, nodes);
        ASSERT_TRUE(q.ok()) << q.status().ToString();
        EXPECT_EQ(q->configured, n);
        EXPECT_EQ(q->needed, kNeeded[n]);
        EXPECT_EQ(q->readable, r);
        EXPECT_EQ(q->writable, w);
        EXPECT_EQ(q->has_read_quorum, 2 * r > n) << n << " " << r;
        EXPECT_EQ(q->has_write_quorum, 2 * w > n) << n << " " << w;
      }
    }
  }
}

// Every mix of node conditions for N = 1..4, with 0..N nodes reporting.
TEST(QuorumTest, EveryMixOfStatesForSmallGroups) {
  int evaluated = 0;
  for (uint32_t n = 1; n <= 4; ++n) {
    for (uint32_t given = 0; given <= n; ++given) {
      size_t combos = 1;
      for (uint32_t i = 0; i < given; ++i) combos *= kNumNodeCases;
      for (size_t code = 0; code < combos; ++code) {
        std::vector<DeviceCondition> nodes;
        uint32_t r_normal = 0, w_normal = 0, r_sf = 0, w_sf = 0;
        size_t rest = code;
        for (uint32_t i = 0; i < given; ++i) {
          const NodeCase& c = kNodeCases[rest % kNumNodeCases];
          rest /= kNumNodeCases;
          nodes.push_back(c.condition);
          r_normal += c.readable_normal;
          w_normal += c.writable_normal;
          r_sf += c.readable_soft_fail;
          w_sf += c.writable_soft_fail;
        }
        Result<QuorumStatus> normal = EvaluateQuorum(n, nodes);
        Result<QuorumStatus> soft_fail = EvaluateQuorum(n, nodes, AccessLevel::kReadSoftFail);
        ASSERT_TRUE(normal.ok() && soft_fail.ok());
        EXPECT_EQ(normal->readable, r_normal);
        EXPECT_EQ(normal->writable, w_normal);
        EXPECT_EQ(normal->has_read_quorum, r_normal >= kNeeded[n]);
        EXPECT_EQ(normal->has_write_quorum, w_normal >= kNeeded[n]);
        EXPECT_EQ(soft_fail->readable, r_sf);
        EXPECT_EQ(soft_fail->writable, w_sf);
        EXPECT_EQ(soft_fail->has_read_quorum, r_sf >= kNeeded[n]);
        EXPECT_EQ(soft_fail->has_write_quorum, w_sf >= kNeeded[n]);
        // Write quorum implies read quorum: every writable node is readable.
        EXPECT_TRUE(!normal->has_write_quorum || normal->has_read_quorum);
        ++evaluated;
      }
    }
  }
  EXPECT_EQ(evaluated, 11 + 111 + 1111 + 11111);
}

// Two sides of a partition never both have quorum, for any split of up to
// nine nodes into two sides of UP nodes (the rest unreachable from both).
TEST(QuorumTest, TwoDisjointSidesNeverBothHaveQuorum) {
  for (uint32_t n = 1; n <= 9; ++n) {
    for (uint32_t a = 0; a <= n; ++a) {
      for (uint32_t b = 0; a + b <= n; ++b) {
        std::vector<DeviceCondition> side_a(a), side_b(b);
        Result<QuorumStatus> qa = EvaluateQuorum(n, side_a);
        Result<QuorumStatus> qb = EvaluateQuorum(n, side_b);
        ASSERT_TRUE(qa.ok() && qb.ok());
        EXPECT_FALSE(qa->has_write_quorum && qb->has_write_quorum) << n << " " << a << " " << b;
        EXPECT_FALSE(qa->has_read_quorum && qb->has_read_quorum) << n << " " << a << " " << b;
      }
    }
  }
}

TEST(QuorumTest, ReasonSaysCountsAndNeed) {
  std::vector<DeviceCondition> nodes = {
      {Liveness::kUp, false, false}, {Liveness::kUp, false, false},   {Liveness::kUp, false, true},
      {Liveness::kUp, false, true},  {Liveness::kDown, false, false},
  };
  Result<QuorumStatus> q = EvaluateQuorum(5, nodes);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->reason, "4 of 5 nodes readable, need 3; 2 of 5 nodes writable, need 3");
  EXPECT_TRUE(q->has_read_quorum);
  EXPECT_FALSE(q->has_write_quorum);

  nodes = {
      {Liveness::kUp, false, false}, {Liveness::kUp, false, false}, {Liveness::kUp, false, false}};
  q = EvaluateQuorum(5, nodes);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->reason, "3 of 5 nodes readable, need 3; 3 of 5 nodes writable, need 3");
  EXPECT_TRUE(q->has_write_quorum);

  q = EvaluateQuorum(1, {});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->reason, "0 of 1 nodes readable, need 1; 0 of 1 nodes writable, need 1");
}

TEST(QuorumTest, RejectsBadInput) {
  Result<QuorumStatus> q = EvaluateQuorum(0, {});
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);

  std::vector<DeviceCondition> three(3);
  q = EvaluateQuorum(2, three);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().message(), "3 node states given for 2 configured nodes");

  std::vector<DeviceCondition> stalled = {{}, {Liveness::kStalled, false, false}};
  q = EvaluateQuorum(3, stalled);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().message(), "node state 1: stalled applies to drives only");
}

// Group notation examples in the style of the reference's group messages.
struct GroupCase {
  const char* notation;
  uint32_t configured, readable, writable;
  bool read_quorum, write_quorum;
};

TEST(GroupQuorumTest, FromNotation) {
  const GroupCase cases[] = {
      {"{ 1-4:0-11 }", 4, 4, 4, true, true},
      {"{ 1:0-2,4-11, 2-4:0-11, stalled: 1:3 }", 4, 4, 4, true, true},
      {"{ 1-2:0-23, 4:0-23, down: 3 }", 4, 3, 3, true, true},
      {"{ 1-3:0-23, soft_failed: 2 }", 3, 2, 2, true, true},
      {"{ 1-3:0-23, 5:0-17,19-24, down: 4, soft_failed: 4 }", 5, 4, 4, true, true},
      {"{ 2:0-11, 3:0-3,5-11, 4-5:0-11, down: 1, 3:4, soft_failed: 1, 3:4 }", 5, 4, 4, true, true},
      {"{ 1-6:0-8, soft_failed: 2, read_only: 3 }", 6, 5, 4, true, true},
      {"{ 1-5:0-11, read_only: 1-3 }", 5, 5, 2, true, false},
      {"{ 6:0-11, down: 3-5,8-9,12 }", 7, 1, 1, false, false},
      {"{ 1-2:0-11, down: 3-4 }", 4, 2, 2, false, false},
      {"{ 1-5:0-11, 6:0-7,9-12, 7-10,12-14:0-11, 15:0-10,12, 16-17:0-11, dead: 11 }", 17, 16, 16,
       true, true},
      {"{ 1:0-11, 2:0-9,11, 3-6:0-11, dead: 2:10 }", 6, 6, 6, true, true},
      {"<1,272>: { 1-2:0-11, 6-8, 9-10:0-11, down: 11, soft_failed: 11, diskless: 6-8 }", 8, 7, 7,
       true, true},
  };
  for (const GroupCase& c : cases) {
    SCOPED_TRACE(c.notation);
    Result<GroupState> group = ParseGroupNotation(c.notation);
    ASSERT_TRUE(group.ok()) << group.status().ToString();
    Result<QuorumStatus> q = EvaluateGroupQuorum(*group);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_EQ(q->configured, c.configured);
    EXPECT_EQ(q->readable, c.readable);
    EXPECT_EQ(q->writable, c.writable);
    EXPECT_EQ(q->has_read_quorum, c.read_quorum);
    EXPECT_EQ(q->has_write_quorum, c.write_quorum);
  }
}

TEST(GroupQuorumTest, NodeConditions) {
  Result<GroupState> group = ParseGroupNotation(
      "{ 1-3:0-11, 5:0-11, down: 4, 5:3, soft_failed: 2, 4, read_only: 3, "
      "dead: 6 }");
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  Result<std::map<uint32_t, DeviceCondition>> nodes = NodeConditionsOf(*group);
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  std::map<uint32_t, DeviceCondition> want = {
      {1, {Liveness::kUp, false, false}}, {2, {Liveness::kUp, true, false}},
      {3, {Liveness::kUp, false, true}},  {4, {Liveness::kDown, true, false}},
      {5, {Liveness::kUp, false, false}}, {6, {Liveness::kDead, false, false}},
  };
  EXPECT_EQ(*nodes, want);

  Result<QuorumStatus> normal = EvaluateGroupQuorum(*group);
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(normal->reason, "3 of 6 nodes readable, need 4; 2 of 6 nodes writable, need 4");
  Result<QuorumStatus> soft_fail = EvaluateGroupQuorum(*group, AccessLevel::kReadSoftFail);
  ASSERT_TRUE(soft_fail.ok());
  EXPECT_EQ(soft_fail->reason, "4 of 6 nodes readable, need 4; 2 of 6 nodes writable, need 4");
  EXPECT_TRUE(soft_fail->has_read_quorum);
}

TEST(GroupQuorumTest, RejectsAStalledNodeAndAnEmptyGroup) {
  Result<GroupState> group = ParseGroupNotation("{ 1:0-11, stalled: 2 }");
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  Result<QuorumStatus> q = EvaluateGroupQuorum(*group);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().message(), "node 2 is listed as stalled; stalled applies to drives only");

  group = ParseGroupNotation("{ }");
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_FALSE(EvaluateGroupQuorum(*group).ok());
}

}  // namespace
}  // namespace tessera::cluster
