// Shared by the config tests: one etcd member per test binary, and a fresh
// config root per test so tests do not see each other's keys.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "cluster/etcd/etcd_client.h"
#include "tests/support/etcd_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster::config {

class EtcdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new tessera::testing::TempDir();
    etcd_ = new tessera::testing::EtcdCluster(dir_->Sub("etcd"), 1);
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
    Result<std::unique_ptr<EtcdClient>> client = EtcdClient::Create(etcd_->endpoints());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::string("/tessera/") + info->test_suite_name() + "-" + info->name() + "/config";
  }

  // Polls `pred` every 20 ms until it holds or `timeout` passes.
  template <typename Pred>
  static bool WaitFor(Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
  }

  static inline tessera::testing::TempDir* dir_ = nullptr;
  static inline tessera::testing::EtcdCluster* etcd_ = nullptr;
  static inline std::string start_error_;
  std::unique_ptr<EtcdClient> client_;
  std::string root_;
};

}  // namespace tessera::cluster::config
