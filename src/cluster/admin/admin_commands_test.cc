// The admin verbs against a real etcd: nodes, group, status, devices, run
// in-process with injected streams, as an operator would call them.
#include "cluster/admin/admin_commands.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cluster/admin/node_state_change.h"
#include "cluster/cluster_file.h"
#include "cluster/config/config_store.h"
#include "cluster/group_notation.h"
#include "cluster/membership/group_proposer.h"
#include "cluster/membership/live_presence.h"
#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"
#include "tests/support/cli_run.h"
#include "tests/support/etcd_test.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster::admin {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

using CommandRun = testing::CliRun;

CommandRun RunTessera(std::vector<std::string> args) {
  return testing::RunCli([](CLI::App& app, std::shared_ptr<int> code, std::ostream* out,
                            std::ostream* err) { AddAdminCommands(app, code, out, err); },
                         std::move(args));
}

// Serves a canned /v1/cluster/view on a free loopback port, as a node would.
class FakeViewNode {
 public:
  explicit FakeViewNode(std::string body) : body_(std::move(body)) {
    server_.Get("/v1/cluster/view", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(body_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(10ms);
  }
  ~FakeViewNode() {
    server_.stop();
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string body_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class AdminCommandsTest : public testing::SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    static std::atomic<int> counter{0};
    cluster_ = "admin-" + std::to_string(++counter);
    ClusterFile file;
    file.cluster = cluster_;
    std::string url = etcd_->client_url(0);
    file.etcd = {url.substr(url.find("//") + 2)};
    path_ = tmp_.path() + "/cluster.json";
    ASSERT_TRUE(SaveClusterFile(path_, file).ok());
  }

  // Registers nodes 1..n with two drives each at 127.0.0.1:8081...
  void Register(int n, const std::vector<std::string>& addresses = {}) {
    for (int i = 0; i < n; ++i) {
      std::string address = i < static_cast<int>(addresses.size())
                                ? addresses[i]
                                : "127.0.0.1:" + std::to_string(8081 + i);
      Result<NodeRecord> r = RegisterNode(client_.get(), cluster_, address);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->array_id, static_cast<uint32_t>(i + 1));
      ASSERT_TRUE(AllocateDriveLnum(client_.get(), cluster_, r->array_id).ok());
      ASSERT_TRUE(AllocateDriveLnum(client_.get(), cluster_, r->array_id).ok());
    }
  }
  void Live(uint32_t id) {
    auto p = LivePresence::Start(client_.get(), cluster_, id, 10);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    presences_.push_back(std::move(p).value());
  }
  // The group as node `self` proposes it; returns its epoch.
  int64_t Propose(uint32_t self = 1) {
    auto outcome = ProposeGroupOnce(client_.get(), cluster_, self);
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    auto snap = ReadClusterSnapshot(client_.get(), cluster_);
    EXPECT_TRUE(snap.ok() && snap->current.has_value());
    return snap.ok() && snap->current ? snap->current->epoch : 0;
  }
  // Writes the master key as the election would; returns its token.
  int64_t Master(uint32_t id, int64_t priority) {
    auto lease = client_->GrantLease(30);
    EXPECT_TRUE(lease.ok());
    EXPECT_TRUE(
        client_->Put(MasterKey(cluster_), MasterRecordJson({id, priority, 0}), *lease).ok());
    auto master = ReadMaster(client_.get(), cluster_);
    EXPECT_TRUE(master.ok() && master->has_value());
    return master.ok() && *master ? (*master)->token : 0;
  }
  std::string WriteClusterFile(const std::vector<std::string>& etcd,
                               const std::vector<ClusterFileNode>& nodes) {
    ClusterFile file;
    file.cluster = cluster_;
    file.etcd = etcd;
    file.nodes = nodes;
    std::string path = tmp_.path() + "/other.json";
    EXPECT_TRUE(SaveClusterFile(path, file).ok());
    return path;
  }

  std::string cluster_;
  testing::TempDir tmp_;
  std::string path_;
  std::vector<std::unique_ptr<LivePresence>> presences_;
};

TEST_F(AdminCommandsTest, NodesListsLikeCorolistener) {
  Register(3);
  Live(1);
  Live(2);
  Propose();
  Master(1, 1);
  ASSERT_TRUE(SetPriority(client_.get(), cluster_, 1, 1).ok());
  const std::string want =
      "         Id               Ip    Status  Master/Slave  Priority\n"
      "          1   127.0.0.1:8081    joined             M         1\n"
      "          2   127.0.0.1:8082    joined             S         0\n"
      "          3   127.0.0.1:8083      down             S         0\n";
  CommandRun run = RunTessera({"nodes", "-l", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out, want);
  EXPECT_EQ(RunTessera({"nodes", "--cluster", path_}).out, want);

  CommandRun json = RunTessera({"nodes", "--json", "--cluster", path_});
  EXPECT_EQ(json.code, 0) << json.err;
  nlohmann::json rows = nlohmann::json::parse(json.out);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["ip"], "127.0.0.1:8081");
  EXPECT_EQ(rows[0]["master_slave"], "M");
  EXPECT_EQ(rows[0]["priority"], 1);
  EXPECT_EQ(rows[2]["status"], "down");
  EXPECT_EQ(rows[2]["live"], false);
}

TEST_F(AdminCommandsTest, NodesPrioritySetsTheKeyAndRefusesUnknownNodes) {
  Register(2);
  CommandRun run = RunTessera({"nodes", "priority", "2", "50", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "node 2 priority: 50\n");
  auto priorities = ReadPriorities(client_.get(), cluster_);
  ASSERT_TRUE(priorities.ok());
  EXPECT_EQ(*priorities, (std::map<uint32_t, int64_t>{{2, 50}}));
  EXPECT_NE(RunTessera({"nodes", "--cluster", path_})
                .out.find("          2   127.0.0.1:8082      down             S        50\n"),
            std::string::npos);

  CommandRun negative = RunTessera({"nodes", "--cluster", path_, "priority", "1", "--", "-5"});
  EXPECT_EQ(negative.code, 0) << negative.err;
  EXPECT_EQ(negative.out, "node 1 priority: -5\n");

  CommandRun unknown = RunTessera({"nodes", "priority", "9", "1", "--cluster", path_});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "tessera: node 9 is not registered in cluster " + cluster_ + "\n");
  EXPECT_FALSE(client_->Get(PriorityKey(cluster_, 9))->kv.has_value());
  EXPECT_EQ(RunTessera({"nodes", "priority", "0", "1", "--cluster", path_}).code, 2);
  EXPECT_EQ(RunTessera({"nodes", "priority", "x", "1", "--cluster", path_}).code, 2);
  // The master_priority setting's bounds: a new master raises itself above
  // every other priority, which must leave it room.
  for (const char* priority : {"1000001", "-1000001", "99999999999999999999"}) {
    CommandRun out_of_range =
        RunTessera({"nodes", "--cluster", path_, "priority", "2", "--", priority});
    EXPECT_EQ(out_of_range.code, 2) << priority;
  }
  EXPECT_EQ(ReadPriorities(client_.get(), cluster_)->at(2), 50);
}

TEST_F(AdminCommandsTest, GroupPrintsTheStoredGroupWithItsSequence) {
  Register(3);
  CommandRun none = RunTessera({"group", "--cluster", path_});
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(none.err, "tessera: cluster " + cluster_ +
                          " has no group yet: no node has proposed one (is any node running?)\n");
  Live(1);
  Live(3);
  const int64_t epoch = Propose();
  const std::string notation = "<1," + std::to_string(epoch) + ">: { 1,3:0-1, down: 2 }";
  CommandRun run = RunTessera({"group", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, notation + "\n");
  // --json is --parse of the same group.
  CommandRun json = RunTessera({"group", "--json", "--cluster", path_});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(json.out, RunTessera({"group", "--parse", notation}).out);
  EXPECT_EQ(nlohmann::json::parse(json.out)["sequence"]["serial"], epoch);
  // The other two modes still work through the same registration.
  EXPECT_EQ(RunTessera({"group", "--canonical", ": { 2, 1 }"}).out, "{ 1-2 }\n");
  // $TESSERA_CLUSTER is used when --cluster is not given.
  setenv("TESSERA_CLUSTER", path_.c_str(), 1);
  CommandRun env = RunTessera({"group"});
  unsetenv("TESSERA_CLUSTER");
  EXPECT_EQ(env.out, notation + "\n") << env.err;
}

TEST_F(AdminCommandsTest, MissingClusterFileNamesThePathAndHowToStartOne) {
  const std::string missing = tmp_.path() + "/nope/cluster.json";
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"nodes"}, {"group"}, {"status"}, {"devices", "node", "smartfail", "1"}}) {
    args.push_back("--cluster");
    args.push_back(missing);
    CommandRun run = RunTessera(args);
    EXPECT_EQ(run.code, 1) << args[0];
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(run.err.rfind("tessera: no cluster file at " + missing +
                                ": start a cluster with "
                                "`tessera up --dir DIR`",
                            0),
              0u)
        << run.err;
  }
}

TEST_F(AdminCommandsTest, UnreachableEtcdIsSaidPlainly) {
  const std::string path = WriteClusterFile({"127.0.0.1:1"}, {});
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"nodes"},
                                             {"group"},
                                             {"devices", "node", "dead", "1"},
                                             {"nodes", "priority", "1", "2"}}) {
    args.push_back("--cluster");
    args.push_back(path);
    CommandRun run = RunTessera(args);
    EXPECT_EQ(run.code, 1) << args[0];
    EXPECT_EQ(run.err.rfind("tessera: etcd unreachable at 127.0.0.1:1 (no quorum?): ", 0), 0u)
        << run.err;
  }
}

TEST_F(AdminCommandsTest, StatusWithoutEtcdPrintsWhatTheNodesSay) {
  FakeViewNode node1(R"({"array_id": 1, "lnn": 1, "cluster": "x", "writable": false,
                         "reason": "etcd session lost", "session_lost": true, "epoch": 12,
                         "group": "<1,12>: { 1-2 }", "is_master": false, "master": 0})");
  const std::string path =
      WriteClusterFile({"127.0.0.1:1"}, {{"node1", node1.address()}, {"node2", "127.0.0.1:1"}});
  CommandRun run = RunTessera({"status", "--cluster", path});
  EXPECT_EQ(run.code, 1);
  const std::string prefix = "cluster: " + cluster_ + "\netcd: unreachable (no quorum?): ";
  ASSERT_EQ(run.out.rfind(prefix, 0), 0u) << run.out;
  const std::string rest = run.out.substr(run.out.find('\n', prefix.size()) + 1);
  EXPECT_EQ(rest,
            "node views (nodes from cluster.json):\n"
            "  node1 at " +
                node1.address() +
                ": not writable (etcd session lost); epoch 12; no master\n"
                "  node2 at 127.0.0.1:1: unreachable (Connection)\n");
  CommandRun json = RunTessera({"status", "--json", "--cluster", path});
  EXPECT_EQ(json.code, 1);
  nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["etcd"]["reachable"], false);
  EXPECT_EQ(j["views"][0]["view"]["session_lost"], true);
  EXPECT_EQ(j["views"][1]["reachable"], false);
}

TEST_F(AdminCommandsTest, StatusSummarisesTheCluster) {
  FakeViewNode node1(R"({"array_id": 1, "lnn": 1, "cluster": "c", "writable": true,
                         "reason": "", "session_lost": false, "epoch": 5,
                         "group": "", "is_master": true, "master": 1})");
  Register(3, {node1.address(), "127.0.0.1:1", "127.0.0.1:1"});
  Live(1);
  Live(2);
  ASSERT_TRUE(SetPersistentState(client_.get(), cluster_, 2, {.read_only = true}).ok());
  const int64_t epoch = Propose();
  const int64_t token = Master(1, 7);
  config::ConfigStore store(client_.get(), "/tessera/" + cluster_ + "/config");
  CommandRun defaults = RunTessera({"status", "--cluster", path_});
  EXPECT_NE(defaults.out.find("\nprotection: +2 (default)\n"), std::string::npos) << defaults.out;
  ASSERT_TRUE(store.Set("protection", "+2d:1n").ok());

  CommandRun run = RunTessera({"status", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  const std::string e = std::to_string(epoch);
  EXPECT_EQ(run.out,
            "cluster: " + cluster_ + "\n" +                              //
                "etcd: ok (" + etcd_->client_url(0).substr(7) + ")\n" +  //
                "nodes: 3 configured: 2 joined, 1 down, 0 dead; 0 soft_failed, 1 read_only\n"
                "drives:\n"
                "  node 1: 0-1 (2 drives), in group: 0-1\n"
                "  node 2: 0-1 (2 drives), in group: 0-1\n"
                "  node 3: 0-1 (2 drives), not in group\n"
                "quorum: read yes, write no (2 of 3 nodes readable, need 2; 1 of 3 nodes "
                "writable, need 2)\n"
                "master: node 1 at " +
                node1.address() + ", priority 7, token " + std::to_string(token) + "\n" +  //
                "group: <1," + e + ">: { 1-2:0-1, down: 3, read_only: 2 } (epoch " + e +
                ", cause merge)\n"
                "protection: +2d:1n (from protection)\n"
                "data: unknown (HTTP 404)\n"  // the fake node has no /v1/cluster/protection
                "node views:\n"
                "  node 1 at " +
                node1.address() + ": writable; epoch 5; master 1\n" +
                "  node 2 at 127.0.0.1:1: unreachable (Connection)\n"
                "  node 3 at 127.0.0.1:1: unreachable (Connection)\n");

  CommandRun json = RunTessera({"status", "--json", "--cluster", path_});
  EXPECT_EQ(json.code, 0) << json.err;
  nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["nodes"]["joined"], 2);
  EXPECT_EQ(j["quorum"]["write"], false);
  EXPECT_EQ(j["master"]["token"], token);
  EXPECT_EQ(j["group"]["epoch"], epoch);
  EXPECT_EQ(j["protection"]["value"], "+2d:1n");
  EXPECT_EQ(j["views"][0]["view"]["is_master"], true);
}

TEST_F(AdminCommandsTest, DevicesSetAndClearStatesAndTheProposerFoldsThemIn) {
  Register(3);
  Live(1);
  Live(2);
  Live(3);
  GroupProposer proposer(client_.get(), cluster_, 1, 100ms);
  auto group_has = [&](const std::string& part) {
    return WaitFor(
        [&] {
          return RunTessera({"group", "--cluster", path_}).out.find(part) != std::string::npos;
        },
        10s);
  };
  ASSERT_TRUE(group_has(": { 1-3:0-1 }")) << RunTessera({"group", "--cluster", path_}).out;

  CommandRun sf = RunTessera({"devices", "node", "smartfail", "2", "--cluster", path_});
  EXPECT_EQ(sf.code, 0) << sf.err;
  EXPECT_EQ(sf.out, "node 2 states: soft_failed (was: none)\n");
  EXPECT_TRUE(group_has(": { 1-3:0-1, soft_failed: 2 }"))
      << RunTessera({"group", "--cluster", path_}).out;

  CommandRun ro = RunTessera({"devices", "node", "readonly", "2", "--cluster", path_});
  EXPECT_EQ(ro.out, "node 2 states: soft_failed, read_only (was: soft_failed)\n") << ro.err;
  CommandRun clear =
      RunTessera({"devices", "node", "smartfail", "2", "--clear", "--cluster", path_});
  EXPECT_EQ(clear.out, "node 2 states: read_only (was: soft_failed, read_only)\n") << clear.err;
  EXPECT_TRUE(group_has(": { 1-3:0-1, read_only: 2 }"))
      << RunTessera({"group", "--cluster", path_}).out;

  CommandRun dead = RunTessera({"devices", "node", "dead", "3", "--cluster", path_});
  EXPECT_EQ(dead.out, "node 3 states: dead (was: none)\n") << dead.err;
  EXPECT_TRUE(group_has(": { 1-2:0-1, dead: 3, read_only: 2 }"))
      << RunTessera({"group", "--cluster", path_}).out;
  // "read_only" widens the Status column by one (two spaces before every value).
  EXPECT_EQ(RunTessera({"nodes", "--cluster", path_}).out,
            "         Id               Ip     Status  Master/Slave  Priority\n"
            "          1   127.0.0.1:8081     joined             S         0\n"
            "          2   127.0.0.1:8082  read_only             S         0\n"
            "          3   127.0.0.1:8083       dead             S         0\n");

  auto stored = client_->Get(ClusterPrefix(cluster_) + "states/2");
  ASSERT_TRUE(stored.ok() && stored->kv);
  EXPECT_EQ(*ParsePersistentState(stored->kv->value), (PersistentNodeState{.read_only = true}));

  CommandRun unknown = RunTessera({"devices", "node", "smartfail", "99", "--cluster", path_});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "tessera: node 99 is not registered in cluster " + cluster_ + "\n");
  EXPECT_FALSE(client_->Get(ClusterPrefix(cluster_) + "states/99")->kv.has_value());
  EXPECT_EQ(RunTessera({"devices", "node", "smartfail", "0", "--cluster", path_}).code, 2);
  EXPECT_EQ(RunTessera({"devices", "node", "explode", "1", "--cluster", path_}).code, 2);
  proposer.Stop();
}

TEST_F(AdminCommandsTest, ConcurrentFlagChangesAreNotLost) {
  Register(1);
  const PersistentFlag flags[] = {PersistentFlag::kSoftFailed, PersistentFlag::kReadOnly,
                                  PersistentFlag::kDead};
  for (int round = 0; round < 10; ++round) {
    const bool on = round % 2 == 0;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (PersistentFlag flag : flags) {
      threads.emplace_back([&, flag] {
        if (!UpdatePersistentFlag(client_.get(), cluster_, 1, flag, on).ok()) ++failures;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    auto stored = client_->Get(ClusterPrefix(cluster_) + "states/1");
    ASSERT_TRUE(stored.ok() && stored->kv);
    EXPECT_EQ(*ParsePersistentState(stored->kv->value),
              (PersistentNodeState{.soft_failed = on, .read_only = on, .dead = on}))
        << "round " << round;
  }
}

}  // namespace
}  // namespace tessera::cluster::admin
