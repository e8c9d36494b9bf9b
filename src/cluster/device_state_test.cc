#include "cluster/device_state.h"

#include <gtest/gtest.h>

#include <set>

namespace tessera::cluster {
namespace {

TEST(DeviceStateTest, NamesAreTheNotationNames) {
  EXPECT_EQ(DeviceStateName(DeviceState::kUp), "up");
  EXPECT_EQ(DeviceStateName(DeviceState::kDown), "down");
  EXPECT_EQ(DeviceStateName(DeviceState::kDead), "dead");
  EXPECT_EQ(DeviceStateName(DeviceState::kStalled), "stalled");
  EXPECT_EQ(DeviceStateName(DeviceState::kGone), "gone");
  EXPECT_EQ(DeviceStateName(DeviceState::kSoftFailed), "soft_failed");
  EXPECT_EQ(DeviceStateName(DeviceState::kReadOnly), "read_only");
  EXPECT_EQ(DeviceKindName(DeviceKind::kNode), "node");
  EXPECT_EQ(DeviceKindName(DeviceKind::kDrive), "drive");
}

TEST(DeviceStateTest, EveryNameParsesBackAndNamesAreDistinct) {
  std::set<std::string_view> names;
  for (DeviceState state : kAllDeviceStates) {
    Result<DeviceState> parsed = ParseDeviceState(DeviceStateName(state));
    ASSERT_TRUE(parsed.ok()) << DeviceStateName(state);
    EXPECT_EQ(*parsed, state);
    names.insert(DeviceStateName(state));
  }
  EXPECT_EQ(names.size(), 7u);
}

TEST(DeviceStateTest, ParsingIsLenientAboutCaseDashesAndSmartfail) {
  struct Case {
    const char* text;
    DeviceState want;
  };
  const Case cases[] = {
      {"UP", DeviceState::kUp},
      {"Down", DeviceState::kDown},
      {"DEAD", DeviceState::kDead},
      {"STALLED", DeviceState::kStalled},
      {"GONE", DeviceState::kGone},
      {"Soft-failed", DeviceState::kSoftFailed},
      {"SOFT_FAILED", DeviceState::kSoftFailed},
      {"Smartfail", DeviceState::kSoftFailed},
      {"smartfailed", DeviceState::kSoftFailed},
      {"Read-only", DeviceState::kReadOnly},
      {"read_only", DeviceState::kReadOnly},
  };
  for (const Case& c : cases) {
    Result<DeviceState> parsed = ParseDeviceState(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text;
    EXPECT_EQ(*parsed, c.want) << c.text;
  }
}

TEST(DeviceStateTest, UnknownNamesAreRejectedWithTheValidNames) {
  for (const char* text : {"", "upp", "soft failed", "readonly", "down ", "alive"}) {
    Result<DeviceState> parsed = ParseDeviceState(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("expected one of up, down, dead, stalled, gone, "
                                             "soft_failed, read_only"),
              std::string::npos)
        << parsed.status().message();
  }
}

TEST(DeviceStateTest, OnlySoftFailedReadOnlyAndDeadArePersistent) {
  EXPECT_FALSE(IsPersistent(DeviceState::kUp));
  EXPECT_FALSE(IsPersistent(DeviceState::kDown));
  EXPECT_TRUE(IsPersistent(DeviceState::kDead));
  EXPECT_FALSE(IsPersistent(DeviceState::kStalled));
  EXPECT_FALSE(IsPersistent(DeviceState::kGone));
  EXPECT_TRUE(IsPersistent(DeviceState::kSoftFailed));
  EXPECT_TRUE(IsPersistent(DeviceState::kReadOnly));
}

TEST(DeviceStateTest, StalledIsForDrivesAndReadOnlyForNodes) {
  for (DeviceState state : kAllDeviceStates) {
    bool node = state != DeviceState::kStalled;
    bool drive = state != DeviceState::kReadOnly;
    EXPECT_EQ(AppliesTo(state, DeviceKind::kNode), node) << DeviceStateName(state);
    EXPECT_EQ(AppliesTo(state, DeviceKind::kDrive), drive) << DeviceStateName(state);
  }
}

TEST(DeviceStateTest, LivenessMapsToItsState) {
  EXPECT_EQ(StateOf(Liveness::kUp), DeviceState::kUp);
  EXPECT_EQ(StateOf(Liveness::kDown), DeviceState::kDown);
  EXPECT_EQ(StateOf(Liveness::kDead), DeviceState::kDead);
  EXPECT_EQ(StateOf(Liveness::kStalled), DeviceState::kStalled);
  EXPECT_EQ(StateOf(Liveness::kGone), DeviceState::kGone);
}

TEST(DeviceConditionTest, StatesAndToString) {
  DeviceCondition up;
  EXPECT_EQ(up.States(), std::vector<DeviceState>{DeviceState::kUp});
  EXPECT_EQ(up.ToString(), "UP");
  DeviceCondition all{Liveness::kDown, true, true};
  EXPECT_EQ(all.States(), (std::vector<DeviceState>{DeviceState::kDown, DeviceState::kSoftFailed,
                                                    DeviceState::kReadOnly}));
  EXPECT_EQ(all.ToString(), "DOWN, soft_failed, read_only");
  EXPECT_EQ((DeviceCondition{Liveness::kStalled, false, false}.ToString()), "STALLED");
  EXPECT_EQ((DeviceCondition{Liveness::kUp, false, true}.ToString()), "UP, read_only");
  EXPECT_EQ((DeviceCondition{Liveness::kGone, true, false}.ToString()), "GONE, soft_failed");
}

TEST(DeviceConditionTest, ValidationFollowsAppliesTo) {
  for (Liveness liveness : kAllLiveness) {
    for (bool soft_failed : {false, true}) {
      for (bool read_only : {false, true}) {
        DeviceCondition c{liveness, soft_failed, read_only};
        bool node_ok = liveness != Liveness::kStalled;
        bool drive_ok = !read_only;
        EXPECT_EQ(ValidateCondition(DeviceKind::kNode, c).ok(), node_ok) << c.ToString();
        EXPECT_EQ(ValidateCondition(DeviceKind::kDrive, c).ok(), drive_ok) << c.ToString();
      }
    }
  }
  EXPECT_EQ(ValidateCondition(DeviceKind::kNode, {Liveness::kStalled, false, false}).message(),
            "stalled applies to drives only");
  EXPECT_EQ(ValidateCondition(DeviceKind::kDrive, {Liveness::kUp, false, true}).message(),
            "read_only applies to nodes only");
}

}  // namespace
}  // namespace tessera::cluster
