// Failure paths of a real `tessera node`: lost drives, corrupt bytes,
// kill -9 in the middle of a bulk load, a drive from another node, space
// coming back after deletes, and a second node started on an address in use.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/units.h"
#include "tests/integration/test_files.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::map<std::string, uint64_t>& SampleFiles() {
  static const std::map<std::string, uint64_t> files = {{"s/empty", 0},
                                                        {"s/one", 1},
                                                        {"s/block", 8 * kKiB},
                                                        {"s/unit-1", 128 * kKiB - 1},
                                                        {"s/unit+1", 128 * kKiB + 1},
                                                        {"s/five", 5 * kMiB},
                                                        {"s/twenty", 20 * kMiB + 17}};
  return files;
}

void WriteSamples(httplib::Client& client) {
  for (auto& [name, size] : SampleFiles()) {
    auto res = PutFile(client, "ns/" + name, Content(size, size + 1));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 201) << res->body;
  }
}

// Starts `node`, writes the sample files and stops it cleanly.
void WriteSamplesAndStop(NodeProcess& node) {
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  {
    httplib::Client client("127.0.0.1", node.port());
    WriteSamples(client);
  }
  ASSERT_TRUE(node.Stop());
}

void ExpectSamplesIntact(httplib::Client& client) {
  for (auto& [name, size] : SampleFiles()) {
    auto res = GetFile(client, "ns/" + name);
    ASSERT_TRUE(res) << name;
    ASSERT_EQ(res->status, 200) << name << ": " << res->body;
    EXPECT_TRUE(res->body == Content(size, size + 1)) << name << " differs";
  }
}

// Flips one byte every `stride` bytes of every segment file under `drive`.
void CorruptSegments(const std::string& drive, std::streamoff stride) {
  for (auto& entry : fs::recursive_directory_iterator(drive)) {
    if (entry.path().extension() != ".seg") continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    auto size = static_cast<std::streamoff>(fs::file_size(entry.path()));
    for (std::streamoff pos = 100; pos < size; pos += stride) {
      char c;
      f.seekg(pos);
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x5a);
      f.seekp(pos);
      f.write(&c, 1);
    }
  }
}

TEST(NodeFailureTest, LosingTwoDrivesLosesNoFile) {
  TempDir dir;
  NodeProcess node(FourDriveNode(dir.path()));
  ASSERT_NO_FATAL_FAILURE(WriteSamplesAndStop(node));
  fs::remove_all(dir.Sub("d1"));
  fs::remove_all(dir.Sub("d3"));
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  httplib::Client client("127.0.0.1", node.port());
  ExpectSamplesIntact(client);
  json info = json::parse(client.Get("/v1/node")->body);
  std::map<int, std::string> status;
  for (auto& d : info["drives"]) status[d["lnum"]] = d["status"];
  EXPECT_EQ(status[1], "down");
  EXPECT_EQ(status[3], "down");
  EXPECT_EQ(status[4], "up") << "an empty drive directory becomes a new drive with a fresh lnum";
  EXPECT_EQ(status[5], "up");
  EXPECT_NE(node.ReadLog().find("drive lnum 1 is down"), std::string::npos) << node.ReadLog();
  // New writes land on the drives that are up.
  ASSERT_EQ(PutFile(client, "ns/after", Content(3 * kMiB, 9))->status, 201);
  EXPECT_TRUE(GetFile(client, "ns/after")->body == Content(3 * kMiB, 9));
}

TEST(NodeFailureTest, CorruptUnitsAreRebuiltOnRead) {
  TempDir dir;
  NodeProcess node(FourDriveNode(dir.path()));
  ASSERT_NO_FATAL_FAILURE(WriteSamplesAndStop(node));
  CorruptSegments(dir.Sub("d0"), 4096);
  CorruptSegments(dir.Sub("d2"), 7919);
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  httplib::Client client("127.0.0.1", node.port());
  ExpectSamplesIntact(client);
  EXPECT_NE(node.ReadLog().find("rebuilt"), std::string::npos)
      << "corrupt units must be rebuilt from redundancy: " << node.ReadLog();
}

TEST(NodeFailureTest, TooManyLostDrivesIsAClearError) {
  TempDir dir;
  NodeProcess node(FourDriveNode(dir.path()));
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  {
    httplib::Client client("127.0.0.1", node.port());
    ASSERT_EQ(PutFile(client, "ns/x", Content(kMiB / 2, 3))->status, 201);
  }
  ASSERT_TRUE(node.Stop());
  for (const char* d : {"d0", "d1", "d2"}) fs::remove_all(dir.Sub(d));
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  httplib::Client client("127.0.0.1", node.port());
  auto res = GetFile(client, "ns/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;
  EXPECT_NE(res->body.find("needs 2"), std::string::npos) << res->body;
}

TEST(NodeFailureTest, KillNineDuringBulkLoadKeepsEveryAcknowledgedFile) {
  TempDir dir;
  NodeProcess node(FourDriveNode(dir.path(), {"--segment-size", "8M"}));
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  std::mutex mu;
  std::map<std::string, std::pair<size_t, uint64_t>> acked;      // path -> (size, seed)
  std::map<std::string, std::pair<size_t, uint64_t>> attempted;  // includes in-flight ones
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      httplib::Client client("127.0.0.1", node.port());
      client.set_read_timeout(10, 0);
      std::mt19937_64 rng(w);
      for (int i = 0; !stop; ++i) {
        std::string path = "load/w" + std::to_string(w) + "/f" + std::to_string(i);
        size_t size = 1 + rng() % (400 * kKiB);
        uint64_t seed = rng();
        {
          std::lock_guard<std::mutex> lock(mu);
          attempted[path] = {size, seed};
        }
        auto res = PutFile(client, "ns/" + path, Content(size, seed));
        if (!res) return;  // the node died under us
        if (res->status == 201) {
          std::lock_guard<std::mutex> lock(mu);
          acked[path] = {size, seed};
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  node.Kill();
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_GT(acked.size(), 50u) << "the load did not get going";
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  httplib::Client client("127.0.0.1", node.port());
  for (auto& [path, meta] : attempted) {
    auto res = GetFile(client, "ns/" + path);
    ASSERT_TRUE(res);
    if (acked.count(path)) {
      ASSERT_EQ(res->status, 200) << "acknowledged " << path << " lost";
      EXPECT_TRUE(res->body == Content(meta.first, meta.second)) << path << " differs";
    } else if (res->status == 200) {
      // An unacknowledged write may have committed, but never half-written.
      EXPECT_TRUE(res->body == Content(meta.first, meta.second)) << path << " is half-written";
    } else {
      EXPECT_EQ(res->status, 404) << path;
    }
  }
  std::cout << "kill -9 after " << acked.size() << " acknowledged files; all intact\n";
}

TEST(NodeFailureTest, RefusesADriveOfAnotherNode) {
  TempDir dir;
  NodeProcess first(FourDriveNode(dir.path()));
  ASSERT_TRUE(first.Start()) << first.ReadLog();
  ASSERT_TRUE(first.Stop());
  NodeConfig config;
  config.drives = {dir.Sub("e0"), dir.Sub("e1"), dir.Sub("e2"), dir.Sub("d0")};
  config.state_dir = dir.Sub("other-state");
  NodeProcess second(config);
  ASSERT_TRUE(second.Start()) << second.ReadLog();
  std::string log = second.ReadLog();
  EXPECT_NE(log.find("refusing drive " + dir.Sub("d0")), std::string::npos) << log;
  EXPECT_NE(log.find("belongs to cluster"), std::string::npos) << log;
  httplib::Client client("127.0.0.1", second.port());
  json info = json::parse(client.Get("/v1/node")->body);
  EXPECT_EQ(info["drives"].size(), 3u) << info.dump();
}

// Two nodes given one address would share its port and split its clients
// between them: the second must refuse to start, and the first serve on.
TEST(NodeFailureTest, ASecondNodeOnAnAddressInUseRefusesToStart) {
  TempDir dir;
  NodeProcess first(FourDriveNode(dir.Sub("first")));
  ASSERT_TRUE(first.Start()) << first.ReadLog();
  httplib::Client client("127.0.0.1", first.port());
  std::string first_guid = json::parse(client.Get("/v1/node")->body).value("cluster_guid", "?");

  const std::string address = "127.0.0.1:" + std::to_string(first.port());
  auto start_second = [&](const std::string& listen) {
    // `timeout`: a node that wrongly starts would otherwise serve forever.
    return RunCommand({"timeout", "20", TesseraBinary(), "node", "--listen", listen, "--drives",
                       dir.Sub("second-d0") + "," + dir.Sub("second-d1"), "--state",
                       dir.Sub("second-state")});
  };
  CommandResult second = start_second(address);
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("cannot listen on " + address), std::string::npos) << second.output;
  // It refused before touching anything: no drive formatted, no identity.
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("second-d0")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("second-state")));

  CommandResult garbled = start_second("127.0.0.1:" + std::to_string(first.port()) + "x");
  EXPECT_EQ(garbled.exit_code, 2) << garbled.output;
  EXPECT_NE(garbled.output.find("which is not a number from 1 to 65535"), std::string::npos)
      << garbled.output;

  for (int i = 0; i < 20; ++i) {  // new connections, each to the first node
    httplib::Client fresh("127.0.0.1", first.port());
    auto info = fresh.Get("/v1/node");
    ASSERT_TRUE(info) << "request " << i;
    EXPECT_EQ(json::parse(info->body).value("cluster_guid", "?"), first_guid);
  }
  EXPECT_TRUE(first.Alive());
}

// Drives and state belong to one running node: a second node started on
// them (on another port) is refused with a reason, and the first serves on.
TEST(NodeFailureTest, ASecondNodeOnTheDrivesOfARunningOneIsRefused) {
  TempDir dir;
  NodeConfig config = FourDriveNode(dir.path());
  config.state_dir = dir.Sub("state");
  NodeProcess first(config);
  ASSERT_TRUE(first.Start()) << first.ReadLog();
  httplib::Client client("127.0.0.1", first.port());
  ASSERT_EQ(client.Put("/v1/files/ns/kept", "still here", "application/octet-stream")->status, 201);

  std::string drives = dir.Sub("d0");
  for (int i = 1; i < 4; ++i) drives += "," + dir.Sub("d" + std::to_string(i));
  CommandResult second = RunCommand({"timeout", "20", TesseraBinary(), "node", "--listen",
                                     "127.0.0.1:" + std::to_string(FreePort()), "--drives", drives,
                                     "--state", config.state_dir});
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("is in use by another process"), std::string::npos) << second.output;

  auto kept = client.Get("/v1/files/ns/kept");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->status, 200);
  EXPECT_EQ(kept->body, "still here");
  EXPECT_TRUE(first.Alive());
}

TEST(NodeFailureTest, DeletingHalfTheFilesGivesSpaceBack) {
  TempDir dir;
  NodeProcess node(FourDriveNode(
      dir.path(), {"--segment-size", "2M", "--compact-interval", "0", "--delete-grace", "0"}));
  ASSERT_TRUE(node.Start()) << node.ReadLog();
  httplib::Client client("127.0.0.1", node.port());
  const int kFiles = 160;
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_EQ(PutFile(client, "ns/c/" + std::to_string(i), Content(200 * kKiB, i))->status, 201);
  }
  auto segments_usage = [&] {
    uint64_t total = 0;
    for (const std::string& d : node.config().drives) total += DiskUsage(d + "/segments");
    return total;
  };
  uint64_t before = segments_usage();
  for (int i = 0; i < kFiles; i += 2) {
    ASSERT_EQ(client.Delete(("/v1/files/ns/c/" + std::to_string(i)).c_str())->status, 204);
  }
  auto compact = client.Post("/v1/admin/compact");
  ASSERT_EQ(compact->status, 200) << compact->body;
  EXPECT_GT(json::parse(compact->body)["segments_removed"].get<uint64_t>(), 0u);
  uint64_t after = segments_usage();
  // Segments about half dead straddle the compaction threshold (0.5), so
  // roughly half of them are rewritten: a clear drop, not all of the half.
  EXPECT_LT(after, before * 85 / 100) << "before " << before << " after " << after;
  for (int i = 1; i < kFiles; i += 2) {
    auto res = GetFile(client, "ns/c/" + std::to_string(i));
    ASSERT_EQ(res->status, 200);
    EXPECT_TRUE(res->body == Content(200 * kKiB, i));
  }
}

}  // namespace
}  // namespace tessera::testing
