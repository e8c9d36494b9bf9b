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

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The context of one run of one job: the record as this master last wrote
// it, and why the job must stop, if it must.
class EngineContext final : public JobContext {
 public:
  enum class Stop { kNone, kPaused, kCancelled, kNotMaster, kShutdown };

  EngineContext(cluster::EtcdClient* client, std::string cluster, int64_t token, StoredJob stored,
                std::chrono::milliseconds interval, std::function<bool()> still_master)
      : client_(client),
        cluster_(std::move(cluster)),
        token_(token),
        record_(std::move(stored.record)),
        revision_(stored.mod_revision),
        interval_(interval),
        still_master_(std::move(still_master)) {}

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
    if (!still_master_()) {
      stop_ = Stop::kNotMaster;
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
    if (stop_ != Stop::kPaused && stop_ != Stop::kCancelled) return;
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

  void RequestShutdown() { stop_ = Stop::kShutdown; }
  Stop stop() const { return stop_; }
  JobRecord& record() { return record_; }

 private:
  Status StopStatus() const {
    const char* why = stop_ == Stop::kPaused      ? "paused"
                      : stop_ == Stop::kCancelled ? "cancelled"
                      : stop_ == Stop::kNotMaster ? "stopped: this node is no longer master"
                                                  : "stopped: the node is shutting down";
    return Status::FailedPrecondition("job " + std::to_string(record_.id) + " " + why);
  }

  cluster::EtcdClient* client_;
  std::string cluster_;
  int64_t token_;
  JobRecord record_;
  int64_t revision_;
  std::chrono::milliseconds interval_;
  std::function<bool()> still_master_;
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
  // The next job to run: resumed ones (running) and queued ones, by id.
  Result<std::vector<StoredJob>> again = cluster::ListJobs(client_, cluster_);
  if (!again.ok()) return;
  for (const StoredJob& s : *again) {
    if (s.record.state == JobState::kRunning || s.record.state == JobState::kQueued) {
      RunJob(in, s.record.id);
      return;
    }
  }
}

void JobEngine::TrackFailures(const Inputs& in) {
  if (!in.group) return;
  std::vector<std::string> failed = DeviceHealth(*in.group).FailedDevices();
  UpdateFailedSince(failed_since_, {failed.begin(), failed.end()}, NowNs());
}

void JobEngine::MaybeStartFlexProtect(const Inputs& in, const std::vector<JobRecord>& jobs) {
  if (!in.group) return;
  std::set<std::string> soft_failed;
  for (const cluster::DeviceRef& d : in.group->soft_failed) soft_failed.insert(DeviceName(d));
  const int64_t now = NowNs();
  std::string why = FlexProtectTrigger(failed_since_, soft_failed, jobs, now, in.grace_seconds);
  if (why.empty()) return;
  Result<JobRecord> created =
      cluster::CreateJob(client_, cluster_, "FlexProtect", why, now, in.token);
  if (created.ok()) {
    spdlog::info("job {}: FlexProtect started ({})", created->id, why);
  } else {
    spdlog::warn("starting FlexProtect ({}): {}", why, created.status().ToString());
  }
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
  EngineContext context(client_, cluster_, token, start, options_.progress_interval, [this, token] {
    if (stopping()) return false;
    Inputs now = inputs_();
    return now.is_master && now.token == token;
  });
  if (!context.Publish().ok()) return;  // paused, cancelled or deposed meanwhile
  std::unique_ptr<Job> job = factory_(context.record());
  if (!job) {
    context.Finish(Status::InvalidArgument("no such job type: " + context.record().type));
    return;
  }
  spdlog::info("job {}: {} {}", id, context.record().type, resumed ? "resumed" : "running");
  Status outcome = job->Run(context);
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
