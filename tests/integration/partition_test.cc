// A network partition: one of five nodes runs in its own network namespace
// and reaches etcd over a veth pair that the test takes down. The cut-off
// node must suspend writes; the majority must carry on, see it down, and
// keep what it acknowledged; after healing the node rejoins by itself.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/test_files.h"
#include "tests/support/etcd_process.h"
#include "tests/support/etcd_test.h"
#include "tests/support/net_namespace.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kHostNodes = 4;

json View(const std::string& host, int port) {
  httplib::Client client(host, port);
  client.set_connection_timeout(0, 300000);
  client.set_read_timeout(1);
  auto res = client.Get("/v1/cluster/view");
  if (!res || res->status != 200) return json::object();
  return json::parse(res->body, nullptr, false);
}

TEST(PartitionTest, CutOffNodeSuspendsWritesMajorityCarriesOnAndItRejoins) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  NetNamespace ns;
  std::string why;
  ASSERT_TRUE(ns.Create(&why)) << why;
  TempDir dir;
  EtcdCluster etcd(dir.Sub("etcd"), 3, {ns.host_ip()});
  ASSERT_TRUE(etcd.Start(&why)) << why;

  std::vector<std::unique_ptr<NodeProcess>> nodes;
  // Each node logs beside its state: node<i>/node.log.
  auto add_node = [&](NodeConfig config) {
    config.log_path = std::filesystem::path(config.state_dir).parent_path() / "node.log";
    nodes.push_back(std::make_unique<NodeProcess>(config));
    ASSERT_TRUE(nodes.back()->Start(&why)) << why << "\n" << nodes.back()->ReadLog();
  };
  // The majority listens on the host end of the veth pair, so the cut-off
  // node can reach it (metadata requests go to shard primaries); local
  // connections to that address keep working while the link is down.
  for (int i = 0; i < kHostNodes; ++i) {
    NodeConfig config =
        ClusterNode(dir.Sub("node" + std::to_string(i + 1)), etcd.ConfigUri("part"));
    config.host = ns.host_ip();
    ASSERT_NO_FATAL_FAILURE(add_node(config));
  }
  NodeConfig isolated = ClusterNode(dir.Sub("isolated"), etcd.ConfigUri("part", ns.host_ip()));
  isolated.host = ns.ns_ip();
  isolated.launcher = ns.Wrap({});
  ASSERT_NO_FATAL_FAILURE(add_node(isolated));
  NodeProcess& minority = *nodes.back();
  const std::string& ns_ip = ns.ns_ip();

  auto writable = [&](int i) {
    const NodeConfig& c = nodes[i]->config();
    json v = View(c.host, nodes[i]->port());
    return v.value("writable", false) && v["quorum"].value("writable", 0) == kHostNodes + 1;
  };
  for (int i = 0; i <= kHostNodes; ++i) {
    ASSERT_TRUE(WaitFor([&] { return writable(i); }, 20s)) << "node " << i;
  }
  const uint32_t cut_id = View(ns_ip, minority.port()).value("array_id", 0u);
  ASSERT_NE(cut_id, 0u);
  httplib::Client majority(ns.host_ip(), nodes[0]->port());
  majority.set_read_timeout(60);  // a write may wait out a peer's RPC deadline
  auto put_ok = [&](const std::string& path, size_t size, uint64_t seed) {
    auto res = PutFile(majority, path, Content(size, seed));
    return res && res->status == 201;
  };
  ASSERT_TRUE(put_ok("ns/before", 1000, 1));

  ASSERT_TRUE(ns.Cut(&why)) << why;
  // The cut-off node refuses writes; ask it from inside its namespace.
  std::string payload = dir.path() + "/payload";
  std::ofstream(payload) << "written during the partition";
  std::vector<std::string> put =
      ns.Wrap({TesseraBinary(), "put", payload, "ns/minority", "--node",
               "http://" + ns_ip + ":" + std::to_string(minority.port())});
  CommandResult refused;
  ASSERT_TRUE(WaitFor(
      [&] {
        refused = RunCommand(put);
        return refused.output.find("writes suspended") != std::string::npos;
      },
      6s))
      << refused.output;
  EXPECT_EQ(refused.exit_code, 1);

  // The majority sees it down and goes on acknowledging writes.
  const std::string down = "down: " + std::to_string(cut_id);
  for (int i = 0; i < kHostNodes; ++i) {
    ASSERT_TRUE(WaitFor(
        [&] {
          json v = View(ns.host_ip(), nodes[i]->port());
          return v.value("group", "").find(down) != std::string::npos && v.value("writable", false);
        },
        10s))
        << "node " << i << ": " << View(ns.host_ip(), nodes[i]->port()).dump();
  }
  // A write that still picked the cut-off node before the majority's peers
  // caught up fails and is retried, as a client would.
  ASSERT_TRUE(WaitFor([&] { return put_ok("ns/during", 2000, 2); }, 30s));
  CommandResult still_refused = RunCommand(put);
  EXPECT_EQ(still_refused.exit_code, 1) << still_refused.output;

  ASSERT_TRUE(ns.Heal(&why)) << why;
  for (int i = 0; i <= kHostNodes; ++i) {
    ASSERT_TRUE(WaitFor([&] { return writable(i); }, 20s))
        << "node " << i << ": " << View(nodes[i]->config().host, nodes[i]->port()).dump();
  }
  // Nothing the majority acknowledged is lost, and the healed node writes again.
  for (const auto& [name, seed, size] : std::vector<std::tuple<std::string, int, size_t>>{
           {"ns/before", 1, 1000}, {"ns/during", 2, 2000}}) {
    auto got = GetFile(majority, name);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 200) << name;
    EXPECT_TRUE(got->body == Content(size, seed)) << name;
  }
  CommandResult accepted = RunCommand(put);
  EXPECT_EQ(accepted.exit_code, 0) << accepted.output;
  EXPECT_NE(minority.ReadLog().find("etcd session restored"), std::string::npos);
}

}  // namespace
}  // namespace tessera::testing
