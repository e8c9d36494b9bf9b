#include "cluster/filepool/packing_target.h"

#include <gtest/gtest.h>

namespace tessera::cluster::filepool {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNow = 1'700'000'000 * kSecond;

TEST(PackingTargetTest, EveryConditionMustHold) {
  PackingSettings settings = DefaultPackingSettings();
  settings.enabled = true;
  FilePoolPolicy policy;
  policy.name = "dicom";
  policy.apply_order = 1;
  policy.path_prefix = "archive/dicom/";
  policy.enable_packing = true;  // min age 1d, no max size
  const int64_t day_old = kNow - 86400 * kSecond;
  auto target = [&](const FilePoolPolicy* p, uint64_t size, int64_t modified) {
    return PackingTargetName(DecidePackingTarget(settings, p, size, modified, kNow));
  };
  EXPECT_STREQ(target(&policy, 24 * 1024, day_old), "container");
  EXPECT_STREQ(target(&policy, 0, day_old), "container");
  EXPECT_STREQ(target(&policy, 1016 * 1024, day_old), "container");
  EXPECT_STREQ(target(&policy, 1016 * 1024 + 1, day_old), "native");      // packing_max_file_size
  EXPECT_STREQ(target(&policy, 24 * 1024, day_old + kSecond), "native");  // too young
  EXPECT_STREQ(target(&policy, 24 * 1024, kNow + kSecond), "native");     // from the future
  EXPECT_STREQ(target(nullptr, 24 * 1024, day_old), "native");

  policy.max_size = 4096;  // the policy's size wins over the setting, either way
  EXPECT_STREQ(target(&policy, 4096, day_old), "container");
  EXPECT_STREQ(target(&policy, 4097, day_old), "native");
  policy.max_size = 2 << 20;
  EXPECT_STREQ(target(&policy, 2 << 20, day_old), "container");

  policy.min_age_seconds = 0;
  EXPECT_STREQ(target(&policy, 10, kNow), "container");
  settings.min_age_seconds = 3600;  // the setting guards against a policy's short age
  EXPECT_STREQ(target(&policy, 10, kNow - 3599 * kSecond), "native");
  EXPECT_STREQ(target(&policy, 10, kNow - 3600 * kSecond), "container");

  policy.enable_packing = false;
  EXPECT_STREQ(target(&policy, 10, day_old), "native");
  policy.enable_packing = true;
  settings.enabled = false;
  EXPECT_STREQ(target(&policy, 10, day_old), "native");
}

}  // namespace
}  // namespace tessera::cluster::filepool
