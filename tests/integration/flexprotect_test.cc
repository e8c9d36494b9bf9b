// FlexProtect on a real cluster: etcd and 5 `tessera node --config`
// processes. A node killed with -9 stays down past the grace period and the
// master rebuilds its units elsewhere; a smartfailed node is evacuated and
// leaves the group; an operator pauses, resumes and cancels jobs; MediaScan
// repairs damage on the nodes' drives.
//
// Today each node's metadata store holds the records of the files written
// through it, so files are written through the master, whose FlexProtect
// scans its store.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "tests/integration/test_files.h"
#include "tests/support/cluster_probe.h"
#include "tests/support/etcd_process.h"
#include "tests/support/etcd_test.h"
#include "tests/support/node_process.h"
#include "tests/support/segment_damage.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kNodes = 5;

class FlexProtectTest : public ::testing::Test {
 protected:
  // Settings are written before the nodes start.
  void StartCluster(const std::map<std::string, std::string>& settings) {
    etcd_ = std::make_unique<EtcdCluster>(dir_.Sub("etcd"), 1);
    std::string why;
    ASSERT_TRUE(etcd_->Start(&why)) << why;
    config_uri_ = etcd_->ConfigUri("fp");
    for (const auto& [name, value] : settings) Config({"set", name, value});
    for (int i = 0; i < kNodes; ++i) {
      nodes_.push_back(std::make_unique<NodeProcess>(
          ClusterNode(dir_.Sub("node" + std::to_string(i + 1)), config_uri_)));
      ASSERT_TRUE(nodes_.back()->Start(&why)) << why << "\n" << nodes_.back()->ReadLog();
    }
    for (int i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(
          WaitFor([&] { return Readable(i) == kNodes && View(i).value("writable", false); }, 30s))
          << "node " << i << ": " << View(i).dump();
    }
    cluster_file_ = dir_.path() + "/cluster.json";
    ASSERT_TRUE(WriteClusterFile(cluster_file_, "fp", etcd_->host_ports(), nodes_).ok());
    ASSERT_TRUE(WaitFor([&] { return MasterIndex() >= 0; }, 20s));
    master_ = MasterIndex();
  }

  void Config(std::vector<std::string> args) {
    std::vector<std::string> argv = {TesseraBinary(), "config"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", config_uri_});
    CommandResult r = RunCommand(argv);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  CommandResult Admin(std::vector<std::string> args) {
    return ClusterAdmin(cluster_file_).Run(args);
  }
  json View(int i) { return NodeView(nodes_[i]->port()); }
  int Readable(int i) { return ReadableMembers(nodes_[i]->port()); }
  int MasterIndex(const std::set<int>& skip = {}) {
    for (int i = 0; i < kNodes; ++i) {
      if (!skip.count(i) && View(i).value("is_master", false)) return i;
    }
    return -1;
  }
  uint32_t ArrayId(int i) { return View(i).value("array_id", 0u); }

  // Small mirrored and large striped files, written through the master.
  void WriteFiles(int small, int large) {
    httplib::Client client("127.0.0.1", nodes_[master_]->port());
    for (int i = 0; i < small; ++i) {
      std::string name = "data/small" + std::to_string(i);
      files_[name] = Content(1000 + 997 * i % 60000, i);
    }
    for (int i = 0; i < large; ++i) {
      std::string name = "data/large" + std::to_string(i);
      files_[name] = Content((i + 1) * 700 * 1024 + 13 * i, 1000 + i);
    }
    for (const auto& [name, body] : files_) {
      ASSERT_EQ(StatusOf(PutFile(client, name, body)), 201) << name;
    }
  }
  json Stat(const std::string& name) { return FileStat(nodes_[master_]->port(), name); }
  // How many files have a unit on node `node`.
  int FilesOn(uint32_t node) {
    int count = 0;
    for (const auto& [name, body] : files_) {
      json stat = Stat(name);
      for (const json& d : stat["drives"]) {
        if (d.value("node", 0u) == node) {
          ++count;
          break;
        }
      }
    }
    return count;
  }
  // Every file reads back identical from the master and none of its units
  // is on node `gone`.
  void ExpectEveryFileIntactAndOff(uint32_t gone) {
    httplib::Client client("127.0.0.1", nodes_[master_]->port());
    for (const auto& [name, body] : files_) {
      auto res = GetFile(client, name);
      ASSERT_EQ(StatusOf(res), 200) << name;
      EXPECT_TRUE(res->body == body) << name << " differs";
      json stat = Stat(name);
      ASSERT_TRUE(stat.contains("units")) << name;
      for (const json& unit : stat["units"]) {
        EXPECT_NE(unit["drive"].get<std::string>().rfind(std::to_string(gone) + ":", 0), 0u)
            << name << " still has a unit on node " << gone << ": " << stat.dump();
      }
      for (const json& d : stat["drives"]) EXPECT_NE(d.value("node", 0u), gone) << name;
    }
  }
  std::string JobLine(int id) { return ClusterAdmin(cluster_file_).JobLine(id); }
  json Job(int id) { return ClusterAdmin(cluster_file_).Job(id); }
  bool JobState(int id, const std::string& state) {
    return ClusterAdmin(cluster_file_).JobState(id, state);
  }
  bool StatusSays(const std::string& text) { return ClusterAdmin(cluster_file_).StatusSays(text); }

  void LoseADriveAndRebuild(const std::function<void(int, uint32_t)>& lose);

  TempDir dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::string config_uri_;
  std::string cluster_file_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  int master_ = -1;
  std::map<std::string, std::string> files_;
};

TEST_F(FlexProtectTest, KilledNodeIsRebuiltElsewhereAfterTheGracePeriod) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({{"flexprotect_grace_seconds", "6"}}));
  ASSERT_NO_FATAL_FAILURE(WriteFiles(8, 3));
  ASSERT_TRUE(StatusSays("data: at full protection: 11 files")) << Admin({"status"}).output;
  const int victim = (master_ + 1) % kNodes;
  const uint32_t gone = ArrayId(victim);
  const int on_victim = FilesOn(gone);
  ASSERT_GE(on_victim, 3);  // at least every striped file
  nodes_[victim]->Kill();

  // Seen down, but not yet past the grace period: below protection, no job.
  ASSERT_TRUE(WaitFor([&] { return StatusSays("data: BELOW PROTECTION"); }, 20s))
      << Admin({"status"}).output;
  std::string status = Admin({"status"}).output;
  EXPECT_NE(status.find("failed devices: node " + std::to_string(gone)), std::string::npos)
      << status;
  EXPECT_NE(status.find(" 0 files (0B) unavailable"), std::string::npos) << status;

  // Past it, the master starts FlexProtect by itself, and it succeeds.
  ASSERT_TRUE(WaitFor([&] { return !JobLine(1).empty(); }, 30s)) << Admin({"job", "list"}).output;
  EXPECT_NE(JobLine(1).find("FlexProtect"), std::string::npos);
  EXPECT_NE(JobLine(1).find("auto: node " + std::to_string(gone) + " down for"), std::string::npos)
      << JobLine(1);
  ASSERT_TRUE(WaitFor([&] { return JobState(1, "succeeded"); }, 60s))
      << Admin({"job", "reports", "view", "-v", "1"}).output;
  EXPECT_NE(JobLine(1).find("succeeded  finish"), std::string::npos) << JobLine(1);
  EXPECT_NE(JobLine(1).find("100%"), std::string::npos) << JobLine(1);

  CommandResult report = Admin({"job", "reports", "view", "-v", "1"});
  EXPECT_EQ(report.exit_code, 0);
  for (const std::string& want :
       {std::string("job 1: FlexProtect, succeeded"), std::string("  scan: "),
        std::string("  rebuild: "), std::string("  finish: "), std::string("  files_scanned: 11\n"),
        "  files_at_risk: " + std::to_string(on_victim) + "\n",
        "  files_rebuilt: " + std::to_string(on_victim) + "\n",
        std::string("devices: node " + std::to_string(gone)), std::string("data/large2: ")}) {
    EXPECT_NE(report.output.find(want), std::string::npos) << want << "\n" << report.output;
  }
  EXPECT_EQ(Admin({"job", "reports", "view", "1"}).output.find("details:"), std::string::npos);

  // With the node still down: everything reads back, off the dead node,
  // striped again over the four nodes left (2+2 under +2).
  ExpectEveryFileIntactAndOff(gone);
  json large = Stat("data/large2");
  EXPECT_EQ(large["geometry"]["data_units"], 2) << large.dump();
  EXPECT_EQ(large["geometry"]["meets_node_tolerance"], true);
  status = Admin({"status"}).output;
  EXPECT_NE(status.find("data: at full protection: 11 files"), std::string::npos) << status;
  // The grace period does not start the job again for the same failure.
  std::this_thread::sleep_for(3s);
  EXPECT_TRUE(JobLine(2).empty()) << Admin({"job", "list"}).output;
}

// A node that comes back without one of its drives (its directory emptied
// and formatted as a new drive) keeps the old drive in the group as down;
// past the grace period FlexProtect moves its units to other drives.
// Loses one drive of a node (by `lose`, given the node's index and the
// drive's lnum); the group lists it down, FlexProtect rebuilds its units
// elsewhere, and every file reads back whole.
void FlexProtectTest::LoseADriveAndRebuild(const std::function<void(int, uint32_t)>& lose) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({{"flexprotect_grace_seconds", "6"}}));
  ASSERT_NO_FATAL_FAILURE(WriteFiles(8, 3));
  const int victim = (master_ + 1) % kNodes;
  const uint32_t node = ArrayId(victim);
  // The victim's drive holding the most units (a fresh node's drives have
  // lnums 0.. in the order given).
  std::map<std::string, int> files_on;
  for (const auto& [name, body] : files_) {
    std::set<std::string> drives;
    const json stat = Stat(name);
    for (const json& unit : stat["units"]) drives.insert(unit["drive"]);
    for (const std::string& d : drives) ++files_on[d];
  }
  uint32_t lnum = 0;
  for (uint32_t l = 1; l < 4; ++l) {
    if (files_on[std::to_string(node) + ":" + std::to_string(l)] >
        files_on[std::to_string(node) + ":" + std::to_string(lnum)]) {
      lnum = l;
    }
  }
  const std::string lost_drive = std::to_string(node) + ":" + std::to_string(lnum);
  ASSERT_GE(files_on[lost_drive], 1) << "a file with a unit on " << lost_drive;
  ASSERT_NO_FATAL_FAILURE(lose(victim, lnum));

  const std::string down = "down: " + lost_drive;
  ASSERT_TRUE(WaitFor(
      [&] { return View(master_).value("group", "").find(down) != std::string::npos; }, 30s))
      << View(master_).dump();
  ASSERT_TRUE(WaitFor([&] { return !JobLine(1).empty(); }, 40s)) << Admin({"job", "list"}).output;
  EXPECT_NE(JobLine(1).find("auto: node " + std::to_string(node) + " drive " +
                            std::to_string(lnum) + " down for"),
            std::string::npos)
      << JobLine(1);
  ASSERT_TRUE(WaitFor([&] { return JobState(1, "succeeded"); }, 60s))
      << Admin({"job", "reports", "view", "-v", "1"}).output;

  httplib::Client client("127.0.0.1", nodes_[master_]->port());
  for (const auto& [name, body] : files_) {
    auto res = GetFile(client, name);
    ASSERT_EQ(StatusOf(res), 200) << name;
    EXPECT_TRUE(res->body == body) << name << " differs";
    const json stat = Stat(name);
    for (const json& unit : stat["units"]) {
      EXPECT_NE(unit["drive"], lost_drive) << name << " still has a unit on the lost drive";
    }
  }
  EXPECT_TRUE(StatusSays("data: at full protection: " + std::to_string(files_.size()) + " files"))
      << Admin({"status"}).output;
}

TEST_F(FlexProtectTest, ALostDriveIsRebuiltElsewhere) {
  LoseADriveAndRebuild([this](int victim, uint32_t lnum) {
    ASSERT_TRUE(nodes_[victim]->Stop());
    std::filesystem::remove_all(nodes_[victim]->config().drives[lnum]);
    ASSERT_TRUE(nodes_[victim]->Start()) << nodes_[victim]->ReadLog();
  });
}

// The drive fails while its node runs (its segments are removed under it):
// the first write into it fails the drive, which the node then registers
// down, as a drive missing at start.
TEST_F(FlexProtectTest, ADriveThatFailsWhileItsNodeRunsIsRebuiltElsewhere) {
  LoseADriveAndRebuild([this](int victim, uint32_t lnum) {
    std::filesystem::remove_all(nodes_[victim]->config().drives[lnum] + "/segments");
    httplib::Client client("127.0.0.1", nodes_[victim]->port());
    const std::string down =
        "down: " + std::to_string(ArrayId(victim)) + ":" + std::to_string(lnum);
    // Writes through the node until one has gone to the drive; failed ones
    // are not kept.
    ASSERT_TRUE(WaitFor(
        [&] {
          const std::string name = "data/probe" + std::to_string(files_.size());
          const std::string body = Content(3000, static_cast<int>(files_.size()));
          if (StatusOf(PutFile(client, name, body)) == 201) files_[name] = body;
          return View(master_).value("group", "").find(down) != std::string::npos;
        },
        30s))
        << View(master_).dump() << "\n"
        << nodes_[victim]->ReadLog();
  });
}

// A read-only node takes no new data, whichever node takes the write, and
// takes it again once the flag is cleared (docs/states.md).
TEST_F(FlexProtectTest, AReadOnlyNodeGetsNoNewData) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({{"flexprotect_grace_seconds", "1h"}}));
  const int victim = (master_ + 1) % kNodes;
  const uint32_t node = ArrayId(victim);
  // Whether every node's group lists `node` read-only (`want`) or not.
  auto every_group_says_read_only = [&](bool want) {
    for (int i = 0; i < kNodes; ++i) {
      const std::string group = View(i).value("group", "");
      if ((group.find("read_only: " + std::to_string(node)) != std::string::npos) != want) {
        return false;
      }
    }
    return true;
  };
  // Files written through every node; how many have a unit on `node`.
  auto write_round = [&](const std::string& round) {
    int on_node = 0;
    for (int i = 0; i < kNodes; ++i) {
      httplib::Client client("127.0.0.1", nodes_[i]->port());
      for (size_t size : {3000, 900 * 1024}) {
        const std::string name = "data/" + round + std::to_string(files_.size());
        files_[name] = Content(size, files_.size());
        EXPECT_EQ(StatusOf(PutFile(client, name, files_[name])), 201) << name;
        const json stat = Stat(name);
        for (const json& d : stat["drives"]) {
          if (d.value("node", 0u) == node) {
            ++on_node;
            break;
          }
        }
      }
    }
    return on_node;
  };
  CommandResult set = Admin({"devices", "node", "readonly", std::to_string(node)});
  ASSERT_EQ(set.exit_code, 0) << set.output;
  ASSERT_TRUE(WaitFor([&] { return every_group_says_read_only(true); }, 20s))
      << View(master_).dump();
  EXPECT_EQ(write_round("ro"), 0) << "new data placed on read-only node " << node;

  CommandResult clear = Admin({"devices", "node", "readonly", std::to_string(node), "--clear"});
  ASSERT_EQ(clear.exit_code, 0) << clear.output;
  ASSERT_TRUE(WaitFor([&] { return every_group_says_read_only(false); }, 20s))
      << View(master_).dump();
  // 900 KiB files are 3+2 stripes over all five nodes again (once every
  // node has seen the group change).
  ASSERT_TRUE(WaitFor([&] { return write_round("rw") >= kNodes; }, 20s))
      << Stat(std::prev(files_.end())->first).dump() << "\n"
      << View(master_).dump();
  httplib::Client client("127.0.0.1", nodes_[master_]->port());
  for (const auto& [name, body] : files_) {
    auto res = GetFile(client, name);
    ASSERT_EQ(StatusOf(res), 200) << name;
    EXPECT_TRUE(res->body == body) << name << " differs";
  }
}

// Damage no read has met (a copy the reads skip, a data unit) is found by
// MediaScan and written again on the nodes that hold it, so that damage to
// the other copies or units later loses nothing.
TEST_F(FlexProtectTest, MediaScanRepairsDamageBeforeAReadMeetsIt) {
  ASSERT_NO_FATAL_FAILURE(
      StartCluster({{"flexprotect_grace_seconds", "1h"}, {"mediascan_impact", "high"}}));
  ASSERT_NO_FATAL_FAILURE(WriteFiles(3, 1));
  // The drive directory of a unit's "node:lnum".
  auto drive_dir = [&](const json& unit) {
    const std::string drive = unit["drive"];
    const uint32_t node = std::stoul(drive.substr(0, drive.find(':')));
    const uint32_t lnum = std::stoul(drive.substr(drive.find(':') + 1));
    for (int i = 0; i < kNodes; ++i) {
      if (ArrayId(i) == node) return nodes_[i]->config().drives[lnum];
    }
    ADD_FAILURE() << "no node " << node;
    return std::string();
  };
  const std::string small = "data/small1", large = "data/large0";
  const json copies = Stat(small)["units"];
  ASSERT_EQ(copies.size(), 3u) << Stat(small).dump();
  ASSERT_TRUE(FlipByteInSegments(drive_dir(copies[2]), files_[small].substr(0, 256)));
  // Stripe 0's data units hold the file's first 128 KiB each.
  const json stat = Stat(large);
  ASSERT_EQ(stat["geometry"]["data_units"], 3) << stat.dump();
  std::map<int, json> data_units;
  for (const json& unit : stat["units"]) {
    if (unit["stripe"] == 0 && unit["role"] == "data") data_units[unit["unit"]] = unit;
  }
  ASSERT_EQ(data_units.size(), 3u) << stat.dump();
  auto data_slice = [&](int unit) { return files_[large].substr(unit * 128 * 1024 + 1000, 256); };
  ASSERT_TRUE(FlipByteInSegments(drive_dir(data_units[0]), data_slice(0)));

  CommandResult started = Admin({"job", "start", "MediaScan"});
  ASSERT_EQ(started.exit_code, 0) << started.output;
  ASSERT_TRUE(WaitFor([&] { return JobState(1, "succeeded"); }, 60s))
      << Admin({"job", "reports", "view", "-v", "1"}).output;
  const json counters = Job(1)["counters"];
  EXPECT_EQ(counters.value("pieces_repaired", 0), 2) << counters.dump();
  EXPECT_EQ(counters.value("files_scanned", 0), static_cast<int>(files_.size())) << counters.dump();
  const std::string report = Admin({"job", "reports", "view", "-v", "1"}).output;
  EXPECT_NE(report.find(small + ": piece"), std::string::npos) << report;
  EXPECT_NE(report.find(large + ": piece"), std::string::npos) << report;

  // Now the repaired copy and unit are the ones the files depend on.
  ASSERT_TRUE(FlipByteInSegments(drive_dir(copies[0]), files_[small].substr(0, 256)));
  ASSERT_TRUE(FlipByteInSegments(drive_dir(copies[1]), files_[small].substr(0, 256)));
  ASSERT_TRUE(FlipByteInSegments(drive_dir(data_units[1]), data_slice(1)));
  ASSERT_TRUE(FlipByteInSegments(drive_dir(data_units[2]), data_slice(2)));
  httplib::Client client("127.0.0.1", nodes_[master_]->port());
  for (const std::string& name : {small, large}) {
    auto res = GetFile(client, name);
    ASSERT_EQ(StatusOf(res), 200) << name << ": " << (res ? res->body : "no answer");
    EXPECT_TRUE(res->body == files_[name]) << name << " differs";
  }
}

TEST_F(FlexProtectTest, SmartfailedNodeIsEvacuatedAndLeavesTheGroup) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({{"flexprotect_grace_seconds", "1h"}}));
  ASSERT_NO_FATAL_FAILURE(WriteFiles(6, 2));
  const int victim = (master_ + 2) % kNodes;
  const uint32_t leaving = ArrayId(victim);
  const int on_victim = FilesOn(leaving);
  ASSERT_GE(on_victim, 2);
  CommandResult set = Admin({"devices", "node", "smartfail", std::to_string(leaving)});
  ASSERT_EQ(set.exit_code, 0) << set.output;

  ASSERT_TRUE(WaitFor([&] { return JobState(1, "succeeded"); }, 60s))
      << Admin({"job", "list"}).output << Admin({"job", "reports", "view", "-v", "1"}).output;
  EXPECT_NE(JobLine(1).find("auto: node " + std::to_string(leaving) + " smartfailed"),
            std::string::npos)
      << JobLine(1);
  CommandResult report = Admin({"job", "reports", "view", "-v", "1"});
  EXPECT_NE(report.output.find("  files_rebuilt: " + std::to_string(on_victim) + "\n"),
            std::string::npos)
      << report.output;
  EXPECT_NE(report.output.find("  nodes_retired: 1\n"), std::string::npos) << report.output;
  EXPECT_NE(report.output.find("node " + std::to_string(leaving) + " left the group (state dead)"),
            std::string::npos)
      << report.output;

  // The node, still running, is out of the group: listed dead.
  ASSERT_TRUE(WaitFor(
      [&] {
        return View(master_).value("group", "").find("dead: " + std::to_string(leaving)) !=
               std::string::npos;
      },
      20s))
      << View(master_).dump();
  EXPECT_TRUE(nodes_[victim]->Alive());
  CommandResult nodes = Admin({"nodes", "--json"});
  json list = json::parse(nodes.output, nullptr, false);
  bool found = false;
  for (const json& n : list) {
    if (n.value("id", 0u) == leaving) {
      found = true;
      EXPECT_EQ(n.value("status", ""), "dead") << n.dump();
    }
  }
  EXPECT_TRUE(found) << nodes.output;
  ExpectEveryFileIntactAndOff(leaving);
  ASSERT_TRUE(WaitFor([&] { return StatusSays("data: at full protection: 8 files"); }, 10s))
      << Admin({"status"}).output;
}

// Clients keep writing through every node while a node is smartfailed:
// once it has left, no acknowledged file has a unit on it and every one
// reads back (placement stops using it; FlexProtect's verify pass takes
// what landed there after its scan).
TEST_F(FlexProtectTest, WritesDuringASmartfailEndUpOffTheLeavingNode) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({{"flexprotect_grace_seconds", "1h"}}));
  ASSERT_NO_FATAL_FAILURE(WriteFiles(6, 2));
  const int victim = (master_ + 2) % kNodes;
  const uint32_t leaving = ArrayId(victim);
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, std::string> written;
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        const int through = (w + i) % kNodes;
        httplib::Client client("127.0.0.1", nodes_[through]->port());
        const std::string name = "late/w" + std::to_string(w) + "-" + std::to_string(i);
        const std::string body = Content(i % 3 == 0 ? 400 * 1024 : 2000 + i, 7000 + 100 * w + i);
        if (StatusOf(PutFile(client, name, body)) == 201) {
          std::lock_guard<std::mutex> lock(mu);
          written[name] = body;
        }
      }
    });
  }
  std::this_thread::sleep_for(500ms);
  CommandResult set = Admin({"devices", "node", "smartfail", std::to_string(leaving)});
  ASSERT_EQ(set.exit_code, 0) << set.output;
  const bool done = WaitFor([&] { return JobState(1, "succeeded"); }, 90s);
  stop = true;
  for (std::thread& t : writers) t.join();
  ASSERT_TRUE(done) << Admin({"job", "reports", "view", "-v", "1"}).output;
  ASSERT_GE(written.size(), 10u);
  files_.insert(written.begin(), written.end());
  ExpectEveryFileIntactAndOff(leaving);
}

TEST_F(FlexProtectTest, JobsArePausedResumedAndCancelled) {
  // No automatic start; a slow rebuild, so there is time to act on it.
  ASSERT_NO_FATAL_FAILURE(
      StartCluster({{"flexprotect_grace_seconds", "1h"}, {"flexprotect_files_per_second", "20"}}));
  ASSERT_NO_FATAL_FAILURE(WriteFiles(100, 0));
  const int victim = (master_ + 3) % kNodes;
  const uint32_t gone = ArrayId(victim);
  const int at_risk = FilesOn(gone);
  ASSERT_GT(at_risk, 20);
  nodes_[victim]->Kill();
  ASSERT_TRUE(WaitFor([&] { return StatusSays("data: BELOW PROTECTION"); }, 20s));

  CommandResult start = Admin({"job", "start", "flexprotect"});
  ASSERT_EQ(start.exit_code, 0) << start.output;
  EXPECT_EQ(start.output, "job 1: FlexProtect queued\n");
  // Progress shows while it runs.
  ASSERT_TRUE(WaitFor(
      [&] {
        json j = Job(1);
        return j.value("state", "") == "running" && j.value("phase", "") == "rebuild" &&
               j.value("percent", 0) > 0;
      },
      30s))
      << Admin({"job", "list"}).output;
  EXPECT_NE(JobLine(1).find("running    rebuild"), std::string::npos) << JobLine(1);

  CommandResult pause = Admin({"job", "pause", "1"});
  ASSERT_EQ(pause.exit_code, 0) << pause.output;
  EXPECT_EQ(pause.output, "job 1: paused\n");
  std::this_thread::sleep_for(1500ms);  // a paused job makes no progress
  json paused = Job(1);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(Job(1), paused);
  EXPECT_EQ(paused.value("state", ""), "paused");
  EXPECT_LT(paused.value("percent", 100), 100);
  CommandResult again = Admin({"job", "pause", "1"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("job 1 is paused; cannot pause it"), std::string::npos)
      << again.output;

  // A second job runs while the first is paused; cancel it mid-rebuild.
  ASSERT_EQ(Admin({"job", "start", "FlexProtect"}).exit_code, 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        json j = Job(2);
        return j.value("state", "") == "running" && j.value("phase", "") == "rebuild";
      },
      30s))
      << Admin({"job", "list"}).output;
  CommandResult cancel = Admin({"job", "cancel", "2"});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.output;
  EXPECT_EQ(cancel.output, "job 2: cancelled\n");
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(JobState(2, "cancelled"));
  EXPECT_NE(Admin({"job", "reports", "view", "2"}).output.find("job 2: FlexProtect, cancelled"),
            std::string::npos);
  EXPECT_EQ(Admin({"job", "resume", "2"}).exit_code, 1);

  // Resumed, the first finishes the work.
  CommandResult resume = Admin({"job", "resume", "1"});
  ASSERT_EQ(resume.exit_code, 0) << resume.output;
  EXPECT_EQ(resume.output, "job 1: queued\n");
  ASSERT_TRUE(WaitFor([&] { return JobState(1, "succeeded"); }, 60s))
      << Admin({"job", "reports", "view", "-v", "1"}).output;
  ExpectEveryFileIntactAndOff(gone);
  EXPECT_TRUE(StatusSays("data: at full protection: 100 files"));
  EXPECT_EQ(Admin({"job", "cancel", "9"}).exit_code, 1);

  // Every file at risk was rebuilt once: by job 1 before its pause, by job 2
  // before its cancel, or by job 1 after its resume. The report counts the
  // work of all of job 1's runs; a run's scan is counted once.
  json first = Job(1)["counters"], second = Job(2)["counters"];
  EXPECT_EQ(first.value("files_rebuilt", 0) + second.value("files_rebuilt", 0), at_risk)
      << first.dump() << "\n"
      << second.dump();
  EXPECT_EQ(first.value("files_scanned", 0), 100) << first.dump();
  EXPECT_LT(first.value("files_at_risk", 0), at_risk) << first.dump();
}

TEST_F(FlexProtectTest, NewMasterResumesARunningJob) {
  ASSERT_NO_FATAL_FAILURE(
      StartCluster({{"flexprotect_grace_seconds", "1h"}, {"flexprotect_files_per_second", "10"}}));
  // Every node holds the records of the files written through it, so each
  // writes some: whichever node becomes master next has files to protect.
  std::map<int, std::vector<std::string>> written;
  for (int i = 0; i < kNodes; ++i) {
    httplib::Client client("127.0.0.1", nodes_[i]->port());
    for (int f = 0; f < 30; ++f) {
      std::string name = "n" + std::to_string(i) + "/f" + std::to_string(f);
      files_[name] = Content(2000 + 31 * f, 100 * i + f);
      ASSERT_EQ(StatusOf(PutFile(client, name, files_[name])), 201) << name;
      written[i].push_back(name);
    }
  }
  const int victim = (master_ + 1) % kNodes;
  const uint32_t gone = ArrayId(victim);
  const uint32_t old_master = ArrayId(master_);
  nodes_[victim]->Kill();
  ASSERT_TRUE(WaitFor([&] { return StatusSays("data: BELOW PROTECTION"); }, 20s));
  ASSERT_EQ(Admin({"job", "start", "FlexProtect"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return Job(1).value("phase", "") == "rebuild"; }, 30s))
      << Admin({"job", "list"}).output;
  const int64_t first_token = Job(1).value("master_token", int64_t{0});

  nodes_[master_]->Kill();
  int next = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        next = MasterIndex({master_, victim});
        return next >= 0;
      },
      30s));
  ASSERT_TRUE(WaitFor([&] { return JobState(1, "succeeded"); }, 90s))
      << Admin({"job", "reports", "view", "-v", "1"}).output;
  json job = Job(1);
  EXPECT_GT(job.value("master_token", int64_t{0}), first_token);
  std::string report = Admin({"job", "reports", "view", "-v", "1"}).output;
  EXPECT_NE(report.find("resumed by master token"), std::string::npos) << report;

  // The new master's files are whole again, off both dead nodes.
  master_ = next;
  std::map<std::string, std::string> mine;
  for (const std::string& name : written[next]) mine[name] = files_[name];
  files_ = mine;
  ExpectEveryFileIntactAndOff(gone);
  ExpectEveryFileIntactAndOff(old_master);
}

}  // namespace
}  // namespace tessera::testing
