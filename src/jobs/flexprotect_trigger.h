// When the master starts FlexProtect by itself. Pure: the clock and the
// job list come in as values; tested in flexprotect_trigger_test.
//
// A device (a name from DeviceName: "node 3", "node 2 drive 1") is due when
// it has been failed (down, dead or soft-failed) for the grace period, or
// at once when it is soft-failed (smartfail asks for its data to move). A
// due device is covered when a FlexProtect that started after the device
// failed succeeded with it among its devices. FlexProtect starts when some
// due device is not covered, unless one is queued, running or paused, or
// the last one failed less than a grace period ago (no retry storm).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cluster/jobs/job_record.h"

namespace tessera::jobs {

// Device name -> wall-clock ns since which it has been failed.
using FailedSince = std::map<std::string, int64_t>;

// Records the devices failed now (`failed`) at `now_ns`: new ones start
// their clock, ones still failed keep it, recovered ones are dropped.
void UpdateFailedSince(FailedSince& since, const std::set<std::string>& failed, int64_t now_ns);

// The trigger of the FlexProtect to start now ("auto: node 3 down for
// 300 s; node 2 smartfailed"), or "" when none should start.
std::string FlexProtectTrigger(const FailedSince& since, const std::set<std::string>& soft_failed,
                               const std::vector<cluster::JobRecord>& jobs, int64_t now_ns,
                               int64_t grace_seconds);

}  // namespace tessera::jobs
