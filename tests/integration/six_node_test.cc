// Issue 4's proof on a `tessera up` cluster of 6 nodes (2 drives each, one
// etcd member, supervisord): load a reduced archive-mix set through every
// node, kill -9 as many nodes as the policy tolerates and keep them down,
// read every file back identical, run FlexProtect to full protection, check
// every file's placement, then bring the nodes back and read everything
// through every node.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "tests/integration/test_files.h"
#include "tests/support/cli_run.h"
#include "tests/support/cluster_probe.h"
#include "tests/support/etcd_test.h"
#include "tests/support/temp_dir.h"
#include "tests/support/up_cluster.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kNodes = 6;
constexpr int kFiles = 300;
const std::string kNs = "archive";

// ../shared beside the repository, or $TESSERA_SHARED.
std::string SharedDir() {
  const char* env = std::getenv("TESSERA_SHARED");
  return env ? env : TESSERA_SHARED_DIR;
}

class SixNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tool = SharedDir() + "/tools/gen-archive";
    if (!fs::exists(tool)) {
      GTEST_SKIP() << "the archive-mix generator is missing: " << tool
                   << " (set TESSERA_SHARED to the shared directory)";
    }
    const std::string set = tmp_.Sub("set");
    CommandResult gen = RunCommand(
        {"python3", tool, set, "--profile", "archive-mix", "--files", std::to_string(kFiles)});
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    for (const auto& entry : fs::recursive_directory_iterator(set)) {
      if (!entry.is_regular_file()) continue;
      files_["mix/" + fs::relative(entry.path(), set).string()] =
          ReadFileOrEmpty(entry.path().string());
    }
    ASSERT_EQ(files_.size(), static_cast<size_t>(kFiles)) << gen.output;
  }

  void StartCluster(const std::string& protection) {
    CommandResult up =
        cluster_.Up({"--nodes", std::to_string(kNodes), "--drives", "2", "--protection", protection,
                     "--etcd-members", "1", "--timeout", "120"});
    ASSERT_EQ(up.exit_code, 0) << up.output;
    ASSERT_EQ(cluster_.size(), kNodes) << ReadFileOrEmpty(cluster_.cluster_file());
    // FlexProtect is started by hand, when the test has checked what it
    // wants to see below protection: no automatic start in between.
    CommandResult set = admin_.Run({"config", "set", "flexprotect_grace_seconds", "1h"});
    ASSERT_EQ(set.exit_code, 0) << set.output;
    ASSERT_EQ(admin_.Run({"config", "apply"}).exit_code, 0);
    for (int i = 0; i < kNodes; ++i) {
      ids_.push_back(NodeView(cluster_.port(i)).value("array_id", 0u));
      ASSERT_GT(ids_.back(), 0u) << cluster_.program(i);
    }
    ASSERT_TRUE(WaitFor([&] { return MasterIndex() >= 0; }, 20s));
  }

  // Every file, PUT concurrently: file k through node k % 6, so every node
  // takes writes and forwards records to their shards' primaries.
  void LoadArchive() {
    std::vector<std::pair<std::string, const std::string*>> all;
    for (const auto& [name, body] : files_) all.emplace_back(name, &body);
    std::mutex mu;
    std::vector<std::string> failures;
    std::vector<std::thread> writers;
    for (int t = 0; t < kNodes; ++t) {
      writers.emplace_back([&, t] {
        httplib::Client client("127.0.0.1", cluster_.port(t));
        client.set_read_timeout(60);
        for (size_t k = t; k < all.size(); k += kNodes) {
          int status = StatusOf(PutFile(client, kNs + "/" + all[k].first, *all[k].second));
          if (status != 201) {
            std::lock_guard<std::mutex> lock(mu);
            failures.push_back(all[k].first + " via " + cluster_.program(t) + ": HTTP " +
                               std::to_string(status));
          }
        }
      });
    }
    for (std::thread& w : writers) w.join();
    ASSERT_TRUE(failures.empty()) << failures.size() << " PUTs failed, first: " << failures[0];
  }

  // What is wrong with reading every file through node i: missing, an
  // error, or different bytes. Empty when all 300 read back identical.
  std::vector<std::string> ReadProblems(int i) {
    httplib::Client client("127.0.0.1", cluster_.port(i));
    client.set_read_timeout(60);
    std::vector<std::string> problems;
    for (const auto& [name, body] : files_) {
      auto res = GetFile(client, kNs + "/" + name);
      if (StatusOf(res) != 200) {
        problems.push_back(name + " via " + cluster_.program(i) + ": HTTP " +
                           std::to_string(StatusOf(res)) + (res ? " " + res->body : ""));
      } else if (res->body != body) {
        problems.push_back(name + " via " + cluster_.program(i) + ": differs (" +
                           std::to_string(res->body.size()) + " bytes, want " +
                           std::to_string(body.size()) + ")");
      }
    }
    return problems;
  }
  // Every file reads back identical through each of `nodes`, read in parallel.
  void ExpectEveryFileIdenticalVia(const std::vector<int>& nodes) {
    std::vector<std::vector<std::string>> problems(nodes.size());
    std::vector<std::thread> readers;
    for (size_t k = 0; k < nodes.size(); ++k) {
      readers.emplace_back([&, k] { problems[k] = ReadProblems(nodes[k]); });
    }
    for (std::thread& r : readers) r.join();
    for (const auto& p : problems) {
      EXPECT_TRUE(p.empty()) << p.size() << " of " << kFiles
                             << " files unreadable or wrong, first: " << p[0];
    }
  }

  int MasterIndex() {
    for (int i = 0; i < kNodes; ++i) {
      if (!down_.count(i) && NodeView(cluster_.port(i)).value("is_master", false)) return i;
    }
    return -1;
  }
  std::vector<int> LiveNodes() {
    std::vector<int> live;
    for (int i = 0; i < kNodes; ++i) {
      if (!down_.count(i)) live.push_back(i);
    }
    return live;
  }
  // `count` nodes that are neither the master nor already down: the
  // master's own failover is another test's subject.
  std::vector<int> PickVictims(int count) {
    const int master = MasterIndex();
    std::vector<int> victims;
    for (int i = kNodes - 1; i >= 0 && static_cast<int>(victims.size()) < count; --i) {
      if (i != master && !down_.count(i)) victims.push_back(i);
    }
    return victims;
  }

  // kill -9 `victims` together, keep them down, and wait until the master
  // reports them as failed devices and every survivor is writable in the
  // master's epoch.
  void Crash(const std::vector<int>& victims) {
    std::string why;
    ASSERT_TRUE(cluster_.CrashAndKeepDown(victims, &why)) << why;
    for (int v : victims) down_.insert(v);
    const int master = MasterIndex();
    ASSERT_GE(master, 0);
    ASSERT_TRUE(WaitFor(
        [&] {
          json report = ProtectionReport(cluster_.port(master));
          if (!report.contains("failed_devices")) return false;
          for (int d : down_) {
            const std::string device = "node " + std::to_string(ids_[d]);
            bool listed = false;
            for (const json& f : report["failed_devices"]) listed |= f == device;
            if (!listed) return false;
          }
          const int64_t epoch = NodeView(cluster_.port(master)).value("epoch", int64_t{-1});
          for (int i : LiveNodes()) {
            json view = NodeView(cluster_.port(i));
            if (!view.value("writable", false) || view.value("epoch", int64_t{-2}) != epoch) {
              return false;
            }
          }
          return true;
        },
        30s))
        << ProtectionReport(cluster_.port(master)).dump() << "\n"
        << admin_.Run({"status"}).output;
  }

  // Below protection, nothing unavailable: the policy tolerates the loss.
  void ExpectBelowProtectionButAvailable() {
    CommandResult status = admin_.Run({"status"});
    EXPECT_NE(status.output.find("data: BELOW PROTECTION"), std::string::npos) << status.output;
    EXPECT_NE(status.output.find("; 0 files (0B) unavailable"), std::string::npos) << status.output;
    const size_t failed = status.output.find("failed devices: ");
    ASSERT_NE(failed, std::string::npos) << status.output;
    // Up to " (as node N sees it)": N is the master, never a victim here.
    std::string devices = status.output.substr(failed, status.output.find('\n', failed) - failed);
    devices = devices.substr(0, devices.find(" (as "));
    for (int d : down_) {
      EXPECT_TRUE(std::regex_search(devices, std::regex("node " + std::to_string(ids_[d]) + "\\b")))
          << devices;
    }
  }

  // `tessera job start FlexProtect`, then wait for it to succeed and for the
  // data to be at full protection again.
  void RunFlexProtect() {
    CommandResult start = admin_.Run({"job", "start", "FlexProtect"});
    ASSERT_EQ(start.exit_code, 0) << start.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(start.output, m, std::regex("^job ([0-9]+): FlexProtect queued")))
        << start.output;
    const int id = std::stoi(m[1].str());
    std::string state;
    ASSERT_TRUE(WaitFor(
        [&] {
          state = admin_.Job(id).value("state", "");
          return state == "succeeded" || state == "failed" || state == "cancelled";
        },
        150s))
        << admin_.Run({"job", "list"}).output;
    ASSERT_EQ(state, "succeeded")
        << admin_.Run({"job", "reports", "view", "-v", std::to_string(id)}).output;
    CommandResult report = admin_.Run({"job", "reports", "view", std::to_string(id)});
    EXPECT_NE(report.output.find("  files_scanned: " + std::to_string(kFiles) + "\n"),
              std::string::npos)
        << report.output;
    const std::string full = "data: at full protection: " + std::to_string(kFiles) + " files";
    ASSERT_TRUE(WaitFor([&] { return admin_.StatusSays(full); }, 10s))
        << admin_.Run({"status"}).output;
  }

  // Through a live node, every file's placement avoids the down nodes and
  // puts at most `per_node` units of a stripe on one node (mirror copies:
  // one per node), each on its own drive.
  void ExpectPlacementsOffDownNodes(int per_node) {
    const int via = LiveNodes().front();
    std::set<uint32_t> gone;
    for (int d : down_) gone.insert(ids_[d]);
    int checked = 0;
    for (const auto& [name, body] : files_) {
      json stat = FileStat(cluster_.port(via), kNs + "/" + name);
      ASSERT_TRUE(stat.contains("units") && stat.contains("drives")) << name << ": " << stat.dump();
      EXPECT_EQ(stat["size"], body.size()) << name;
      EXPECT_EQ(stat["geometry"].value("meets_node_tolerance", false), true) << stat.dump();
      for (const json& d : stat["drives"]) {
        EXPECT_EQ(gone.count(d.value("node", 0u)), 0u)
            << name << " on a down node: " << stat.dump();
      }
      // stripe -> node -> units, and stripe -> drives used
      std::map<int, std::map<uint32_t, int>> per_stripe;
      std::map<int, std::set<std::string>> drives;
      std::map<int, bool> copies;
      for (const json& unit : stat["units"]) {
        const std::string drive = unit.value("drive", "");
        const uint32_t node = static_cast<uint32_t>(std::stoul(drive.substr(0, drive.find(':'))));
        const int stripe = unit.value("stripe", -1);
        EXPECT_EQ(gone.count(node), 0u) << name << " has a unit on a down node: " << stat.dump();
        ++per_stripe[stripe][node];
        EXPECT_TRUE(drives[stripe].insert(drive).second) << name << ": two units on " << drive;
        copies[stripe] = unit.value("role", "") == "copy";
      }
      for (const auto& [stripe, nodes] : per_stripe) {
        const int limit = copies[stripe] ? 1 : per_node;
        for (const auto& [node, units] : nodes) {
          EXPECT_LE(units, limit) << name << " stripe " << stripe << " has " << units
                                  << " units on node " << node << ": " << stat.dump();
        }
      }
      ++checked;
    }
    EXPECT_EQ(checked, kFiles);
  }

  // supervisorctl start every down node; wait until every node sees all six
  // in its group, none down, and is writable.
  void BringBack() {
    for (int d : down_) ASSERT_TRUE(cluster_.Start(d)) << cluster_.Ctl({"status"}).output;
    down_.clear();
    for (int i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(WaitFor(
          [&] {
            json view = NodeView(cluster_.port(i));
            return ReadableMembers(cluster_.port(i)) == kNodes && view.value("writable", false) &&
                   view.value("group", "down").find("down") == std::string::npos;
          },
          60s))
          << cluster_.program(i) << ": " << NodeView(cluster_.port(i)).dump() << "\n"
          << cluster_.LogTail(i);
    }
    CommandResult group = admin_.Run({"group"});
    EXPECT_EQ(group.exit_code, 0) << group.output;
    EXPECT_EQ(group.output.find("down"), std::string::npos) << group.output;
  }

  std::vector<int> AllNodes() {
    std::vector<int> all;
    for (int i = 0; i < kNodes; ++i) all.push_back(i);
    return all;
  }

  TempDir tmp_;
  UpCluster cluster_{tmp_.Sub("c")};
  ClusterAdmin admin_{cluster_.cluster_file()};
  std::map<std::string, std::string> files_;  // name under kNs -> bytes
  std::vector<uint32_t> ids_;                 // array id of node i
  std::set<int> down_;                        // nodes killed and kept down
};

// +2 survives any two nodes: both go at once.
TEST_F(SixNodeTest, PlusTwoSurvivesTwoNodesKilledTogether) {
  ASSERT_NO_FATAL_FAILURE(StartCluster("+2"));
  ASSERT_NO_FATAL_FAILURE(LoadArchive());
  ASSERT_TRUE(admin_.StatusSays("data: at full protection: 300 files"))
      << admin_.Run({"status"}).output;

  ASSERT_NO_FATAL_FAILURE(Crash(PickVictims(2)));
  ExpectBelowProtectionButAvailable();
  ASSERT_NO_FATAL_FAILURE(ExpectEveryFileIdenticalVia({LiveNodes().front()}));

  ASSERT_NO_FATAL_FAILURE(RunFlexProtect());
  ExpectPlacementsOffDownNodes(1);
  ExpectEveryFileIdenticalVia({LiveNodes().back()});

  ASSERT_NO_FATAL_FAILURE(BringBack());
  ExpectEveryFileIdenticalVia(AllNodes());
}

// +2d:1n survives two drives or ONE node: a stripe may put two units on a
// node, so two nodes down together could take four units of a stripe with
// two parity — beyond the policy. The nodes therefore fail one at a time,
// FlexProtect restoring full protection (at most two units per node over
// the nodes left) before the second failure.
TEST_F(SixNodeTest, PlusTwoDrivesOneNodeSurvivesTwoNodesKilledInTurn) {
  ASSERT_NO_FATAL_FAILURE(StartCluster("+2d:1n"));
  ASSERT_NO_FATAL_FAILURE(LoadArchive());
  ASSERT_TRUE(admin_.StatusSays("data: at full protection: 300 files"))
      << admin_.Run({"status"}).output;

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("failure " + std::to_string(round + 1));
    ASSERT_NO_FATAL_FAILURE(Crash(PickVictims(1)));
    ExpectBelowProtectionButAvailable();
    ASSERT_NO_FATAL_FAILURE(ExpectEveryFileIdenticalVia({LiveNodes().front()}));
    ASSERT_NO_FATAL_FAILURE(RunFlexProtect());
    ExpectPlacementsOffDownNodes(2);
    ExpectEveryFileIdenticalVia({LiveNodes().back()});
  }

  ASSERT_NO_FATAL_FAILURE(BringBack());
  ExpectEveryFileIdenticalVia(AllNodes());
}

}  // namespace
}  // namespace tessera::testing
