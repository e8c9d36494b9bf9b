// A GoogleTest fixture for tests that need one real etcd member: it starts
// in a temp dir once per test suite and each test gets a fresh client. Tests
// keep apart by using their own key prefixes. Also WaitFor, for polling
// state that other threads or processes change.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "cluster/etcd/etcd_client.h"
#include "tests/support/etcd_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {

// Polls `pred` every 20 ms until it holds or `timeout` passes.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

class SharedEtcdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    etcd_ = new EtcdCluster(dir_->Sub("etcd"), 1);
    std::string why;
    start_error_ = etcd_->Start(&why) ? "" : why;
  }
  static void TearDownTestSuite() {
    delete etcd_;
    delete dir_;
    etcd_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(start_error_.empty()) << "etcd did not start: " << start_error_;
    auto client = cluster::EtcdClient::Create(etcd_->endpoints());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  static inline TempDir* dir_ = nullptr;
  static inline EtcdCluster* etcd_ = nullptr;
  static inline std::string start_error_;
  std::unique_ptr<cluster::EtcdClient> client_;
};

}  // namespace tessera::testing
