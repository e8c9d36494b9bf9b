// Helpers for the image service's integration tests: reading glance's
// tables, waiting, big deterministic files, and a fixture that starts etcd,
// N cluster nodes and `tessera images` reaching them through a cluster.json.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "tests/integration/test_files.h"
#include "tests/support/cli_run.h"
#include "tests/support/cluster_probe.h"
#include "tests/support/etcd_process.h"
#include "tests/support/images_process.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {

using namespace std::chrono_literals;

// The value of `| key | value |` in a glance table.
inline std::string Field(const std::string& table, const std::string& key) {
  std::regex row("\\|\\s*" + key + "\\s*\\|\\s*(.*?)\\s*\\|");
  std::smatch m;
  return std::regex_search(table, m, row) ? m[1].str() : "";
}

inline bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

// Peak resident memory of a process, in KiB (VmHWM), or -1.
inline long PeakRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

class ImagesClusterTest : public ::testing::Test {
 protected:
  void StartCluster(int nodes, const std::string& protection) {
    etcd_ = std::make_unique<EtcdCluster>(dir_.Sub("etcd"), 1);
    std::string why;
    ASSERT_TRUE(etcd_->Start(&why)) << why;
    std::string uri = etcd_->ConfigUri("img");
    CommandResult set =
        RunCommand({TesseraBinary(), "config", "set", "protection", protection, "--config", uri});
    ASSERT_EQ(set.exit_code, 0) << set.output;
    for (int i = 0; i < nodes; ++i) {
      nodes_.push_back(std::make_unique<NodeProcess>(
          ClusterNode(dir_.Sub("node" + std::to_string(i + 1)), uri, 4)));
      ASSERT_TRUE(nodes_.back()->Start(&why)) << why << "\n" << nodes_.back()->ReadLog();
    }
    for (auto& node : nodes_) {
      ASSERT_TRUE(WaitFor(
          [&] {
            httplib::Client c("127.0.0.1", node->port());
            auto r = c.Get("/v1/cluster/view");
            if (!r || r->status != 200) return false;
            nlohmann::json view = nlohmann::json::parse(r->body);
            return view.value("writable", false) && view["quorum"].value("configured", 0) == nodes;
          },
          30s))
          << node->ReadLog();
    }
    std::string cluster_file = dir_.Sub("cluster.json");
    ASSERT_TRUE(WriteClusterFile(cluster_file, "img", etcd_->host_ports(), nodes_).ok());
    images_ = std::make_unique<ImagesProcess>("", dir_.Sub("images.log"),
                                              std::vector<std::string>{"--cluster", cluster_file});
    ASSERT_TRUE(images_->Start(&why)) << why;
    home_ = dir_.Sub("home");
    std::filesystem::create_directories(home_);
  }

  CommandResult Glance(std::vector<std::string> args) {
    std::vector<std::string> argv = {"glance", "--os-image-url", images_->url(), "--os-auth-token",
                                     "x"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, {"HOME=" + home_, "OS_AUTH_URL="});
  }

  // Writes `mib` MiB of deterministic data, one MiB at a time.
  void WriteBigFile(const std::string& path, size_t mib) {
    std::ofstream out(path, std::ios::binary);
    for (size_t i = 0; i < mib; ++i) out << Content(1 << 20, i);
  }

  bool SameFiles(const std::string& a, const std::string& b) {
    std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
    std::string bx(1 << 20, '\0'), by(1 << 20, '\0');
    while (x && y) {
      x.read(bx.data(), bx.size());
      y.read(by.data(), by.size());
      if (x.gcount() != y.gcount() || bx.compare(0, x.gcount(), by, 0, y.gcount()) != 0) {
        return false;
      }
    }
    return x.eof() && y.eof();
  }

  TempDir dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::unique_ptr<ImagesProcess> images_;
  std::string home_;
};

}  // namespace tessera::testing
