// The corolistener-style node listing: status precedence, M/S, priorities,
// and the exact layout of the reference.
#include "cluster/admin/nodes_table.h"

#include <gtest/gtest.h>

#include "cluster/group_notation.h"

namespace tessera::cluster::admin {
namespace {

AdminNode Node(uint32_t id, std::string address, bool live = true, PersistentNodeState state = {},
               int64_t priority = 0) {
  AdminNode n;
  n.record = NodeRecord{id, id, std::move(address), "guid-" + std::to_string(id)};
  n.live = live;
  n.state = state;
  n.priority = priority;
  return n;
}

GroupRecord Group(const std::string& notation, int64_t epoch = 57) {
  Result<GroupState> g = ParseGroupNotation(notation);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  GroupRecord r;
  r.group = g.ok() ? *g : GroupState{};
  r.initiator = 1;
  r.epoch = epoch;
  return r;
}

TEST(NodesTableTest, ReproducesTheReferenceListing) {
  // The reference's three nodes, ids 7, 9, 13, master 7.
  AdminSnapshot snap;
  snap.nodes = {Node(7, "172.31.224.72", true, {}, 100), Node(9, "172.31.224.74", true, {}, 40),
                Node(13, "172.31.224.80", true, {}, 10)};
  snap.group = Group("{ 7, 9, 13 }");
  snap.master = MasterRecord{7, 100, 5};
  EXPECT_EQ(FormatNodesTable(NodeRows(snap)),
            "         Id               Ip    Status  Master/Slave  Priority\n"
            "          7    172.31.224.72    joined             M       100\n"
            "          9    172.31.224.74    joined             S        40\n"
            "         13    172.31.224.80    joined             S        10\n");
}

TEST(NodesTableTest, EmptyClusterIsTheHeaderOnly) {
  EXPECT_EQ(FormatNodesTable({}),
            "         Id               Ip    Status  Master/Slave  Priority\n");
  EXPECT_EQ(NodesJson({}).dump(), "[]");
}

TEST(NodesTableTest, ColumnsGrowForLongValuesKeepingTwoSpaces) {
  NodeRow row;
  row.array_id = 4095;
  row.address = "[2001:db8::1234]:65535";  // 22 characters, wider than 17
  row.status = NodeStatus::kSoftFailed;    // 11 characters, wider than 10
  row.priority = -1234567890123;           // 14 characters, wider than 10
  EXPECT_EQ(FormatNodesTable({row}),
            "         Id                      Ip       Status  Master/Slave        Priority\n"
            "       4095  [2001:db8::1234]:65535  soft_failed             S  -1234567890123\n");
}

TEST(NodesTableTest, StatusPrecedenceDeadSoftFailedReadOnlyThenJoinedOrDown) {
  const std::optional<GroupRecord> group = Group("{ 1-2, down: 3 }");
  struct Case {
    bool member;
    bool live;
    PersistentNodeState state;
    NodeStatus want;
  };
  // Every combination of liveness, membership and the three flags.
  for (int bits = 0; bits < 32; ++bits) {
    const bool member = bits & 1, live = bits & 2;
    const PersistentNodeState state{
        .soft_failed = (bits & 4) != 0, .read_only = (bits & 8) != 0, .dead = (bits & 16) != 0};
    AdminNode node = Node(member ? 1 : 3, "h:1", live, state);
    NodeStatus want = state.dead          ? NodeStatus::kDead
                      : state.soft_failed ? NodeStatus::kSoftFailed
                      : state.read_only   ? NodeStatus::kReadOnly
                      : (member && live)  ? NodeStatus::kJoined
                                          : NodeStatus::kDown;
    EXPECT_EQ(StatusOf(node, group), want) << "bits " << bits;
    EXPECT_EQ(Joined(node, group), member && live) << "bits " << bits;
  }
  // Without a group nobody has joined, live or not.
  EXPECT_EQ(StatusOf(Node(1, "h:1"), std::nullopt), NodeStatus::kDown);
  EXPECT_FALSE(Joined(Node(1, "h:1"), std::nullopt));
}

TEST(NodesTableTest, StatusNames) {
  EXPECT_EQ(NodeStatusName(NodeStatus::kJoined), "joined");
  EXPECT_EQ(NodeStatusName(NodeStatus::kDown), "down");
  EXPECT_EQ(NodeStatusName(NodeStatus::kDead), "dead");
  EXPECT_EQ(NodeStatusName(NodeStatus::kSoftFailed), "soft_failed");
  EXPECT_EQ(NodeStatusName(NodeStatus::kReadOnly), "read_only");
}

TEST(NodesTableTest, RowsAndJsonCarryEveryField) {
  AdminSnapshot snap;
  snap.nodes = {Node(1, "127.0.0.1:8081", true, {}, 1),
                Node(2, "127.0.0.1:8082", false, {.soft_failed = true}),
                Node(3, "127.0.0.1:8083", true, {.read_only = true}, 5)};
  snap.group = Group("{ 1, 3, down: 2, soft_failed: 2, read_only: 3 }");
  snap.master = MasterRecord{3, 5, 9};
  std::vector<NodeRow> rows = NodeRows(snap);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (NodeRow{1, "127.0.0.1:8081", NodeStatus::kJoined, true, true, {}, false, 1}));
  EXPECT_EQ(rows[1], (NodeRow{2,
                              "127.0.0.1:8082",
                              NodeStatus::kSoftFailed,
                              false,
                              false,
                              {.soft_failed = true},
                              false,
                              0}));
  EXPECT_EQ(
      rows[2],
      (NodeRow{
          3, "127.0.0.1:8083", NodeStatus::kReadOnly, true, true, {.read_only = true}, true, 5}));
  EXPECT_EQ(FormatNodesTable(rows),
            "         Id               Ip       Status  Master/Slave  Priority\n"
            "          1   127.0.0.1:8081       joined             S         1\n"
            "          2   127.0.0.1:8082  soft_failed             S         0\n"
            "          3   127.0.0.1:8083    read_only             M         5\n");
  EXPECT_EQ(NodesJson(rows).dump(),
            R"([{"id":1,"ip":"127.0.0.1:8081","status":"joined","master_slave":"S","priority":1,)"
            R"("joined":true,"live":true,"soft_failed":false,"read_only":false,"dead":false},)"
            R"({"id":2,"ip":"127.0.0.1:8082","status":"soft_failed","master_slave":"S",)"
            R"("priority":0,"joined":false,"live":false,"soft_failed":true,"read_only":false,)"
            R"("dead":false},)"
            R"({"id":3,"ip":"127.0.0.1:8083","status":"read_only","master_slave":"M","priority":5,)"
            R"("joined":true,"live":true,"soft_failed":false,"read_only":true,"dead":false}])");
}

TEST(NodesTableTest, NoMasterKeyMeansEveryNodeIsS) {
  AdminSnapshot snap;
  snap.nodes = {Node(1, "a:1"), Node(2, "b:2")};
  for (const NodeRow& row : NodeRows(snap)) EXPECT_FALSE(row.master);
  // A master key naming an unregistered node marks nobody.
  snap.master = MasterRecord{9, 0, 1};
  for (const NodeRow& row : NodeRows(snap)) EXPECT_FALSE(row.master);
}

}  // namespace
}  // namespace tessera::cluster::admin
