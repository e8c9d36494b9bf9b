#include "cluster/local/supervisord_config.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tessera::cluster::local {
namespace {

LocalClusterPlan Plan() {
  UpOptions o;
  o.nodes = 2;
  o.drives = 1;
  o.dir = "/tmp/c";
  o.etcd_members = 1;
  Result<PortPlan> ports = AssignPorts(2, 1, 7000, {});
  return MakePlan(o, *ports, "/opt/tessera", "/usr/bin/etcd");
}

// The lines of section `name` ("program:node1"), without the header.
std::vector<std::string> Section(const std::string& config, const std::string& name) {
  std::vector<std::string> lines;
  std::istringstream in(config);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[') {
      inside = line == "[" + name + "]";
      continue;
    }
    if (inside && !line.empty()) lines.push_back(line);
  }
  return lines;
}

bool Has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(SupervisordConfigTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(SupervisorCommand({"/bin/x", "--a=b", "1,2", "h:1", "x@y+z"}),
            "/bin/x --a=b 1,2 h:1 x@y+z");
  EXPECT_EQ(SupervisorCommand({"/bin/x", "a b", ""}), "/bin/x \"a b\" \"\"");
  EXPECT_EQ(SupervisorCommand({"say", "50%", "q\"\\"}), "say \"50%%\" \"q\\\"\\\\\"");
}

TEST(SupervisordConfigTest, SupervisordKeepsItsFilesInTheDir) {
  std::string config = SupervisordConfig(Plan());
  std::vector<std::string> server = Section(config, "unix_http_server");
  EXPECT_TRUE(Has(server, "file=/tmp/c/supervisor.sock")) << config;
  std::vector<std::string> daemon = Section(config, "supervisord");
  EXPECT_TRUE(Has(daemon, "pidfile=/tmp/c/supervisord.pid")) << config;
  EXPECT_TRUE(Has(daemon, "logfile=/tmp/c/logs/supervisord.log")) << config;
  EXPECT_TRUE(Has(daemon, "nodaemon=false")) << config;
  EXPECT_TRUE(Has(Section(config, "supervisorctl"), "serverurl=unix:///tmp/c/supervisor.sock"));
  EXPECT_FALSE(Section(config, "rpcinterface:supervisor").empty()) << "supervisorctl needs it";
}

TEST(SupervisordConfigTest, OneProgramPerMemberAndNode) {
  LocalClusterPlan plan = Plan();
  std::string config = SupervisordConfig(plan);
  std::vector<std::string> etcd = Section(config, "program:etcd1");
  ASSERT_FALSE(etcd.empty()) << config;
  EXPECT_TRUE(Has(etcd, "command=" + SupervisorCommand(plan.EtcdCommand(0))));
  EXPECT_TRUE(Has(etcd, "autostart=true"));
  EXPECT_TRUE(Has(etcd, "autorestart=true"));
  EXPECT_TRUE(Has(etcd, "stdout_logfile=/tmp/c/logs/etcd1.log"));
  EXPECT_TRUE(Has(etcd, "redirect_stderr=true"));
  EXPECT_TRUE(Section(config, "program:etcd2").empty());

  for (int i = 0; i < 2; ++i) {
    std::string name = "node" + std::to_string(i + 1);
    std::vector<std::string> node = Section(config, "program:" + name);
    ASSERT_FALSE(node.empty()) << config;
    EXPECT_TRUE(Has(node,
                    "command=/opt/tessera node --config "
                    "etcd://127.0.0.1:7002/tessera/local/config --drives /tmp/c/" +
                        name + "/d0 --listen 127.0.0.1:700" + std::to_string(i) +
                        " --state /tmp/c/" + name + "/state"))
        << config;
    // `tessera up` starts nodes itself, once the settings are in etcd.
    EXPECT_TRUE(Has(node, "autostart=false"));
    EXPECT_TRUE(Has(node, "autorestart=true"));
    EXPECT_TRUE(Has(node, "stdout_logfile=/tmp/c/logs/" + name + ".log"));
    EXPECT_TRUE(Has(node, "stopasgroup=true"));
  }
  // Shutdown stops higher priorities first: nodes before etcd.
  EXPECT_TRUE(Has(etcd, "priority=100"));
  EXPECT_TRUE(Has(Section(config, "program:node1"), "priority=200"));
}

}  // namespace
}  // namespace tessera::cluster::local
