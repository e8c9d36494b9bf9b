// A cluster job as it is stored in etcd and shown to operators: id, type,
// state, phases with their times, progress, counters and details. A value
// type with its JSON form and the pure rules of the operator's controls;
// no I/O.
//
// States: queued (created, not yet picked up) -> running -> succeeded |
// failed; an operator moves queued/running to paused, paused back to queued
// (resume: the master picks it up again), and anything not finished to
// cancelled. succeeded, failed and cancelled are final.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::cluster {

enum class JobState { kQueued, kRunning, kPaused, kCancelled, kSucceeded, kFailed };

std::string_view JobStateName(JobState state);  // "queued", "running", ...
Result<JobState> ParseJobState(std::string_view text);
bool IsFinal(JobState state);

// The job types the engine knows, by canonical name ("FlexProtect").
const std::vector<std::string>& JobTypes();
// The canonical name of `text`, ignoring case; InvalidArgument listing the
// known types otherwise.
Result<std::string> CanonicalJobType(std::string_view text);

struct JobPhase {
  std::string name;
  int64_t started_ns = 0;
  int64_t ended_ns = 0;  // 0 while it runs
  bool operator==(const JobPhase&) const = default;
};

// Details kept per job; later ones are counted but dropped.
inline constexpr size_t kMaxJobDetails = 1000;

struct JobRecord {
  uint64_t id = 0;
  std::string type;
  JobState state = JobState::kQueued;
  std::string trigger;  // "manual", or why the master started it
  int64_t created_ns = 0;
  int64_t started_ns = 0;  // first time a master ran it
  int64_t ended_ns = 0;    // when it reached a final state
  std::vector<JobPhase> phases;
  // Progress of the current (last) phase: `done` of `total` items.
  uint64_t done = 0;
  uint64_t total = 0;
  std::map<std::string, uint64_t> counters;
  std::vector<std::string> details;  // at most kMaxJobDetails
  uint64_t details_dropped = 0;
  std::string error;                 // why it failed
  int64_t master_token = 0;          // the tenure that last ran it
  std::vector<std::string> devices;  // FlexProtect: the devices it protected against
  bool operator==(const JobRecord&) const = default;

  // 0..100 of the current phase; 0 before it knows its total.
  int Percent() const;
  // The name of the current phase, "" before the first.
  std::string CurrentPhase() const;
  void AddDetail(std::string detail);
};

std::string JobRecordJson(const JobRecord& record);
Result<JobRecord> ParseJobRecord(const std::string& json);

enum class JobControl { kPause, kResume, kCancel };
std::string_view JobControlName(JobControl control);  // "pause", "resume", "cancel"

// The record after an operator's control at time `now_ns`, or
// FailedPrecondition saying why it does not apply ("job 3 is succeeded").
Result<JobRecord> ApplyJobControl(const JobRecord& record, JobControl control, int64_t now_ns);

// `tessera job list`: one line per job, newest last, e.g.
//   "     7  FlexProtect  running    rebuild  42%  node 3 down for 300 s"
std::string FormatJobList(const std::vector<JobRecord>& jobs);
// `tessera job reports view [-v]`: the report; `verbose` adds the details.
// A finished job shows its elapsed time and its working time (without the
// "paced ms" counter: pauses that hold a job to its impact). Counters named
// "policy NAME: COUNTER" are shown as one block per policy.
std::string FormatJobReport(const JobRecord& record, bool verbose);

}  // namespace tessera::cluster
