#include "jobs/job_schedule.h"

#include <gtest/gtest.h>

#include <ctime>

namespace tessera::jobs {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// `hh:mm` on 2026-11-22, local time.
int64_t LocalNs(int hh, int mm, int day = 22) {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 10;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&tm)) * kSecond;
}

TEST(JobScheduleTest, ParsesDailyTimesAndOff) {
  EXPECT_EQ(**ParseDailySchedule("22:00"), 22 * 60);
  EXPECT_EQ(**ParseDailySchedule("00:00"), 0);
  EXPECT_EQ(**ParseDailySchedule("23:59"), 23 * 60 + 59);
  EXPECT_FALSE(ParseDailySchedule("off")->has_value());
  for (std::string_view bad : {"", "24:00", "22:60", "2200", "22:0", " 22:00", "ten", "22:00x"}) {
    EXPECT_EQ(ParseDailySchedule(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(JobScheduleTest, LastDueIsTodayOnceItPassedElseYesterday) {
  EXPECT_EQ(LastDueNs(22 * 60, LocalNs(22, 30)), LocalNs(22, 0));
  EXPECT_EQ(LastDueNs(22 * 60, LocalNs(22, 0)), LocalNs(22, 0));
  EXPECT_EQ(LastDueNs(22 * 60, LocalNs(21, 59)), LocalNs(22, 0, 21));
  EXPECT_EQ(LastDueNs(0, LocalNs(0, 1, 1)), LocalNs(0, 0, 1));
}

TEST(JobScheduleTest, TriggersOncePerDueTimeWhileAnEngineRuns) {
  cluster::JobRecord earlier;
  earlier.type = "SmartPools";
  earlier.created_ns = LocalNs(22, 0, 21) + kSecond;
  const int64_t since = LocalNs(8, 0);
  // Due at 22:00 while the engine ran since 08:00, none created since.
  EXPECT_EQ(ScheduledTrigger("22:00", "SmartPools", LocalNs(22, 0) + kSecond, since, {earlier}),
            "schedule 22:00");
  // Already created for this due time (by this master or the one before).
  cluster::JobRecord tonight = earlier;
  tonight.created_ns = LocalNs(22, 0) + 2 * kSecond;
  EXPECT_EQ(ScheduledTrigger("22:00", "SmartPools", LocalNs(23, 0), since, {earlier, tonight}), "");
  // Another type does not count.
  tonight.type = "FlexProtect";
  EXPECT_NE(ScheduledTrigger("22:00", "SmartPools", LocalNs(23, 0), since, {tonight}), "");
  // Not yet due today, and yesterday's fell before the engine started.
  EXPECT_EQ(ScheduledTrigger("22:00", "SmartPools", LocalNs(21, 0), since, {}), "");
  EXPECT_EQ(ScheduledTrigger("off", "SmartPools", LocalNs(23, 0), since, {}), "");
  EXPECT_EQ(ScheduledTrigger("bad", "SmartPools", LocalNs(23, 0), since, {}), "");
}

}  // namespace
}  // namespace tessera::jobs
