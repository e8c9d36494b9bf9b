#include "jobs/job_schedule.h"

#include <ctime>

namespace tessera::jobs {

Result<std::optional<int>> ParseDailySchedule(std::string_view text) {
  if (text == "off") return std::optional<int>();
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(text[0]) || !digit(text[1]) || !digit(text[3]) ||
      !digit(text[4])) {
    return Status::InvalidArgument("schedule '" + std::string(text) +
                                   "' is not a daily time HH:MM or off");
  }
  int hours = (text[0] - '0') * 10 + (text[1] - '0');
  int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 23 || minutes > 59) {
    return Status::InvalidArgument("schedule '" + std::string(text) + "' is not a time of day");
  }
  return std::optional<int>(hours * 60 + minutes);
}

int64_t LastDueNs(int minutes_after_midnight, int64_t now_ns) {
  time_t now = static_cast<time_t>(now_ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&now, &tm);
  tm.tm_hour = minutes_after_midnight / 60;
  tm.tm_min = minutes_after_midnight % 60;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  time_t due = mktime(&tm);
  if (static_cast<int64_t>(due) * 1'000'000'000 > now_ns) {
    tm.tm_mday -= 1;  // mktime normalises the day before the 1st
    tm.tm_isdst = -1;
    due = mktime(&tm);
  }
  return static_cast<int64_t>(due) * 1'000'000'000;
}

std::string ScheduledTrigger(std::string_view schedule, std::string_view type, int64_t now_ns,
                             int64_t since_ns, const std::vector<cluster::JobRecord>& jobs) {
  Result<std::optional<int>> parsed = ParseDailySchedule(schedule);
  if (!parsed.ok() || !parsed->has_value()) return "";
  const int64_t due = LastDueNs(**parsed, now_ns);
  if (due < since_ns) return "";
  for (const cluster::JobRecord& job : jobs) {
    if (job.type == type && job.created_ns >= due) return "";
  }
  return "schedule " + std::string(schedule);
}

}  // namespace tessera::jobs
