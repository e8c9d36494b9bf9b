// The nightly SmartPools schedule: a daily local time "HH:MM" (the
// smartpools_schedule setting; "off" for none). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/jobs/job_record.h"
#include "common/status.h"

namespace tessera::jobs {

// Minutes after local midnight; nullopt for "off"; InvalidArgument for
// anything else than "HH:MM" (00:00 to 23:59) or "off".
Result<std::optional<int>> ParseDailySchedule(std::string_view text);

// The latest moment at or before `now_ns` at which the schedule fell due
// (today's or yesterday's HH:MM, local time).
int64_t LastDueNs(int minutes_after_midnight, int64_t now_ns);

// Why the master should queue a scheduled `type` job now, or "": the
// schedule fell due after the engine started (`since_ns`: a schedule
// missed while no master ran is not made up) and no job of that type was
// created since it fell due.
std::string ScheduledTrigger(std::string_view schedule, std::string_view type, int64_t now_ns,
                             int64_t since_ns, const std::vector<cluster::JobRecord>& jobs);

}  // namespace tessera::jobs
