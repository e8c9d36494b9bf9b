#include "cluster/jobs/job_record.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace tessera::cluster {
namespace {

using nlohmann::json;

constexpr JobState kAllStates[] = {JobState::kQueued,    JobState::kRunning,   JobState::kPaused,
                                   JobState::kCancelled, JobState::kSucceeded, JobState::kFailed};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "2026-11-22T00:41:05Z", or "-" for 0.
std::string FormatTime(int64_t ns) {
  if (ns == 0) return "-";
  time_t seconds = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatDuration(int64_t from_ns, int64_t to_ns) {
  if (from_ns == 0 || to_ns < from_ns) return "";
  char buf[32];
  snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(to_ns - from_ns) / 1e9);
  return buf;
}

}  // namespace

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kPaused:
      return "paused";
    case JobState::kCancelled:
      return "cancelled";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
  }
  return "?";
}

Result<JobState> ParseJobState(std::string_view text) {
  for (JobState s : kAllStates) {
    if (JobStateName(s) == text) return s;
  }
  return Status::InvalidArgument("unknown job state '" + std::string(text) + "'");
}

bool IsFinal(JobState state) {
  return state == JobState::kCancelled || state == JobState::kSucceeded ||
         state == JobState::kFailed;
}

const std::vector<std::string>& JobTypes() {
  static const std::vector<std::string> kTypes = {"FlexProtect", "SmartPools", "FSAnalyze",
                                                  "ShadowStoreDelete", "MediaScan"};
  return kTypes;
}

Result<std::string> CanonicalJobType(std::string_view text) {
  std::string known;
  for (const std::string& type : JobTypes()) {
    if (Lower(type) == Lower(text)) return type;
    known += (known.empty() ? "" : ", ") + type;
  }
  return Status::InvalidArgument("unknown job type '" + std::string(text) + "' (known: " + known +
                                 ")");
}

int JobRecord::Percent() const {
  if (total == 0) return state == JobState::kSucceeded ? 100 : 0;
  return static_cast<int>(std::min<uint64_t>(done, total) * 100 / total);
}

std::string JobRecord::CurrentPhase() const { return phases.empty() ? "" : phases.back().name; }

void JobRecord::AddDetail(std::string detail) {
  if (details.size() < kMaxJobDetails) {
    details.push_back(std::move(detail));
  } else {
    ++details_dropped;
  }
}

std::string JobRecordJson(const JobRecord& r) {
  json phases = json::array();
  for (const JobPhase& p : r.phases) {
    phases.push_back({{"name", p.name}, {"started_ns", p.started_ns}, {"ended_ns", p.ended_ns}});
  }
  json j = {{"id", r.id},
            {"type", r.type},
            {"state", JobStateName(r.state)},
            {"trigger", r.trigger},
            {"created_ns", r.created_ns},
            {"started_ns", r.started_ns},
            {"ended_ns", r.ended_ns},
            {"phases", phases},
            {"done", r.done},
            {"total", r.total},
            {"counters", r.counters},
            {"details", r.details},
            {"details_dropped", r.details_dropped},
            {"error", r.error},
            {"master_token", r.master_token},
            {"devices", r.devices}};
  return j.dump();
}

Result<JobRecord> ParseJobRecord(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Corruption("job record is not a JSON object");
  try {
    JobRecord r;
    r.id = j.at("id").get<uint64_t>();
    r.type = j.at("type").get<std::string>();
    Result<JobState> state = ParseJobState(j.at("state").get<std::string>());
    if (!state.ok()) return Status::Corruption("job record: " + state.status().message());
    r.state = *state;
    r.trigger = j.value("trigger", "");
    r.created_ns = j.value("created_ns", int64_t{0});
    r.started_ns = j.value("started_ns", int64_t{0});
    r.ended_ns = j.value("ended_ns", int64_t{0});
    for (const json& p : j.value("phases", json::array())) {
      r.phases.push_back({p.at("name").get<std::string>(), p.value("started_ns", int64_t{0}),
                          p.value("ended_ns", int64_t{0})});
    }
    r.done = j.value("done", uint64_t{0});
    r.total = j.value("total", uint64_t{0});
    r.counters = j.value("counters", std::map<std::string, uint64_t>{});
    r.details = j.value("details", std::vector<std::string>{});
    r.details_dropped = j.value("details_dropped", uint64_t{0});
    r.error = j.value("error", "");
    r.master_token = j.value("master_token", int64_t{0});
    r.devices = j.value("devices", std::vector<std::string>{});
    if (r.id == 0) return Status::Corruption("job record has id 0");
    return r;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("job record: ") + e.what());
  }
}

std::string_view JobControlName(JobControl control) {
  switch (control) {
    case JobControl::kPause:
      return "pause";
    case JobControl::kResume:
      return "resume";
    case JobControl::kCancel:
      return "cancel";
  }
  return "?";
}

Result<JobRecord> ApplyJobControl(const JobRecord& record, JobControl control, int64_t now_ns) {
  JobRecord next = record;
  auto refuse = [&] {
    return Status::FailedPrecondition("job " + std::to_string(record.id) + " is " +
                                      std::string(JobStateName(record.state)) + "; cannot " +
                                      std::string(JobControlName(control)) + " it");
  };
  switch (control) {
    case JobControl::kPause:
      if (record.state != JobState::kQueued && record.state != JobState::kRunning) return refuse();
      next.state = JobState::kPaused;
      break;
    case JobControl::kResume:
      if (record.state != JobState::kPaused) return refuse();
      next.state = JobState::kQueued;
      break;
    case JobControl::kCancel:
      if (IsFinal(record.state)) return refuse();
      next.state = JobState::kCancelled;
      next.ended_ns = now_ns;
      if (!next.phases.empty() && next.phases.back().ended_ns == 0) {
        next.phases.back().ended_ns = now_ns;
      }
      break;
  }
  return next;
}

std::string FormatJobList(const std::vector<JobRecord>& jobs) {
  auto phase_of = [](const JobRecord& j) {
    return j.CurrentPhase().empty() ? std::string("-") : j.CurrentPhase();
  };
  // Columns as wide as their widest entry, so "ShadowStoreDelete" or a
  // phase like "attributes" does not push the columns after it out of line.
  int type_width = 4, phase_width = 5;
  for (const JobRecord& j : jobs) {
    type_width = std::max(type_width, static_cast<int>(j.type.size()));
    phase_width = std::max(phase_width, static_cast<int>(phase_of(j).size()));
  }
  std::ostringstream out;
  auto row = [&](const std::string& id, const std::string& type, const std::string& state,
                 const std::string& phase, const std::string& done, const std::string& trigger) {
    char line[512];
    snprintf(line, sizeof(line), "%6s  %-*s  %-9s  %-*s  %4s  %s\n", id.c_str(), type_width,
             type.c_str(), state.c_str(), phase_width, phase.c_str(), done.c_str(),
             trigger.c_str());
    out << line;
  };
  row("Id", "Type", "State", "Phase", "Done", "Trigger");
  for (const JobRecord& j : jobs) {
    row(std::to_string(j.id), j.type, std::string(JobStateName(j.state)), phase_of(j),
        std::to_string(j.Percent()) + "%", j.trigger);
  }
  return out.str();
}

namespace {

constexpr std::string_view kPolicyCounterPrefix = "policy ";
const char* const kPacedCounter = "paced_ms";

}  // namespace

std::string FormatJobReport(const JobRecord& r, bool verbose) {
  std::ostringstream out;
  out << "job " << r.id << ": " << r.type << ", " << JobStateName(r.state) << "\n";
  out << "trigger: " << (r.trigger.empty() ? "-" : r.trigger) << "\n";
  out << "created: " << FormatTime(r.created_ns) << "\n";
  out << "started: " << FormatTime(r.started_ns) << "\n";
  out << "ended: " << FormatTime(r.ended_ns);
  if (std::string d = FormatDuration(r.started_ns, r.ended_ns); !d.empty()) {
    out << " (" << d << ")";
  }
  out << "\n";
  if (!r.devices.empty()) {
    out << "devices:";
    for (const std::string& d : r.devices) out << " " << d;
    out << "\n";
  }
  out << "phases:\n";
  for (size_t i = 0; i < r.phases.size(); ++i) {
    const JobPhase& p = r.phases[i];
    out << "  " << p.name << ": " << FormatTime(p.started_ns) << " to "
        << (p.ended_ns ? FormatTime(p.ended_ns) : std::string("(running)"));
    if (std::string d = FormatDuration(p.started_ns, p.ended_ns); !d.empty()) {
      out << " (" << d << ")";
    }
    if (i + 1 == r.phases.size() && !IsFinal(r.state)) {
      out << ", " << r.done << " of " << r.total << " (" << r.Percent() << "%)";
    }
    out << "\n";
  }
  if (r.ended_ns && r.started_ns) {
    const int64_t elapsed_ms = (r.ended_ns - r.started_ns) / 1'000'000;
    auto paced = r.counters.find(kPacedCounter);
    const int64_t paced_ms = paced == r.counters.end() ? 0 : static_cast<int64_t>(paced->second);
    out << "elapsed time: " << elapsed_ms / 1000 << " seconds\n";
    out << "working time: " << std::max<int64_t>(0, elapsed_ms - paced_ms) / 1000 << " seconds\n";
  }
  // Counters named "policy NAME: COUNTER" make one block per policy.
  std::map<std::string, std::map<std::string, uint64_t>> policies;
  out << "counters:\n";
  for (const auto& [name, value] : r.counters) {
    if (name.rfind(kPolicyCounterPrefix, 0) == 0 && name.find(": ") != std::string::npos) {
      size_t colon = name.find(": ");
      std::string policy =
          name.substr(kPolicyCounterPrefix.size(), colon - kPolicyCounterPrefix.size());
      policies[policy][name.substr(colon + 2)] = value;
      continue;
    }
    if (name == kPacedCounter) continue;
    out << "  " << name << ": " << value << "\n";
  }
  if (!policies.empty()) out << "policies:\n";
  for (auto& [policy, counters] : policies) {
    out << "  '" << policy << "':\n";
    for (const char* main : {"Files matched", "Directories matched", "Files packed",
                             "Files repacked", "Files unpacked", "Packing changes skipped"}) {
      out << "    " << main << ": " << counters[main] << "\n";
      counters.erase(main);
    }
    for (const auto& [name, value] : counters) out << "    " << name << ": " << value << "\n";
  }
  if (!r.error.empty()) out << "error: " << r.error << "\n";
  if (verbose) {
    out << "details:\n";
    for (const std::string& d : r.details) out << "  " << d << "\n";
    if (r.details_dropped) out << "  (" << r.details_dropped << " more not kept)\n";
  }
  return out.str();
}

}  // namespace tessera::cluster
