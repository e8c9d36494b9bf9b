// The pure half of changing a node's persistent states.
#include "cluster/admin/node_state_change.h"

#include <gtest/gtest.h>

namespace tessera::cluster::admin {
namespace {

PersistentNodeState FromBits(int bits) {
  return {.soft_failed = (bits & 1) != 0, .read_only = (bits & 2) != 0, .dead = (bits & 4) != 0};
}

TEST(NodeStateChangeTest, WithFlagChangesOnlyThatFlag) {
  const PersistentFlag flags[] = {PersistentFlag::kSoftFailed, PersistentFlag::kReadOnly,
                                  PersistentFlag::kDead};
  for (int bits = 0; bits < 8; ++bits) {
    for (int f = 0; f < 3; ++f) {
      for (bool on : {false, true}) {
        const int want = on ? (bits | (1 << f)) : (bits & ~(1 << f));
        EXPECT_EQ(WithFlag(FromBits(bits), flags[f], on), FromBits(want))
            << "bits " << bits << " flag " << f << " on " << on;
      }
    }
  }
}

TEST(NodeStateChangeTest, FlagNamesAreTheNotationNames) {
  EXPECT_EQ(PersistentFlagName(PersistentFlag::kSoftFailed), "soft_failed");
  EXPECT_EQ(PersistentFlagName(PersistentFlag::kReadOnly), "read_only");
  EXPECT_EQ(PersistentFlagName(PersistentFlag::kDead), "dead");
}

TEST(NodeStateChangeTest, DescribesEveryCombination) {
  const char* want[] = {
      "none", "soft_failed",       "read_only",       "soft_failed, read_only",
      "dead", "soft_failed, dead", "read_only, dead", "soft_failed, read_only, dead"};
  for (int bits = 0; bits < 8; ++bits) {
    EXPECT_EQ(DescribePersistentState(FromBits(bits)), want[bits]) << bits;
  }
}

TEST(NodeStateChangeTest, JsonRoundTripsThroughTheRegistryParser) {
  for (int bits = 0; bits < 8; ++bits) {
    Result<PersistentNodeState> back = ParsePersistentState(PersistentStateJson(FromBits(bits)));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, FromBits(bits));
  }
  EXPECT_EQ(PersistentStateJson({.read_only = true}),
            R"({"dead":false,"read_only":true,"soft_failed":false})");
}

}  // namespace
}  // namespace tessera::cluster::admin
