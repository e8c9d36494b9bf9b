// Shared by the config tests: one etcd member per test suite (SharedEtcdTest),
// and a fresh config root per test so tests do not see each other's keys.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "cluster/etcd/etcd_client.h"
#include "tests/support/etcd_test.h"

namespace tessera::cluster::config {

class EtcdTest : public tessera::testing::SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::string("/tessera/") + info->test_suite_name() + "-" + info->name() + "/config";
  }

  std::string root_;
};

using tessera::testing::WaitFor;

}  // namespace tessera::cluster::config
