#include "jobs/flexprotect_trigger.h"

#include <gtest/gtest.h>

namespace tessera::jobs {
namespace {

using cluster::JobRecord;
using cluster::JobState;

constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kGrace = 300;

JobRecord FlexProtect(uint64_t id, JobState state, int64_t started_s,
                      std::vector<std::string> devices = {}, int64_t ended_s = 0) {
  JobRecord j;
  j.id = id;
  j.type = "FlexProtect";
  j.state = state;
  j.started_ns = started_s * kS;
  j.ended_ns = ended_s * kS;
  j.devices = std::move(devices);
  return j;
}

TEST(FlexProtectTriggerTest, FailedSinceKeepsTheFirstTimeAndForgetsRecoveredDevices) {
  FailedSince since;
  UpdateFailedSince(since, {"node 3"}, 10);
  UpdateFailedSince(since, {"node 3", "node 4"}, 20);
  EXPECT_EQ(since, (FailedSince{{"node 3", 10}, {"node 4", 20}}));
  UpdateFailedSince(since, {"node 4"}, 30);
  EXPECT_EQ(since, (FailedSince{{"node 4", 20}}));
  UpdateFailedSince(since, {"node 3"}, 40);  // failed again: a new clock
  EXPECT_EQ(since, (FailedSince{{"node 3", 40}}));
}

TEST(FlexProtectTriggerTest, DownDevicesWaitForTheGracePeriodSmartfailedOnesDoNot) {
  const FailedSince since = {{"node 3", 1000 * kS}, {"node 2", 1200 * kS}};
  EXPECT_EQ(FlexProtectTrigger({}, {}, {}, 5000 * kS, kGrace), "");
  EXPECT_EQ(FlexProtectTrigger(since, {}, {}, (1000 + kGrace) * kS - 1, kGrace), "");
  EXPECT_EQ(FlexProtectTrigger(since, {}, {}, (1000 + kGrace) * kS, kGrace),
            "auto: node 3 down for 300 s");
  EXPECT_EQ(FlexProtectTrigger(since, {"node 2"}, {}, 1200 * kS, kGrace),
            "auto: node 2 smartfailed");
  EXPECT_EQ(FlexProtectTrigger(since, {}, {}, 1600 * kS, kGrace),
            "auto: node 2 down for 400 s; node 3 down for 600 s");
}

TEST(FlexProtectTriggerTest, APendingFlexProtectBlocksOthersDoNot) {
  const FailedSince since = {{"node 3", 0}};
  for (JobState s : {JobState::kQueued, JobState::kRunning, JobState::kPaused}) {
    EXPECT_EQ(FlexProtectTrigger(since, {}, {FlexProtect(1, s, 0)}, 1000 * kS, kGrace), "");
    JobRecord other = FlexProtect(1, s, 0);
    other.type = "SmartPools";
    EXPECT_NE(FlexProtectTrigger(since, {}, {other}, 1000 * kS, kGrace), "");
  }
  // A cancelled one neither blocks nor covers.
  EXPECT_NE(
      FlexProtectTrigger(since, {}, {FlexProtect(1, JobState::kCancelled, 10, {"node 3"}, 20)},
                         1000 * kS, kGrace),
      "");
}

TEST(FlexProtectTriggerTest, ASucceededRunCoversOnlyFailuresItStartedAfter) {
  const FailedSince since = {{"node 3", 100 * kS}};
  const int64_t now = 1000 * kS;
  EXPECT_EQ(
      FlexProtectTrigger(since, {}, {FlexProtect(1, JobState::kSucceeded, 500, {"node 3"}, 510)},
                         now, kGrace),
      "");
  EXPECT_EQ(
      FlexProtectTrigger(since, {}, {FlexProtect(1, JobState::kSucceeded, 100, {"node 3"}, 110)},
                         now, kGrace),
      "");
  // Started before this failure (the device failed again since), or
  // without the device: not covered.
  EXPECT_NE(
      FlexProtectTrigger(since, {}, {FlexProtect(1, JobState::kSucceeded, 99, {"node 3"}, 110)},
                         now, kGrace),
      "");
  EXPECT_NE(
      FlexProtectTrigger(since, {}, {FlexProtect(1, JobState::kSucceeded, 500, {"node 4"}, 510)},
                         now, kGrace),
      "");
  // A failed run covers nothing.
  EXPECT_NE(FlexProtectTrigger(since, {}, {FlexProtect(1, JobState::kFailed, 500, {"node 3"}, 510)},
                               now, kGrace),
            "");
}

TEST(FlexProtectTriggerTest, AFailedRunIsRetriedAGracePeriodAfterItEnded) {
  const FailedSince since = {{"node 3", 0}};
  std::vector<JobRecord> jobs = {FlexProtect(1, JobState::kFailed, 400, {"node 3"}, 500)};
  EXPECT_EQ(FlexProtectTrigger(since, {}, jobs, (500 + kGrace) * kS - 1, kGrace), "");
  EXPECT_EQ(FlexProtectTrigger(since, {}, jobs, (500 + kGrace) * kS, kGrace),
            "auto: node 3 down for 800 s");
  // Only the latest run counts: a later success ends the back-off.
  jobs.push_back(FlexProtect(2, JobState::kSucceeded, 510, {}, 520));
  EXPECT_NE(FlexProtectTrigger(since, {}, jobs, 600 * kS, kGrace), "");
}

}  // namespace
}  // namespace tessera::jobs
