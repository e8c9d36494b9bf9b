// The `tessera status` summary, line by line, from hand-built inputs.
#include "cluster/admin/status_report.h"

#include <gtest/gtest.h>

#include "cluster/group_notation.h"

namespace tessera::cluster::admin {
namespace {

AdminNode Node(uint32_t id, bool live, PersistentNodeState state = {},
               IdSet drives = {0, 1, 2, 3}) {
  AdminNode n;
  n.record = NodeRecord{id, id, "127.0.0.1:808" + std::to_string(id), "g", ""};
  n.live = live;
  n.state = state;
  n.drives = drives;
  return n;
}

GroupRecord Group(const std::string& notation, int64_t epoch, GroupCause cause) {
  Result<GroupState> g = ParseGroupNotation(notation);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  GroupRecord r;
  r.group = g.ok() ? *g : GroupState{};
  r.initiator = 1;
  r.cause = cause;
  r.epoch = epoch;
  return r;
}

NodeProbe Probe(uint32_t id, Result<NodeView> view) {
  NodeProbe p;
  p.array_id = id;
  p.address = "127.0.0.1:808" + std::to_string(id);
  p.view = std::move(view);
  return p;
}

// Three nodes: 1 and 2 joined, 3 down and soft-failed; 1 is master.
StatusInput Healthy() {
  StatusInput in;
  in.cluster = "local";
  in.etcd_endpoints = "127.0.0.1:2379";
  AdminSnapshot snap;
  snap.cluster = "local";
  snap.nodes = {Node(1, true), Node(2, true, {}, {0, 1}), Node(3, false, {.soft_failed = true})};
  snap.group = Group("{ 1:0-3, 2:0-1, down: 3, soft_failed: 3 }", 57, GroupCause::kSplit);
  snap.nodes[0].priority = 10;
  snap.nodes[0].has_priority = true;
  snap.master = MasterRecord{1, 8, 42};  // took over at 8, raised itself to 10 since
  in.snapshot = snap;
  in.protection = {"+2d:1n", "protection", ""};
  ProtectionView data;
  data.array_id = 1;
  data.below_protection = true;
  data.files = 12;
  data.bytes = 3 << 20;
  data.files_at_risk = 2;
  data.bytes_at_risk = 3 << 19;
  data.units_at_risk = 10;
  data.failed_devices = {"node 3"};
  in.data = data;
  in.probes = {
      Probe(1, NodeView{1, 1, "local", true, "", false, 57, "<1,57>: { ... }", true, 1}),
      Probe(2, NodeView{2, 2, "local", false, "etcd session lost", true, 55, "", false, 1}),
      Probe(3, Status::Unavailable("unreachable: Connection")),
  };
  return in;
}

TEST(StatusReportTest, HealthyClusterText) {
  EXPECT_EQ(FormatStatus(Healthy()),
            "cluster: local\n"
            "etcd: ok (127.0.0.1:2379)\n"
            "nodes: 3 configured: 2 joined, 1 down, 0 dead; 1 soft_failed, 0 read_only\n"
            "drives:\n"
            "  node 1: 0-3 (4 drives), in group: 0-3\n"
            "  node 2: 0-1 (2 drives), in group: 0-1\n"
            "  node 3: 0-3 (4 drives), not in group\n"
            "quorum: read yes, write yes (2 of 3 nodes readable, need 2; 2 of 3 nodes writable, "
            "need 2)\n"
            "master: node 1 at 127.0.0.1:8081, priority 10, token 42\n"
            "group: <1,57>: { 1:0-3, 2:0-1, down: 3, soft_failed: 3 } (epoch 57, cause split)\n"
            "protection: +2d:1n (from protection)\n"
            "data: BELOW PROTECTION: 2 of 12 files (1.5M of 3.0M, 10 units) have units on "
            "failed devices; 0 files (0B) unavailable; failed devices: node 3 (as node 1 sees "
            "it)\n"
            "node views:\n"
            "  node 1 at 127.0.0.1:8081: writable; epoch 57; master 1\n"
            "  node 2 at 127.0.0.1:8082: not writable (etcd session lost); epoch 55; master 1\n"
            "  node 3 at 127.0.0.1:8083: unreachable (Connection)\n");
}

TEST(StatusReportTest, HealthyClusterJson) {
  nlohmann::ordered_json j = StatusJson(Healthy());
  EXPECT_EQ(j["cluster"], "local");
  EXPECT_EQ(j["etcd"].dump(), R"({"endpoints":"127.0.0.1:2379","reachable":true})");
  EXPECT_EQ(j["nodes"]["configured"], 3);
  EXPECT_EQ(j["nodes"]["joined"], 2);
  EXPECT_EQ(j["nodes"]["down"], 1);
  EXPECT_EQ(j["nodes"]["dead"], 0);
  EXPECT_EQ(j["nodes"]["soft_failed"], 1);
  EXPECT_EQ(j["nodes"]["read_only"], 0);
  EXPECT_EQ(j["nodes"]["list"].size(), 3u);
  EXPECT_EQ(j["nodes"]["list"][2]["status"], "soft_failed");
  EXPECT_EQ(j["drives"].dump(), R"({"1":{"registered":"0-3","count":4,"in_group":"0-3"},)"
                                R"("2":{"registered":"0-1","count":2,"in_group":"0-1"},)"
                                R"("3":{"registered":"0-3","count":4,"in_group":null}})");
  EXPECT_EQ(j["quorum"].dump(),
            R"({"read":true,"write":true,"configured":3,"needed":2,"readable":2,"writable":2,)"
            R"("reason":"2 of 3 nodes readable, need 2; 2 of 3 nodes writable, need 2"})");
  EXPECT_EQ(j["master"].dump(),
            R"({"array_id":1,"address":"127.0.0.1:8081","priority":10,"token":42})");
  EXPECT_EQ(j["group"].dump(),
            R"({"notation":"<1,57>: { 1:0-3, 2:0-1, down: 3, soft_failed: 3 }","epoch":57,)"
            R"("initiator":1,"cause":"split"})");
  EXPECT_EQ(j["protection"].dump(), R"({"value":"+2d:1n","source":"protection"})");
  EXPECT_EQ(j["data"]["below_protection"], true);
  EXPECT_EQ(j["data"]["files_at_risk"], 2);
  EXPECT_EQ(j["data"]["failed_devices"].dump(), R"(["node 3"])");
  ASSERT_EQ(j["views"].size(), 3u);
  EXPECT_EQ(j["views"][0]["reachable"], true);
  EXPECT_EQ(j["views"][0]["view"]["writable"], true);
  EXPECT_EQ(j["views"][1]["view"]["reason"], "etcd session lost");
  EXPECT_EQ(j["views"][2].dump(),
            R"({"array_id":3,"name":"","address":"127.0.0.1:8083","reachable":false,)"
            R"("error":"unreachable: Connection"})");
}

TEST(StatusReportTest, NoGroupNoMasterDefaultProtectionNoNodes) {
  StatusInput in;
  in.cluster = "c";
  in.etcd_endpoints = "a:1,b:2";
  in.snapshot = AdminSnapshot{};
  in.protection = {"+2", "default", ""};
  in.data = Status::Unavailable("no node answered");
  EXPECT_EQ(FormatStatus(in),
            "cluster: c\n"
            "etcd: ok (a:1,b:2)\n"
            "nodes: 0 configured: 0 joined, 0 down, 0 dead; 0 soft_failed, 0 read_only\n"
            "drives: none\n"
            "quorum: unknown (no group yet)\n"
            "master: none\n"
            "group: none yet (no node has proposed one)\n"
            "protection: +2 (default)\n"
            "data: unknown (no node answered)\n"
            "node views: none\n");
  nlohmann::ordered_json j = StatusJson(in);
  EXPECT_TRUE(j["quorum"].is_null());
  EXPECT_TRUE(j["master"].is_null());
  EXPECT_TRUE(j["group"].is_null());
  EXPECT_EQ(j["protection"]["source"], "default");
}

TEST(StatusReportTest, DeadReadOnlyDisklessUnregisteredMasterAndProtectionError) {
  StatusInput in;
  in.cluster = "c";
  in.etcd_endpoints = "e:1";
  AdminSnapshot snap;
  snap.nodes = {Node(1, true, {.read_only = true}), Node(2, true, {}, IdSet{}),
                Node(4, false, {.soft_failed = true, .dead = true}, IdSet{7})};
  snap.group = Group("{ 1:0-3, 2, soft_failed: 4, dead: 4, read_only: 1 }", 9, GroupCause::kConfig);
  snap.master = MasterRecord{8, -3, 77};
  in.snapshot = snap;
  in.protection = {"", "", "protection: bad value"};
  const std::string text = FormatStatus(in);
  EXPECT_NE(
      text.find("nodes: 3 configured: 2 joined, 0 down, 1 dead; 1 soft_failed, 1 read_only\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("  node 2: none, in group: diskless\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  node 4: 7 (1 drive), not in group\n"), std::string::npos) << text;
  EXPECT_NE(text.find("master: node 8 (not registered), priority -3, token 77\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("group: <1,9>: { 1:0-3, 2, soft_failed: 4, dead: 4, read_only: 1 } "
                      "(epoch 9, cause config)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("protection: unknown (protection: bad value)\n"), std::string::npos) << text;
  // Node 1 is read-only and node 4 dead: one writable node of three.
  EXPECT_NE(text.find("quorum: read yes, write no (2 of 3 nodes readable, need 2; 1 of 3 nodes "
                      "writable, need 2)\n"),
            std::string::npos)
      << text;
  EXPECT_TRUE(StatusJson(in)["master"]["address"].is_null());
  EXPECT_EQ(StatusJson(in)["protection"].dump(), R"({"error":"protection: bad value"})");
}

TEST(StatusReportTest, GroupThatCannotBeEvaluatedSaysWhy) {
  // A whole node listed as stalled has no node condition (quorum.h).
  std::optional<GroupRecord> g = Group("{ 1, stalled: 2 }", 3, GroupCause::kConfig);
  const std::string q = DescribeQuorum(g);
  EXPECT_EQ(q.rfind("unknown (", 0), 0u) << q;
  EXPECT_NE(q.find("stalled"), std::string::npos) << q;
}

TEST(StatusReportTest, EtcdUnreachablePrintsWhatTheNodesSay) {
  StatusInput in;
  in.cluster = "local";
  in.etcd_endpoints = "127.0.0.1:2379";
  in.etcd_status = Status::Unavailable("no endpoint answered");
  NodeProbe a;
  a.name = "node1";
  a.address = "127.0.0.1:8081";
  a.view = NodeView{1, 1, "local", false, "etcd session lost", true, 57, "", false, 0};
  NodeProbe b;
  b.name = "node2";
  b.address = "127.0.0.1:8082";
  b.view = Status::FailedPrecondition("HTTP 404: not in cluster mode");
  in.probes = {a, b};
  EXPECT_EQ(FormatStatus(in),
            "cluster: local\n"
            "etcd: unreachable (no quorum?): no endpoint answered\n"
            "node views (nodes from cluster.json):\n"
            "  node1 at 127.0.0.1:8081: not writable (etcd session lost); epoch 57; no master\n"
            "  node2 at 127.0.0.1:8082: no view (HTTP 404: not in cluster mode)\n");
  nlohmann::ordered_json j = StatusJson(in);
  EXPECT_EQ(j["etcd"].dump(),
            R"({"endpoints":"127.0.0.1:2379","reachable":false,"error":"no endpoint answered"})");
  EXPECT_FALSE(j.contains("nodes"));
  ASSERT_EQ(j["views"].size(), 2u);
  EXPECT_EQ(j["views"][0]["name"], "node1");
  EXPECT_EQ(j["views"][1]["reachable"], true);  // it answered, just not with a view
  EXPECT_EQ(j["views"][1]["error"], "HTTP 404: not in cluster mode");

  in.etcd_status = Status::Corruption("nodes/1: bad json");
  EXPECT_NE(FormatStatus(in).find("etcd: error: nodes/1: bad json\n"), std::string::npos);
}

TEST(StatusReportTest, ProbeDescriptions) {
  NodeView quiet;
  quiet.array_id = 2;
  EXPECT_EQ(DescribeProbe(Probe(2, quiet)), "not writable (no reason given); epoch 0; no master");
  NodeView other;
  other.array_id = 5;
  other.writable = true;
  other.master = 5;
  EXPECT_EQ(DescribeProbe(Probe(2, other)), "writable; epoch 0; master 5; answers as node 5");
  EXPECT_EQ(DescribeProbe(Probe(2, Status::Unavailable("timed out"))), "unreachable (timed out)");
  EXPECT_EQ(DescribeProbe(Probe(2, Status::Corruption("node view: not a JSON object"))),
            "no view (node view: not a JSON object)");
}

TEST(StatusReportTest, CountsPartitionLivenessAndCountFlagsSeparately) {
  AdminSnapshot snap;
  snap.group = Group("{ 1-2 }", 1, GroupCause::kMerge);
  snap.nodes = {Node(1, true), Node(2, false), Node(3, true), Node(4, true, {.dead = true}),
                Node(5, true, {.soft_failed = true, .read_only = true})};
  // 1 joined; 2 a member without a live key; 3 live but not in the group;
  // 4 dead; 5 flagged and not a member.
  EXPECT_EQ(CountNodes(snap), (NodeCounts{5, 1, 3, 1, 1, 1}));
}

}  // namespace
}  // namespace tessera::cluster::admin
