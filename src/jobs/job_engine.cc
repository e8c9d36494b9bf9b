#include "jobs/job_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "cluster/jobs/job_store.h"
#include "cluster/membership/master.h"
#include "common/thread_name.h"
#include "jobs/flexprotect_trigger.h"
#include "jobs/job_schedule.h"
#include "jobs/protection_plan.h"

namespace tessera::jobs {
namespace {

using cluster::JobRecord;
using cluster::JobState;
using cluster::StoredJob;

// The job that goes before every other (JobEngine, step 4).
constexpr std::string_view kFlexProtect = "FlexProtect";
// Counts how often a job gave way to FlexProtect; after once it does not
// again, so a FlexProtect that keeps failing and being retried cannot keep
// a long job from ever ending.
constexpr std::string_view kGaveWay = "gave_way";

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The context of one run of one job: the record as this master last wrote
// it, and why the job must stop, if it must.
class EngineContext final : public JobContext {
 public:
  enum class Stop { kNone, kPaused, kCancelled, kNotMaster, kShutdown, kYielded };
  // Asked at every checkpoint: whether the engine needs the job to stop
  // (kNotMaster, kShutdown, kYielded) or not (kNone).
  using EngineCheck = std::function<Stop()>;

  EngineContext(cluster::EtcdClient* client, std::string cluster, int64_t token, StoredJob stored,
                std::chrono::milliseconds interval, EngineCheck engine_check)
      : client_(client),
        cluster_(std::move(cluster)),
        token_(token),
        record_(std::move(stored.record)),
        revision_(stored.mod_revision),
        interval_(interval),
        engine_check_(std::move(engine_check)) {}

  Status BeginPhase(const std::string& name, uint64_t total) override {
    int64_t now = NowNs();
    if (!record_.phases.empty() && record_.phases.back().ended_ns == 0) {
      record_.phases.back().ended_ns = now;
    }
    record_.phases.push_back({name, now, 0});
    record_.done = 0;
    record_.total = total;
    return Publish();
  }
  void Advance(uint64_t items) override { record_.done += items; }
  void Count(const std::string& counter, uint64_t n) override { record_.counters[counter] += n; }
  void SetCounter(const std::string& counter, uint64_t value) override {
    record_.counters[counter] = value;
  }
  void Detail(std::string text) override { record_.AddDetail(std::move(text)); }
  void SetDevices(std::vector<std::string> devices) override {
    record_.devices = std::move(devices);
  }
  int64_t master_token() const override { return token_; }

  Status Checkpoint() override {
    if (stop_ != Stop::kNone) return StopStatus();
    if (Stop engine = engine_check_(); engine != Stop::kNone) {
      stop_ = engine;
      return StopStatus();
    }
    if (std::chrono::steady_clock::now() - last_publish_ < interval_) return Status::Ok();
    return Publish();
  }

  // Writes the record; learns of a pause, cancel or lost tenure when the
  // write's compares fail. An etcd error is not a reason to stop: the next
  // checkpoint tries again.
  Status Publish() {
    for (int attempt = 0; attempt < 5 && stop_ == Stop::kNone; ++attempt) {
      Result<std::optional<int64_t>> written =
          cluster::WriteJobFenced(client_, cluster_, token_, record_, revision_);
      wrote_ = false;
      if (!written.ok()) {
        spdlog::warn("job {}: publishing progress: {}", record_.id, written.status().ToString());
        return Status::Ok();
      }
      if (written->has_value()) {
        revision_ = **written;
        last_publish_ = std::chrono::steady_clock::now();
        wrote_ = true;
        return Status::Ok();
      }
      Result<std::optional<cluster::MasterRecord>> master = cluster::ReadMaster(client_, cluster_);
      if (master.ok() && (!*master || (*master)->token != token_)) {
        stop_ = Stop::kNotMaster;
        break;
      }
      Result<StoredJob> stored = cluster::ReadJob(client_, cluster_, record_.id);
      if (!stored.ok()) return Status::Ok();
      if (stored->record.state == JobState::kPaused) stop_ = Stop::kPaused;
      if (stored->record.state == JobState::kCancelled) stop_ = Stop::kCancelled;
      revision_ = stored->mod_revision;
    }
    return stop_ == Stop::kNone ? Status::Ok() : StopStatus();
  }

  // Records how the run ended, unless an operator or a successor decided
  // it already.
  void Finish(const Status& outcome) {
    if (stop_ != Stop::kNone) return;
    int64_t now = NowNs();
    if (!record_.phases.empty() && record_.phases.back().ended_ns == 0) {
      record_.phases.back().ended_ns = now;
    }
    record_.state = outcome.ok() ? JobState::kSucceeded : JobState::kFailed;
    record_.error = outcome.ok() ? "" : outcome.message();
    record_.ended_ns = now;
    for (int attempt = 0; attempt < 20; ++attempt) {
      (void)Publish();                             // what matters is wrote_ and stop_
      if (stop_ != Stop::kNone || wrote_) return;  // written, or paused/cancelled at the end
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    spdlog::error("job {}: could not record its end", record_.id);
  }

  // After an operator's pause or cancel: the record the operator wrote takes
  // the counters, details and progress of this run up to where it stopped,
  // which the last publish may not have had. Not once another run has begun.
  void Settle() {
    if (stop_ == Stop::kPaused || stop_ == Stop::kCancelled) SettleIntoOperatorsRecord();
  }

  // After giving way: the job is queued again, with this run's counters
  // and details and `gave_way` counted, to run again from its start. If an
  // operator paused, cancelled or paused and resumed it meanwhile, their
  // record takes this run's counters instead; if the tenure ended, nothing
  // is written.
  void Requeue(const std::string& why) {
    JobRecord queued = record_;
    queued.state = JobState::kQueued;
    queued.counters[std::string(kGaveWay)] += 1;
    queued.done = queued.total = 0;
    if (!queued.phases.empty() && queued.phases.back().ended_ns == 0) {
      queued.phases.back().ended_ns = NowNs();
    }
    queued.AddDetail(why);
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      Result<std::optional<int64_t>> written =
          cluster::WriteJobFenced(client_, cluster_, token_, queued, revision_);
      if (!written.ok()) continue;
      if (written->has_value()) return;
      Result<StoredJob> stored = cluster::ReadJob(client_, cluster_, record_.id);
      if (!stored.ok()) continue;
      if (stored->record.state != JobState::kRunning) {
        SettleIntoOperatorsRecord();
        return;
      }
      revision_ = stored->mod_revision;
    }
    spdlog::warn("job {}: could not queue it again; the next master resumes it", record_.id);
  }

  void RequestShutdown() { stop_ = Stop::kShutdown; }
  Stop stop() const { return stop_; }
  JobRecord& record() { return record_; }

 private:
  // The record an operator wrote (paused, cancelled or queued again) takes
  // the counters, details and progress of this run up to where it
  // stopped, which the last publish may not have had. Not once another
  // run has begun.
  void SettleIntoOperatorsRecord() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      Result<StoredJob> stored = cluster::ReadJob(client_, cluster_, record_.id);
      if (!stored.ok()) break;
      JobRecord settled = stored->record;
      if (settled.state != JobState::kPaused && settled.state != JobState::kCancelled &&
          settled.state != JobState::kQueued) {
        return;
      }
      settled.counters = record_.counters;
      settled.details = record_.details;
      settled.details_dropped = record_.details_dropped;
      settled.devices = record_.devices;
      if (settled.phases.size() == record_.phases.size()) {
        settled.done = record_.done;
        settled.total = record_.total;
      }
      Result<std::optional<int64_t>> written =
          cluster::WriteJobFenced(client_, cluster_, token_, settled, stored->mod_revision);
      if (!written.ok()) break;
      if (written->has_value()) return;
    }
    spdlog::warn("job {}: its counters since the last progress update are not recorded",
                 record_.id);
  }

  Status StopStatus() const {
    const char* why = stop_ == Stop::kPaused      ? "paused"
                      : stop_ == Stop::kCancelled ? "cancelled"
                      : stop_ == Stop::kNotMaster ? "stopped: this node is no longer master"
                      : stop_ == Stop::kYielded   ? "stopped: FlexProtect goes first"
                                                  : "stopped: the node is shutting down";
    return Status::FailedPrecondition("job " + std::to_string(record_.id) + " " + why);
  }

  cluster::EtcdClient* client_;
  std::string cluster_;
  int64_t token_;
  JobRecord record_;
  int64_t revision_;
  std::chrono::milliseconds interval_;
  EngineCheck engine_check_;
  std::chrono::steady_clock::time_point last_publish_{};
  Stop stop_ = Stop::kNone;
  bool wrote_ = false;  // the last Publish wrote the record
};

}  // namespace

JobEngine::JobEngine(cluster::EtcdClient* client, std::string cluster, InputsFn inputs,
                     JobFactory factory, Options options)
    : client_(client),
      cluster_(std::move(cluster)),
      inputs_(std::move(inputs)),
      factory_(std::move(factory)),
      options_(options) {}

JobEngine::~JobEngine() { Stop(); }

void JobEngine::Start() {
  started_ns_ = NowNs();
  thread_ = std::thread([this] {
    SetThreadName("jobs");
    Loop();
  });
}

void JobEngine::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JobEngine::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

bool JobEngine::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void JobEngine::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.poll, [this] { return stopping_ || poked_; });
    if (stopping_) return;
    poked_ = false;
    lock.unlock();
    Round();
    lock.lock();
  }
}

void JobEngine::Round() {
  Inputs in = inputs_();
  TrackFailures(in);
  if (!in.is_master) return;
  Result<std::vector<StoredJob>> stored = cluster::ListJobs(client_, cluster_);
  if (!stored.ok()) {
    spdlog::warn("job engine: listing jobs: {}", stored.status().ToString());
    return;
  }
  std::vector<JobRecord> jobs;
  for (const StoredJob& s : *stored) jobs.push_back(s.record);
  MaybeStartFlexProtect(in, jobs);
  MaybeStartScheduled(in, jobs);
  // The next job to run: resumed ones (running) and queued ones, FlexProtect
  // first, then by id.
  Result<std::vector<StoredJob>> again = cluster::ListJobs(client_, cluster_);
  if (!again.ok()) return;
  std::optional<uint64_t> next;
  for (const StoredJob& s : *again) {
    if (s.record.state != JobState::kRunning && s.record.state != JobState::kQueued) continue;
    if (s.record.type == kFlexProtect) {
      next = s.record.id;
      break;
    }
    if (!next) next = s.record.id;
  }
  if (next) RunJob(in, *next);
}

void JobEngine::TrackFailures(const Inputs& in) {
  if (!in.group) return;
  std::vector<std::string> failed = DeviceHealth(*in.group).FailedDevices();
  UpdateFailedSince(failed_since_, {failed.begin(), failed.end()}, NowNs());
}

bool JobEngine::MaybeStartFlexProtect(const Inputs& in, const std::vector<JobRecord>& jobs) {
  if (!in.group) return false;
  // A retired (dead) node keeps its soft_failed flag; it is a failure like
  // any other then, started for after the grace period, not at once.
  const std::set<std::string> smartfailing = DeviceHealth(*in.group).SmartfailsInProgress();
  const int64_t now = NowNs();
  std::string why = FlexProtectTrigger(failed_since_, smartfailing, jobs, now, in.grace_seconds);
  if (why.empty()) return false;
  Result<JobRecord> created =
      cluster::CreateJob(client_, cluster_, std::string(kFlexProtect), why, now, in.token);
  if (!created.ok()) {
    spdlog::warn("starting FlexProtect ({}): {}", why, created.status().ToString());
    return false;
  }
  spdlog::info("job {}: FlexProtect started ({})", created->id, why);
  return true;
}

JobEngine::RunCheck JobEngine::CheckWhileRunning(int64_t token, bool may_give_way,
                                                 std::chrono::steady_clock::time_point& last) {
  if (stopping()) return RunCheck::kShutdown;
  Inputs in = inputs_();
  if (!in.is_master || in.token != token) return RunCheck::kNotMaster;
  const auto now = std::chrono::steady_clock::now();
  if (now - last < options_.poll) return RunCheck::kGoOn;
  last = now;
  // What a round does that cannot wait for the job to end: failures are
  // tracked and FlexProtect started, and it goes first.
  TrackFailures(in);
  Result<std::vector<StoredJob>> stored = cluster::ListJobs(client_, cluster_);
  if (!stored.ok()) return RunCheck::kGoOn;
  std::vector<JobRecord> jobs;
  for (const StoredJob& s : *stored) jobs.push_back(s.record);
  bool flexprotect_waits = MaybeStartFlexProtect(in, jobs);
  for (const JobRecord& j : jobs) {
    flexprotect_waits |= j.type == kFlexProtect && j.state == JobState::kQueued;
  }
  return flexprotect_waits && may_give_way ? RunCheck::kYield : RunCheck::kGoOn;
}

void JobEngine::MaybeStartScheduled(const Inputs& in, const std::vector<JobRecord>& jobs) {
  const int64_t now = NowNs();
  std::string why = ScheduledTrigger(in.smartpools_schedule, "SmartPools", now, started_ns_, jobs);
  if (why.empty()) return;
  Result<JobRecord> created =
      cluster::CreateJob(client_, cluster_, "SmartPools", why, now, in.token);
  if (created.ok()) {
    spdlog::info("job {}: SmartPools queued ({})", created->id, why);
  } else {
    spdlog::warn("queueing SmartPools ({}): {}", why, created.status().ToString());
  }
}

void JobEngine::RunJob(const Inputs& in, uint64_t id) {
  Result<StoredJob> stored = cluster::ReadJob(client_, cluster_, id);
  if (!stored.ok()) return;
  const bool resumed = stored->record.state == JobState::kRunning;
  StoredJob start = *stored;
  JobRecord& r = start.record;
  if (r.started_ns == 0) r.started_ns = NowNs();
  r.state = JobState::kRunning;
  // A run starts over; counters carry on (job.h), phases keep history.
  r.done = r.total = 0;
  if (!r.phases.empty() && r.phases.back().ended_ns == 0) r.phases.back().ended_ns = NowNs();
  if (resumed) {
    r.AddDetail("resumed by master token " + std::to_string(in.token) + " (was " +
                std::to_string(r.master_token) + ")");
  }
  r.master_token = in.token;
  const int64_t token = in.token;
  auto last_check = std::chrono::steady_clock::now();
  const bool may_give_way = r.type != kFlexProtect && r.counters.count(std::string(kGaveWay)) == 0;
  EngineContext context(client_, cluster_, token, start, options_.progress_interval,
                        [this, token, may_give_way, &last_check] {
                          switch (CheckWhileRunning(token, may_give_way, last_check)) {
                            case RunCheck::kGoOn:
                              return EngineContext::Stop::kNone;
                            case RunCheck::kNotMaster:
                              return EngineContext::Stop::kNotMaster;
                            case RunCheck::kShutdown:
                              return EngineContext::Stop::kShutdown;
                            case RunCheck::kYield:
                              break;
                          }
                          return EngineContext::Stop::kYielded;
                        });
  if (!context.Publish().ok()) return;  // paused, cancelled or deposed meanwhile
  std::unique_ptr<Job> job = factory_(context.record());
  if (!job) {
    context.Finish(Status::InvalidArgument("no such job type: " + context.record().type));
    return;
  }
  spdlog::info("job {}: {} {}", id, context.record().type, resumed ? "resumed" : "running");
  Status outcome = job->Run(context);
  if (context.stop() == EngineContext::Stop::kYielded) {
    spdlog::info("job {}: {}; queued again", id, outcome.message());
    context.Requeue("gave way to FlexProtect; runs again from its start after it");
    return;
  }
  if (context.stop() != EngineContext::Stop::kNone) {
    spdlog::info("job {}: {}", id, outcome.message());
    context.Settle();
    return;
  }
  context.Finish(outcome);
  spdlog::info("job {}: {} {}", id, outcome.ok() ? "succeeded" : "failed",
               outcome.ok() ? "" : outcome.message());
}

}  // namespace tessera::jobs
