#include "jobs/flexprotect_trigger.h"

#include <algorithm>

namespace tessera::jobs {

void UpdateFailedSince(FailedSince& since, const std::set<std::string>& failed, int64_t now_ns) {
  for (auto it = since.begin(); it != since.end();) {
    it = failed.count(it->first) ? std::next(it) : since.erase(it);
  }
  for (const std::string& d : failed) since.emplace(d, now_ns);
}

std::string FlexProtectTrigger(const FailedSince& since, const std::set<std::string>& soft_failed,
                               const std::vector<cluster::JobRecord>& jobs, int64_t now_ns,
                               int64_t grace_seconds) {
  const int64_t grace_ns = grace_seconds * 1'000'000'000;
  const cluster::JobRecord* last = nullptr;
  for (const cluster::JobRecord& j : jobs) {
    if (j.type != "FlexProtect") continue;
    if (!cluster::IsFinal(j.state)) return "";  // one is pending already
    if (!last || j.id > last->id) last = &j;
  }
  if (last && last->state == cluster::JobState::kFailed && now_ns - last->ended_ns < grace_ns) {
    return "";
  }
  std::string why;
  for (const auto& [device, failed_ns] : since) {
    const bool smartfailed = soft_failed.count(device) > 0;
    if (!smartfailed && now_ns - failed_ns < grace_ns) continue;
    const bool covered = std::any_of(jobs.begin(), jobs.end(), [&](const cluster::JobRecord& j) {
      return j.type == "FlexProtect" && j.state == cluster::JobState::kSucceeded &&
             j.started_ns >= failed_ns &&
             std::find(j.devices.begin(), j.devices.end(), device) != j.devices.end();
    });
    if (covered) continue;
    why +=
        (why.empty() ? "auto: " : "; ") + device +
        (smartfailed ? " smartfailed"
                     : " down for " + std::to_string((now_ns - failed_ns) / 1'000'000'000) + " s");
  }
  return why;
}

}  // namespace tessera::jobs
