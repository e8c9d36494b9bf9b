// Issue 4's proof on a `tessera up` cluster of 6 nodes (2 drives each, one
// etcd member, supervisord): load a reduced archive-mix set through every
// node, kill -9 as many nodes as the policy tolerates and keep them down,
// read every file back identical, run FlexProtect to full protection, check
// every file's placement, then bring the nodes back and read everything
// through every node.
#include "tests/integration/archive_cluster.h"

namespace tessera::testing {
namespace {

class SixNodeTest : public ArchiveClusterTest {
 protected:
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
    const int id = StartJob("FlexProtect");
    ASSERT_GT(id, 0);
    const std::string state = WaitForJob(id, 150s);
    ASSERT_EQ(state, "succeeded")
        << admin_.Run({"job", "list"}).output << "\n"
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
