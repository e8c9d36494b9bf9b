#include "cluster/local/local_plan.h"

#include <gtest/gtest.h>

#include <functional>

namespace tessera::cluster::local {
namespace {

UpOptions Three() {
  UpOptions o;
  o.nodes = 3;
  o.drives = 2;
  o.dir = "/tmp/c";
  return o;
}

TEST(LocalPlanTest, DefaultEtcdMembersIsThreeFromThreeNodes) {
  EXPECT_EQ(DefaultEtcdMembers(1), 1);
  EXPECT_EQ(DefaultEtcdMembers(2), 1);
  EXPECT_EQ(DefaultEtcdMembers(3), 3);
  EXPECT_EQ(DefaultEtcdMembers(64), 3);
}

TEST(LocalPlanTest, ValidatesEveryFlag) {
  EXPECT_TRUE(ValidateUpOptions(Three(), true).ok());
  struct Case {
    std::function<void(UpOptions&)> change;
    bool fresh;
    std::string message;  // a substring; empty: valid
  };
  std::vector<Case> cases = {
      {[](UpOptions& o) { o.dir = ""; }, true, "--dir is required"},
      {[](UpOptions& o) { o.nodes = 0; }, true, "--nodes is required"},
      {[](UpOptions& o) { o.nodes = 0; }, false, ""},
      {[](UpOptions& o) { o.drives = 0; }, true, "--drives is required"},
      {[](UpOptions& o) { o.drives = 0; }, false, ""},
      {[](UpOptions& o) { o.nodes = -1; }, false, "--nodes must be 1..64, not -1"},
      {[](UpOptions& o) { o.nodes = 65; }, true, "--nodes must be 1..64, not 65"},
      {[](UpOptions& o) { o.nodes = 64; }, true, ""},
      {[](UpOptions& o) { o.drives = 65; }, true, "--drives must be 1..64"},
      {[](UpOptions& o) { o.etcd_members = 2; }, true, "--etcd-members must be 1 or 3, not 2"},
      {[](UpOptions& o) { o.etcd_members = 5; }, true, "--etcd-members must be 1 or 3"},
      {[](UpOptions& o) { o.etcd_members = 1; }, true, ""},
      {[](UpOptions& o) { o.etcd_members = 3; }, true, ""},
      {[](UpOptions& o) { o.name = "Local"; }, true, "--name 'Local'"},
      {[](UpOptions& o) { o.name = "9x"; }, true, "--name"},
      {[](UpOptions& o) { o.name = ""; }, true, "--name"},
      {[](UpOptions& o) { o.name = std::string(64, 'a'); }, true, "--name"},
      {[](UpOptions& o) { o.name = "prod-2"; }, true, ""},
      {[](UpOptions& o) { o.protection = "+5"; }, true, "--protection: "},
      {[](UpOptions& o) { o.protection = "bogus"; }, true, "--protection: "},
      {[](UpOptions& o) { o.protection = "+2d:1n"; }, true, ""},
      {[](UpOptions& o) { o.protection = "3x"; }, true, ""},
      {[](UpOptions& o) { o.timeout_seconds = 0; }, true, "--timeout"},
      {[](UpOptions& o) { o.base_port = 1023; }, true, "--base-port 1023"},
      // 3 nodes + 3 members = 9 ports: 65527..65535 fits, 65528 does not.
      {[](UpOptions& o) { o.base_port = 65527; }, true, ""},
      {[](UpOptions& o) { o.base_port = 65528; }, true, "ports 65528..65536"},
      {[](UpOptions& o) {
         o.base_port = 65532;
         o.etcd_members = 1;
       },
       true, "65532..65536"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    UpOptions o = Three();
    cases[i].change(o);
    Status s = ValidateUpOptions(o, cases[i].fresh);
    if (cases[i].message.empty()) {
      EXPECT_TRUE(s.ok()) << "case " << i << ": " << s.ToString();
    } else {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "case " << i;
      EXPECT_NE(s.message().find(cases[i].message), std::string::npos)
          << "case " << i << ": " << s.message();
    }
  }
}

TEST(LocalPlanTest, ClusterDirMustBeAbsoluteAndSafeForSupervisord) {
  EXPECT_TRUE(ValidateClusterDir("/tmp/tessera-test-abc/c1").ok());
  EXPECT_TRUE(ValidateClusterDir("/a/b_c-d.e+f@g,h=i:j").ok());
  for (std::string bad : {"", "relative/dir", "/with space", "/tab\there", "/q\"uote", "/q'uote",
                          "/back\\slash", "/per%cent", "/semi;colon", "/hash#x", "/new\nline"}) {
    EXPECT_EQ(ValidateClusterDir(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  std::string longest = "/" + std::string(kMaxSocketPath - 1 - 16, 'x');  // + "/supervisor.sock"
  EXPECT_TRUE(ValidateClusterDir(longest).ok()) << longest.size();
  Status too_long = ValidateClusterDir(longest + "x");
  EXPECT_NE(too_long.message().find("unix socket"), std::string::npos) << too_long.message();
}

TEST(LocalPlanTest, BasePortPutsNodesFirstThenEtcdPairs) {
  Result<PortPlan> p = AssignPorts(3, 3, 8080, {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->node_ports, (std::vector<int>{8080, 8081, 8082}));
  EXPECT_EQ(p->etcd_client_ports, (std::vector<int>{8083, 8085, 8087}));
  EXPECT_EQ(p->etcd_peer_ports, (std::vector<int>{8084, 8086, 8088}));
  EXPECT_EQ(PortsNeeded(3, 3), 9);
  EXPECT_EQ(PortsNeeded(2, 1), 4);
  EXPECT_FALSE(AssignPorts(3, 3, 65528, {}).ok());
  EXPECT_TRUE(AssignPorts(3, 3, 65527, {}).ok());
  EXPECT_FALSE(AssignPorts(1, 1, 80, {}).ok());
}

TEST(LocalPlanTest, FreePortsAreUsedInOrderAndChecked) {
  Result<PortPlan> p = AssignPorts(2, 1, 0, {40001, 40002, 40003, 40004, 40005});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->node_ports, (std::vector<int>{40001, 40002}));
  EXPECT_EQ(p->etcd_client_ports, (std::vector<int>{40003}));
  EXPECT_EQ(p->etcd_peer_ports, (std::vector<int>{40004}));
  EXPECT_NE(AssignPorts(2, 1, 0, {1, 2, 3}).status().message().find("need 4 free ports, have 3"),
            std::string::npos);
  EXPECT_FALSE(AssignPorts(2, 1, 0, {40001, 40002, 40001, 40004}).ok());
  EXPECT_FALSE(AssignPorts(2, 1, 0, {40001, 40002, 0, 40004}).ok());
  EXPECT_FALSE(AssignPorts(2, 1, 0, {40001, 40002, 70000, 40004}).ok());
}

TEST(LocalPlanTest, PlanNamesEveryPathAndCommand) {
  UpOptions o = Three();
  o.name = "dev";
  Result<PortPlan> ports = AssignPorts(3, 3, 9000, {});
  ASSERT_TRUE(ports.ok());
  LocalClusterPlan plan = MakePlan(o, *ports, "/bin/tessera", "/usr/bin/etcd");
  ASSERT_EQ(plan.nodes.size(), 3u);
  ASSERT_EQ(plan.etcd.size(), 3u);
  EXPECT_EQ(plan.nodes[1].name, "node2");
  EXPECT_EQ(plan.nodes[1].port, 9001);
  EXPECT_EQ(plan.nodes[1].drives, (std::vector<std::string>{"/tmp/c/node2/d0", "/tmp/c/node2/d1"}));
  EXPECT_EQ(plan.nodes[1].state_dir, "/tmp/c/node2/state");
  EXPECT_EQ(plan.nodes[1].log, "/tmp/c/logs/node2.log");
  EXPECT_EQ(plan.etcd[2].name, "etcd3");
  EXPECT_EQ(plan.etcd[2].data_dir, "/tmp/c/etcd/etcd3");
  EXPECT_EQ(plan.SocketPath(), "/tmp/c/supervisor.sock");
  EXPECT_EQ(plan.PidfilePath(), PidfilePath("/tmp/c"));
  EXPECT_EQ(plan.SupervisordConfPath(), SupervisordConfPath("/tmp/c"));
  EXPECT_EQ(plan.ClusterJsonPath(), ClusterJsonPath("/tmp/c"));

  ClusterFile file = plan.ToClusterFile();
  EXPECT_EQ(file.cluster, "dev");
  EXPECT_EQ(file.etcd,
            (std::vector<std::string>{"127.0.0.1:9003", "127.0.0.1:9005", "127.0.0.1:9007"}));
  ASSERT_EQ(file.nodes.size(), 3u);
  EXPECT_EQ(file.nodes[0], (ClusterFileNode{"node1", "127.0.0.1:9000"}));
  EXPECT_EQ(file.dir, "/tmp/c");
  EXPECT_EQ(file.supervisor_config, "/tmp/c/supervisord.conf");
  // What `tessera up` writes must be what `tessera put --cluster` can read.
  Result<ClusterFile> parsed = ParseClusterFile(ClusterFileJson(file));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, file);

  EXPECT_EQ(plan.NodeCommand(1),
            (std::vector<std::string>{
                "/bin/tessera", "node", "--config",
                "etcd://127.0.0.1:9003,127.0.0.1:9005,127.0.0.1:9007/tessera/dev/config",
                "--drives", "/tmp/c/node2/d0,/tmp/c/node2/d1", "--listen", "127.0.0.1:9001",
                "--state", "/tmp/c/node2/state"}));
  std::vector<std::string> etcd = plan.EtcdCommand(0);
  std::vector<std::string> want = {
      "/usr/bin/etcd",
      "--name=etcd1",
      "--data-dir=/tmp/c/etcd/etcd1",
      "--listen-client-urls=http://127.0.0.1:9003",
      "--advertise-client-urls=http://127.0.0.1:9003",
      "--listen-peer-urls=http://127.0.0.1:9004",
      "--initial-advertise-peer-urls=http://127.0.0.1:9004",
      "--initial-cluster=etcd1=http://127.0.0.1:9004,etcd2=http://127.0.0.1:9006,"
      "etcd3=http://127.0.0.1:9008",
      "--initial-cluster-state=new",
      "--initial-cluster-token=tessera-dev-9003"};
  EXPECT_EQ(etcd, want);
}

TEST(LocalPlanTest, RecognizesItsOwnCommandLines) {
  Result<PortPlan> ports = AssignPorts(3, 3, 9000, {});
  ASSERT_TRUE(ports.ok());
  LocalClusterPlan plan = MakePlan(Three(), *ports, "/bin/tessera", "/usr/bin/etcd");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ProgramOfCommandLine("/tmp/c", plan.EtcdCommand(i)), plan.etcd[i].name);
    EXPECT_EQ(ProgramOfCommandLine("/tmp/c", plan.NodeCommand(i)), plan.nodes[i].name);
    // Another cluster's processes are not this one's, even under a prefix.
    EXPECT_EQ(ProgramOfCommandLine("/tmp/c2", plan.NodeCommand(i)), "");
    EXPECT_EQ(ProgramOfCommandLine("/tmp", plan.EtcdCommand(i)), "");
  }
  EXPECT_EQ(ProgramOfCommandLine("/tmp/c", {"tail", "-f", "/tmp/c/logs/node1.log"}), "");
  EXPECT_EQ(ProgramOfCommandLine("/tmp/c", {"cat", "--state", "/tmp/c/node1/d0"}), "");
  EXPECT_EQ(ProgramOfCommandLine("/tmp/c", {"x", "--state"}), "");
  EXPECT_EQ(ProgramOfCommandLine("/tmp/c", {}), "");
}

}  // namespace
}  // namespace tessera::cluster::local
