// A real cluster: a 3-member etcd and 5 `tessera node --config` processes.
// kill -9 a node (split, then merge on restart), kill the master (another
// takes over and runs its hooks), lose etcd quorum (writes refused, then
// resumed), and change settings live (applied, or ignored when immutable).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "cluster/config/setting.h"
#include "cluster/membership/master.h"
#include "cluster/membership/shard_map_keeper.h"
#include "tests/integration/test_files.h"
#include "tests/support/cli_run.h"
#include "tests/support/cluster_probe.h"
#include "tests/support/etcd_process.h"
#include "tests/support/etcd_test.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/verifier.h"

namespace tessera::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kNodes = 5;

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    etcd_ = std::make_unique<EtcdCluster>(dir_.Sub("etcd"), 3);
    std::string why;
    ASSERT_TRUE(etcd_->Start(&why)) << why;
    config_uri_ = etcd_->ConfigUri("it");
    // Hooks record every takeover and release with the node and its token.
    hook_log_ = dir_.path() + "/hooks.log";
    Config({"set", "master_takeover_command",
            "echo takeover $TESSERA_ARRAY_ID $TESSERA_MASTER_TOKEN >> " + hook_log_});
    Config({"set", "master_release_command",
            "echo release $TESSERA_ARRAY_ID $TESSERA_MASTER_TOKEN >> " + hook_log_});
    for (int i = 0; i < kNodes; ++i) {
      nodes_.push_back(std::make_unique<NodeProcess>(
          ClusterNode(dir_.Sub("node" + std::to_string(i + 1)), config_uri_)));
      ASSERT_TRUE(nodes_.back()->Start(&why)) << why << "\n" << nodes_.back()->ReadLog();
    }
    for (int i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(
          WaitFor([&] { return Members(i) == kNodes && View(i).value("writable", false); }, 20s))
          << "node " << i << ": " << View(i).dump();
    }
    cluster_file_ = dir_.path() + "/cluster.json";
    ASSERT_TRUE(WriteClusterFile(cluster_file_, "it", etcd_->host_ports(), nodes_).ok());
  }

  // `tessera VERB ARGS --cluster FILE`: exit code and output.
  CommandResult Admin(std::vector<std::string> args) {
    std::vector<std::string> argv = {TesseraBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--cluster", cluster_file_});
    return RunCommand(argv);
  }

  // `tessera config ARGS --config URI`; the test fails unless it exits 0.
  std::string Config(std::vector<std::string> args) {
    std::vector<std::string> argv = {TesseraBinary(), "config"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", config_uri_});
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output;
  }

  json View(int i) {
    httplib::Client client("127.0.0.1", nodes_[i]->port());
    client.set_connection_timeout(1);
    client.set_read_timeout(2);
    auto res = client.Get("/v1/cluster/view");
    if (!res || res->status != 200) return json::object();
    return json::parse(res->body, nullptr, false);
  }
  // Members of the group node i sees, counted from its view's notation.
  int Members(int i) {
    json v = View(i);
    return v.is_object() && v.contains("quorum") ? v["quorum"].value("readable", 0) : 0;
  }
  uint32_t ArrayId(int i) { return View(i).value("array_id", 0u); }
  std::string GroupLog(int i) {
    return ReadFileOrEmpty(nodes_[i]->config().state_dir + "/group.log");
  }
  int Put(int i, const std::string& ns_path, size_t size) {
    httplib::Client client("127.0.0.1", nodes_[i]->port());
    auto res = PutFile(client, ns_path, Content(size, 7));
    return res ? res->status : -1;
  }
  // Waits until node i's config feedback (in etcd) satisfies `done`; the
  // last feedback read goes to `*fb`.
  bool WaitForFeedback(int i, const std::function<bool(const json&)>& done,
                       std::chrono::seconds timeout, json* fb) {
    auto client = cluster::EtcdClient::Create(etcd_->endpoints());
    if (!client.ok()) return false;
    const std::string key = "/tessera/it/config/feedback/" + std::to_string(ArrayId(i));
    return WaitFor(
        [&] {
          auto got = (*client)->Get(key);
          if (!got.ok() || !got->kv) return false;
          *fb = json::parse(got->kv->value, nullptr, false);
          return fb->is_object() && done(*fb);
        },
        timeout);
  }
  // Index of the one node that says it is master, or -1.
  int MasterIndex(const std::set<int>& skip = {}) {
    int found = -1;
    for (int i = 0; i < kNodes; ++i) {
      if (skip.count(i) || !View(i).value("is_master", false)) continue;
      if (found >= 0) return -2;  // two masters
      found = i;
    }
    return found;
  }

  TempDir dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::string config_uri_;
  std::string hook_log_;
  std::string cluster_file_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
};

TEST_F(ClusterTest, KilledNodeIsSeenDownByEverySurvivorAndMergesBackOnRestart) {
  const int victim = MasterIndex() == 4 ? 3 : 4;  // not the master: that is another test
  const uint32_t id = ArrayId(victim);
  nodes_[victim]->Kill();
  const std::string down = "down: " + std::to_string(id);
  for (int i = 0; i < kNodes; ++i) {
    if (i == victim) continue;
    ASSERT_TRUE(WaitFor(
        [&] {
          std::string log = GroupLog(i);
          return log.find("cause=split") != std::string::npos &&
                 View(i).value("group", "").find(down) != std::string::npos;
        },
        15s))
        << "node " << i << " view " << View(i).dump() << "\nlog:\n"
        << GroupLog(i);
    EXPECT_TRUE(View(i).value("writable", false)) << "4 of 5 is a quorum";
  }
  EXPECT_EQ(Put(0, "ns/after-split", 1000), 201);
  // The master published the shard map for the new group, without the victim.
  auto client = cluster::EtcdClient::Create(etcd_->endpoints());
  ASSERT_TRUE(client.ok());
  const int64_t epoch = View(victim == 0 ? 1 : 0).value("epoch", int64_t{0});
  std::optional<cluster::ShardMap> map;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto read = cluster::ReadShardMap(client->get(), "it");
        if (read.ok()) map = *read;
        return map && map->epoch == epoch;
      },
      5s));
  ASSERT_EQ(map->shards.size(), 64u);
  for (const cluster::ShardReplicas& r : map->shards) {
    EXPECT_EQ(r.nodes.size(), 3u) << "+2 keeps three copies of each shard";
    EXPECT_EQ(std::count(r.nodes.begin(), r.nodes.end(), id), 0) << "the down node has no shard";
  }
  // The operator sees it too: the group names it down, the listing says down.
  CommandResult group = Admin({"group"});
  EXPECT_EQ(group.exit_code, 0) << group.output;
  EXPECT_NE(group.output.find(down), std::string::npos) << group.output;
  CommandResult listing = Admin({"nodes", "-l"});
  EXPECT_EQ(listing.exit_code, 0) << listing.output;
  EXPECT_NE(listing.output.find("Id               Ip    Status  Master/Slave  Priority"),
            std::string::npos)
      << listing.output;
  EXPECT_NE(listing.output.find(":" + std::to_string(nodes_[victim]->port()) + "      down"),
            std::string::npos)
      << listing.output;
  CommandResult status = Admin({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("unreachable"), std::string::npos) << status.output;

  ASSERT_TRUE(nodes_[victim]->Start());
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_TRUE(WaitFor(
        [&] {
          std::string group = View(i).value("group", "");
          return Members(i) == kNodes && group.find("down") == std::string::npos;
        },
        15s))
        << "node " << i << ": " << View(i).dump();
  }
  // The returning node kept its identity, and every survivor logged the merge.
  EXPECT_EQ(ArrayId(victim), id);
  for (int i = 0; i < kNodes; ++i) {
    if (i != victim) {
      EXPECT_NE(GroupLog(i).find("cause=merge"), std::string::npos) << i;
    }
  }
}

// A peer that hangs (SIGSTOP) past the RPC deadline fails the batches sent
// to it; the writers that carried pieces in them abort while the peer is out
// of the group. Once it is back, new writes must succeed: the pieces those
// writers gave up must not stay counted lost and fail every later write
// that syncs the same drives (they once did, for minutes).
TEST_F(ClusterTest, WritesSucceedAgainOnceAHungPeerIsBack) {
  const int victim = MasterIndex() == 4 ? 3 : 4;
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      httplib::Client c("127.0.0.1", nodes_[0]->port());
      c.set_read_timeout(30, 0);
      for (int n = 0; !stop; ++n) {
        auto r = PutFile(c, "ns/hang/" + std::to_string(w) + "-" + std::to_string(n),
                         Content(2 * 1024 * 1024, n));
        if (r && r->status == 201) ++written;
      }
    });
  }
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(::kill(nodes_[victim]->pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(14s);  // past the 10 s RPC deadline and the lease
  ASSERT_EQ(::kill(nodes_[victim]->pid(), SIGCONT), 0);
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_TRUE(
        WaitFor([&] { return Members(i) == kNodes && View(i).value("writable", false); }, 30s))
        << "node " << i << ": " << View(i).dump();
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  EXPECT_GT(written.load(), 0);
  std::vector<std::string> failures;
  for (int n = 0; n < 30; ++n) {
    httplib::Client c("127.0.0.1", nodes_[0]->port());
    auto r = PutFile(c, "ns/after-hang/" + std::to_string(n), Content(2 * 1024 * 1024, n));
    if (!r || r->status != 201) failures.push_back(r ? r->body : "no answer");
  }
  EXPECT_TRUE(failures.empty()) << failures.size() << " of 30 failed, first: " << failures[0];
}

TEST_F(ClusterTest, KilledMasterIsReplacedAndTheNewMasterRunsItsHooks) {
  int master = -1;
  ASSERT_TRUE(WaitFor([&] { return (master = MasterIndex()) >= 0; }, 10s));
  const uint32_t old_id = ArrayId(master);
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadFileOrEmpty(hook_log_).find("takeover " + std::to_string(old_id)) !=
               std::string::npos;
      },
      5s))
      << ReadFileOrEmpty(hook_log_);

  nodes_[master]->Kill();
  int next = -1;
  ASSERT_TRUE(WaitFor([&] { return (next = MasterIndex({master})) >= 0; }, 15s));
  const uint32_t new_id = ArrayId(next);
  EXPECT_NE(new_id, old_id);
  // Every survivor agrees on the new master.
  for (int i = 0; i < kNodes; ++i) {
    if (i == master) continue;
    ASSERT_TRUE(WaitFor([&] { return View(i).value("master", 0u) == new_id; }, 5s))
        << i << ": " << View(i).dump();
  }
  // The new master's takeover hook ran, with a newer fencing token.
  std::string hooks;
  ASSERT_TRUE(WaitFor(
      [&] {
        hooks = ReadFileOrEmpty(hook_log_);
        return hooks.find("takeover " + std::to_string(new_id)) != std::string::npos;
      },
      5s))
      << hooks;
  std::istringstream lines(hooks);
  std::string word;
  uint32_t node = 0;
  int64_t token = 0, old_token = 0, new_token = 0;
  while (lines >> word >> node >> token) {
    if (word == "takeover" && node == old_id) old_token = token;
    if (word == "takeover" && node == new_id) new_token = token;
  }
  EXPECT_GT(new_token, old_token) << hooks;
  EXPECT_EQ(Put(next, "ns/after-failover", 5000), 201);

  // The old master returns: it does not take mastership back.
  ASSERT_TRUE(nodes_[master]->Start());
  ASSERT_TRUE(WaitFor([&] { return View(master).value("writable", false); }, 15s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(MasterIndex(), next);
}

TEST_F(ClusterTest, LosingEtcdQuorumSuspendsWritesUntilItReturns) {
  ASSERT_EQ(Put(0, "ns/before", 100), 201);
  etcd_->Stop(1);
  etcd_->Stop(2);
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_TRUE(WaitFor([&] { return !View(i).value("writable", true); }, 10s))
        << i << ": " << View(i).dump();
    EXPECT_NE(View(i).value("reason", "").find("etcd session lost"), std::string::npos)
        << View(i).dump();
    EXPECT_FALSE(View(i).value("is_master", true));
  }
  httplib::Client client("127.0.0.1", nodes_[0]->port());
  auto refused = PutFile(client, "ns/during", Content(100, 1));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  CommandResult status = Admin({"status"});
  EXPECT_NE(status.output.find("etcd session lost"), std::string::npos) << status.output;
  EXPECT_NE(refused->body.find("writes suspended"), std::string::npos) << refused->body;
  // Without a session a node cannot prove its shard map current, so it
  // serves no metadata rather than possibly stale metadata.
  auto unproven = GetFile(client, "ns/before");
  ASSERT_TRUE(unproven);
  EXPECT_EQ(unproven->status, 503) << unproven->body;
  EXPECT_NE(unproven->body.find("cannot prove"), std::string::npos) << unproven->body;

  std::string why;
  ASSERT_TRUE(etcd_->Restart(1, &why)) << why;
  ASSERT_TRUE(etcd_->Restart(2, &why)) << why;
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_TRUE(WaitFor([&] { return View(i).value("writable", false); }, 20s))
        << i << ": " << View(i).dump();
  }
  EXPECT_EQ(Put(0, "ns/after", 100), 201);
  ASSERT_TRUE(WaitFor([&] { return MasterIndex() >= 0; }, 10s));
  auto missing = GetFile(client, "ns/during");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << "a refused write changes nothing";
  auto kept = GetFile(client, "ns/before");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->status, 200) << kept->body;
}

TEST_F(ClusterTest, SmartfailIsShownAndAnotherNodeTakesOverFromTheSoftFailedMaster) {
  int master = -1;
  ASSERT_TRUE(WaitFor([&] { return (master = MasterIndex()) >= 0; }, 10s));
  const uint32_t id = ArrayId(master);
  CommandResult smartfail = Admin({"devices", "node", "smartfail", std::to_string(id)});
  ASSERT_EQ(smartfail.exit_code, 0) << smartfail.output;
  // The group lists it soft-failed; a soft-failed master keeps its tenure
  // until it ends, but the listing shows the state.
  ASSERT_TRUE(WaitFor(
      [&] {
        return View(0).value("group", "").find("soft_failed: " + std::to_string(id)) !=
               std::string::npos;
      },
      10s))
      << View(0).dump();
  CommandResult listing = Admin({"nodes", "-l"});
  EXPECT_NE(listing.output.find("soft_failed"), std::string::npos) << listing.output;
  // When it dies, another node takes over.
  nodes_[master]->Kill();
  int next = -1;
  ASSERT_TRUE(WaitFor([&] { return (next = MasterIndex({master})) >= 0; }, 15s));
  EXPECT_NE(ArrayId(next), id);
}

TEST_F(ClusterTest, FilesSpreadOverNodesAndReadBackWithANodeDown) {
  httplib::Client client("127.0.0.1", nodes_[0]->port());
  const std::string big = Content(5 * 1024 * 1024 + 3, 11), small = Content(5000, 12);
  ASSERT_EQ(StatusOf(PutFile(client, "ns/big", big)), 201);
  ASSERT_EQ(StatusOf(PutFile(client, "ns/small", small)), 201);
  auto nodes_of = [&](const std::string& path) {
    auto res = client.Get("/v1/stat/ns/" + path);
    EXPECT_TRUE(res && res->status == 200);
    json j = json::parse(res->body);
    std::set<uint32_t> nodes;
    for (const json& d : j["drives"]) nodes.insert(d["node"].get<uint32_t>());
    EXPECT_EQ(nodes.size(), j["drives"].size()) << "one unit or copy per node: " << j.dump();
    return nodes;
  };
  std::set<uint32_t> big_nodes = nodes_of("big");
  EXPECT_EQ(big_nodes.size(), 5u) << "+2 over five nodes stripes 3+2";
  EXPECT_EQ(nodes_of("small").size(), 3u) << "+2 mirrors a small file three times";
  // A cluster node's threads say what they do (top -H, profiles).
  std::multiset<std::string> threads = ThreadNames(nodes_[0]->pid());
  for (const char* name : {"etcd-watch", "presence", "rejoin", "agent-peers", "agent-hooks",
                           "meta-catchup", "config-watch", "jobs", "fanout"}) {
    EXPECT_GE(threads.count(name), 1u) << name;
  }

  // kill -9 two other nodes holding units: the writer still reads both back.
  const uint32_t writer = ArrayId(0);
  int killed = 0;
  for (int i = 1; i < kNodes && killed < 2; ++i) {
    if (big_nodes.count(ArrayId(i)) && ArrayId(i) != writer) {
      nodes_[i]->Kill();
      ++killed;
    }
  }
  ASSERT_EQ(killed, 2);
  auto got = GetFile(client, "ns/big");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_TRUE(got->body == big);
  got = GetFile(client, "ns/small");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_TRUE(got->body == small);
}

// The verifier (tests/support/verifier.h): writers keep storing files
// through one node while other nodes are killed -9 and restarted at random.
// Every acknowledged write must read back identical; every write refused
// with an error status must not exist; a write whose answer was lost may be
// either. bench/verifier_bench runs the same for minutes.
TEST_F(ClusterTest, VerifierAcknowledgedWritesSurviveRandomKills) {
  VerifierOptions options;
  options.write_port = nodes_[0]->port();
  options.duration = 15s;
  for (int i = 1; i < kNodes; ++i) options.victims.push_back(i);
  options.kill = [&](int i) { nodes_[i]->Kill(); };
  options.restart = [&](int i) { return nodes_[i]->Start(); };
  VerifierRun run = RunVerifierWrites(options);
  ASSERT_TRUE(run.restart_error.empty()) << run.restart_error;
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_TRUE(
        WaitFor([&] { return Members(i) == kNodes && View(i).value("writable", false); }, 20s))
        << i;
  }

  VerifierResult result = CheckVerifierWrites(run, nodes_[0]->port());
  std::cerr << "verifier: " << result.ToJson() << "\n";
  EXPECT_TRUE(result.ok()) << result.ToJson()
                           << "\nfirst: " << (result.problems.empty() ? "" : result.problems[0]);
  EXPECT_EQ(result.lost, 0);
  EXPECT_EQ(result.mismatches, 0);
  EXPECT_EQ(result.appeared, 0);
  EXPECT_GT(result.kills, 3);
  EXPECT_GT(result.acknowledged, 100) << "too few writes succeeded to mean anything";
}

// A node that cannot serve its --rpc-listen address exits before it joins:
// the cluster does not gain a member that never serves.
TEST_F(ClusterTest, ANodeThatCannotServeItsRpcAddressDoesNotJoin) {
  const std::string taken = "127.0.0.1:" + std::to_string(nodes_[0]->port());
  CommandResult r =
      RunCommand({"timeout", "20", TesseraBinary(), "node", "--config", config_uri_, "--drives",
                  dir_.Sub("extra-d0"), "--state", dir_.Sub("extra-state"), "--listen",
                  "127.0.0.1:" + std::to_string(FreePort()), "--rpc-listen", taken});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cannot listen on " + taken), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("extra-d0")));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("extra-state")));
  CommandResult nodes = Admin({"nodes", "--json"});
  ASSERT_EQ(nodes.exit_code, 0) << nodes.output;
  json list = json::parse(nodes.output, nullptr, false);
  ASSERT_TRUE(list.is_array()) << nodes.output;
  EXPECT_EQ(list.size(), static_cast<size_t>(kNodes)) << nodes.output;
}

TEST_F(ClusterTest, LiveSettingAppliesWithinSecondsAndImmutableIsIgnored) {
  ASSERT_EQ(Put(0, "ns/big", 4096), 201);
  Config({"set", "max_file_size", "1K"});
  Config({"set", "cluster_name", "renamed"});
  const auto applied_at = std::chrono::steady_clock::now();
  Config({"apply"});
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_TRUE(WaitFor([&] { return Put(i, "ns/too-big", 4096) == 413; }, 5s)) << i;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - applied_at, 5s);
  EXPECT_EQ(Put(0, "ns/small", 512), 201);

  std::string text = Config({"feedback"});
  EXPECT_NE(text.find("max_file_size"), std::string::npos) << text;
  EXPECT_NE(text.find("cluster_name"), std::string::npos) << text;
  for (int i = 0; i < kNodes; ++i) {
    json fb;
    ASSERT_TRUE(WaitForFeedback(
        i,
        [](const json& f) {
          return f["applied"].dump().find("max_file_size") != std::string::npos;
        },
        5s, &fb))
        << fb.dump();
    EXPECT_NE(fb["ignored_immutable"].dump().find("cluster_name"), std::string::npos) << fb.dump();
    EXPECT_TRUE(View(i).value("writable", false)) << "an immutable change is never fatal";
  }
}

// Every setting the registry calls live is applied by every node: none is
// refused, so none keeps running with its old value.
TEST_F(ClusterTest, EveryLiveSettingIsAppliedByEveryNode) {
  const std::map<std::string, std::string> changed = {
      {"max_file_size", "2T"},
      {"compact_interval_seconds", "45"},
      {"debug_logging", "true"},
      {"master_priority", "5"},
      {"flexprotect_grace_seconds", "600"},
      {"flexprotect_files_per_second", "50"},
      {"mediascan_impact", "high"},
      {"master_takeover_command", "true"},
      {"master_release_command", "true"},
      {"packing_enabled", "true"},
      {"packing_max_file_size", "512K"},
      {"packing_min_age", "1d"},
      {"packing_dir_hint_max_entries", "32"},
      {"packing_container_min_size", "2M"},
      {"packing_container_max_size", "512M"},
      {"packing_unpack_recently_modified", "true"},
      {"smartpools_impact", "medium"},
      {"smartpools_schedule", "03:00"},
      {"sstore_defrag_enabled", "true"},
  };
  for (const cluster::config::SettingDef& def : cluster::config::SettingRegistry()) {
    if (def.kind != cluster::config::SettingKind::kLive) continue;
    const std::string name(def.name);
    ASSERT_TRUE(changed.count(name)) << name << " needs a changed value in this test";
    ASSERT_NE(changed.at(name), def.default_value) << name;
    Config({"set", name, changed.at(name)});
  }
  Config({"apply"});
  for (int i = 0; i < kNodes; ++i) {
    json fb;
    ASSERT_TRUE(WaitForFeedback(
        i, [&](const json& f) { return f["applied"].size() == changed.size(); }, 10s, &fb))
        << "node " << i << ": " << fb.dump();
    EXPECT_TRUE(fb["errors"].empty()) << "node " << i << ": " << fb.dump();
  }
}

// A live change of master_priority made while a node is down is published
// when it returns, as it would have been had the node been up.
TEST_F(ClusterTest, APriorityChangedWhileANodeIsDownIsPublishedWhenItReturns) {
  const int victim = (MasterIndex() + 1) % kNodes;
  const uint32_t id = ArrayId(victim);
  auto client = cluster::EtcdClient::Create(etcd_->endpoints());
  ASSERT_TRUE(client.ok());
  auto stored = [&] {
    auto got = (*client)->Get(cluster::PriorityKey("it", id));
    return got.ok() && got->kv ? got->kv->value : std::string("<none>");
  };
  const std::string before = stored();
  ASSERT_NE(before, "77");
  nodes_[victim]->Kill();
  Config({"set", "master_priority", "77", "--host", std::to_string(id)});
  Config({"apply"});
  std::string why;
  ASSERT_TRUE(nodes_[victim]->Start(&why)) << why;
  ASSERT_TRUE(WaitFor([&] { return View(victim).value("writable", false); }, 30s));
  EXPECT_EQ(stored(), "77") << nodes_[victim]->ReadLog();
  // Unchanged since, a restart leaves what is stored alone (a master may
  // have raised it).
  ASSERT_TRUE((*client)->Put(cluster::PriorityKey("it", id), "90").ok());
  nodes_[victim]->Kill();
  ASSERT_TRUE(nodes_[victim]->Start(&why)) << why;
  ASSERT_TRUE(WaitFor([&] { return View(victim).value("writable", false); }, 30s));
  EXPECT_EQ(stored(), "90");
}

// Values that break the rules, written behind the CLI's back or changing an
// immutable setting, never take the cluster down or hide its files: a bad
// live value is reported and the default used on a restart, and the shard
// count stays the cluster's.
TEST_F(ClusterTest, BadOrImmutableSettingsNeitherStopNodesNorHideFiles) {
  std::map<std::string, std::string> files;
  httplib::Client writer("127.0.0.1", nodes_[0]->port());
  for (int i = 0; i < 40; ++i) {
    std::string name = "ns/d" + std::to_string(i % 10) + "/f" + std::to_string(i);
    files[name] = Content(500 + 37 * i, i);
    ASSERT_EQ(StatusOf(PutFile(writer, name, files[name])), 201) << name;
  }
  auto client = cluster::EtcdClient::Create(etcd_->endpoints());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Put("/tessera/it/config/master_release_command", "echo \xff").ok());
  ASSERT_TRUE((*client)->Put("/tessera/it/config/smartpools_schedule", "25:00").ok());
  Config({"set", "metadata_shards", "8"});
  Config({"apply"});
  // Running nodes report both bad values, escaped, and keep serving.
  for (int i = 0; i < kNodes; ++i) {
    json fb;
    ASSERT_TRUE(WaitForFeedback(
        i, [](const json& f) { return f["errors"].size() == 2; }, 10s, &fb))
        << fb.dump() << "\n"
        << nodes_[i]->ReadLog();
    EXPECT_NE(fb["errors"].dump().find("'echo \\\\xff'"), std::string::npos) << fb.dump();
    EXPECT_NE(fb["ignored_immutable"].dump().find("metadata_shards"), std::string::npos);
    EXPECT_TRUE(nodes_[i]->Alive()) << nodes_[i]->ReadLog();
  }

  // Every node restarts, with the bad values still stored.
  for (auto& node : nodes_) node->Kill();
  std::string why;
  for (auto& node : nodes_) ASSERT_TRUE(node->Start(&why)) << why << "\n" << node->ReadLog();
  for (int i = 0; i < kNodes; ++i) {
    ASSERT_TRUE(
        WaitFor([&] { return Members(i) == kNodes && View(i).value("writable", false); }, 30s))
        << "node " << i << ": " << View(i).dump();
  }
  EXPECT_NE(nodes_[0]->ReadLog().find("the cluster keeps its 64 shards, not 8"), std::string::npos);
  // A restarted node sees the group it logged last again; its log has the
  // change once.
  for (int i = 0; i < kNodes; ++i) {
    std::istringstream log(GroupLog(i));
    std::string line, previous;
    while (std::getline(log, line)) {
      const std::string group = line.substr(line.find("new group: "));
      EXPECT_NE(group, previous) << "node " << i << " logged a group twice:\n" << GroupLog(i);
      previous = group;
    }
  }
  for (int i = 0; i < kNodes; ++i) {
    httplib::Client reader("127.0.0.1", nodes_[i]->port());
    for (const auto& [name, body] : files) {
      auto res = GetFile(reader, name);
      ASSERT_EQ(StatusOf(res), 200) << "node " << i << ": " << name;
      EXPECT_TRUE(res->body == body) << name;
    }
  }
  EXPECT_EQ(Put(2, "ns/d0/after", 100), 201);
}

}  // namespace
}  // namespace tessera::testing
