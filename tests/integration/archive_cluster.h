// A `tessera up` cluster of 6 nodes (2 drives each, one etcd member,
// supervisord) loaded with a reduced archive-mix set (../shared/tools/
// gen-archive): the fixture of the integration tests that prove a cluster
// keeps every file through failures and jobs (six_node_test, packing_test).
#pragma once

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

namespace archive_cluster {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
constexpr int kNodes = 6;
constexpr int kFiles = 300;
inline const std::string kNs = "archive";

// ../shared beside the repository, or $TESSERA_SHARED.
inline std::string SharedDir() {
  const char* env = std::getenv("TESSERA_SHARED");
  return env ? env : TESSERA_SHARED_DIR;
}

}  // namespace archive_cluster

using namespace archive_cluster;  // NOLINT: the fixture's vocabulary

class ArchiveClusterTest : public ::testing::Test {
 protected:
  using json = nlohmann::json;
  static constexpr int kNodes = archive_cluster::kNodes;
  static constexpr int kFiles = archive_cluster::kFiles;

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

  // `tessera job start TYPE`; the job's id.
  int StartJob(const std::string& type) {
    CommandResult start = admin_.Run({"job", "start", type});
    std::smatch m;
    if (start.exit_code != 0 ||
        !std::regex_search(start.output, m, std::regex("^job ([0-9]+): " + type + " queued"))) {
      ADD_FAILURE() << start.output;
      return -1;
    }
    return std::stoi(m[1].str());
  }
  // Waits until job `id` ends; its final state ("" on timeout).
  std::string WaitForJob(int id, std::chrono::seconds timeout) {
    std::string state;
    WaitFor(
        [&] {
          state = admin_.Job(id).value("state", "");
          return state == "succeeded" || state == "failed" || state == "cancelled";
        },
        timeout);
    return state;
  }

  TempDir tmp_;
  UpCluster cluster_{tmp_.Sub("c")};
  ClusterAdmin admin_{cluster_.cluster_file()};
  std::map<std::string, std::string> files_;  // name under kNs -> bytes
  std::vector<uint32_t> ids_;                 // array id of node i
  std::set<int> down_;                        // nodes killed and kept down
};

}  // namespace tessera::testing
