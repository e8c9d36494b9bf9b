#include "cluster/admin/protection_view.h"

#include <gtest/gtest.h>

namespace tessera::cluster::admin {
namespace {

TEST(ProtectionViewTest, ParsesTheEndpointsJson) {
  auto v = ParseProtectionView(
      R"({"array_id":2,"below_protection":false,"files":3,"bytes":4096,"files_at_risk":0,)"
      R"("bytes_at_risk":0,"units_at_risk":0,"files_unavailable":0,"bytes_unavailable":0,)"
      R"("failed_devices":[]})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->array_id, 2u);
  EXPECT_EQ(v->files, 3u);
  EXPECT_EQ(DescribeProtectionView(*v), "at full protection: 3 files, 4.0k (as node 2 sees it)");
  for (const char* bad : {"", "[]", "{}", R"({"array_id":"x"})"}) {
    EXPECT_EQ(ParseProtectionView(bad).status().code(), StatusCode::kCorruption) << bad;
  }
}

TEST(ProtectionViewTest, SaysWhatIsAtRiskAndWhatIsUnavailable) {
  ProtectionView v;
  v.array_id = 1;
  v.below_protection = true;
  v.files = 10;
  v.bytes = 10 << 20;
  v.files_at_risk = 4;
  v.bytes_at_risk = 4 << 20;
  v.units_at_risk = 7;
  v.files_unavailable = 1;
  v.bytes_unavailable = 1 << 20;
  v.failed_devices = {"node 2", "node 3"};
  EXPECT_EQ(DescribeProtectionView(v),
            "BELOW PROTECTION: 4 of 10 files (4.0M of 10.0M, 7 units) have units on failed "
            "devices; 1 files (1.0M) unavailable; failed devices: node 2 node 3 (as node 1 "
            "sees it)");
  // A device down with no data on it: full protection, the device still named.
  ProtectionView idle;
  idle.array_id = 1;
  idle.failed_devices = {"node 4"};
  EXPECT_EQ(DescribeProtectionView(idle),
            "at full protection: 0 files, 0B; failed devices: node 4 (as node 1 sees it)");
}

}  // namespace
}  // namespace tessera::cluster::admin
