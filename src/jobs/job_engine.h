// JobEngine: runs the cluster's jobs on the master, on a thread of its own.
//
// Every node runs an engine; only the master's acts. Each round (every
// poll interval, or when poked) it
//   1. tracks since when each failed device (down, dead, soft-failed; from
//      the group) has been failed, on every node, so that a new master
//      already knows;
//   2. on the master: starts FlexProtect by itself when a device has been
//      down longer than flexprotect_grace_seconds or is soft-failed, by the
//      rules of flexprotect_trigger.h;
//   3. on the master: queues SmartPools when its daily schedule falls due
//      (job_schedule.h);
//   4. on the master: runs the job that is queued or running (running: its
//      master was deposed or died; it is resumed from its start, which
//      every job must allow, its counters carrying on as job.h says),
//      FlexProtect first, else the lowest-numbered, until it ends, is
//      paused or cancelled, or this node stops being master. A run stopped
//      by an operator's pause or cancel leaves its counters in the record
//      the operator wrote.
// While a job runs, its checkpoints do steps 1 and 2 once a poll interval,
// so a failure is rebuilt without waiting for a long job (MediaScan,
// SmartPools at low impact): a job of another type gives way to a queued
// FlexProtect, going back to queued (with a detail saying so and its
// `gave_way` counter at 1) to run again from its start after it. A job
// gives way once: its next run goes to its end, so that a FlexProtect
// that keeps failing and being retried cannot keep it from ending.
// Every write of a job record is fenced by the master's token and the
// record's revision (cluster/jobs/job_store.h).
//
// Threading: Start/Stop from one thread; Poke from any.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cluster/etcd/etcd_client.h"
#include "cluster/group_state.h"
#include "cluster/jobs/job_record.h"
#include "jobs/job.h"

namespace tessera::jobs {

class JobEngine {
 public:
  struct Inputs {
    bool is_master = false;
    int64_t token = 0;                         // the master's fencing token
    std::optional<cluster::GroupState> group;  // the current group, if known
    int64_t grace_seconds = 300;               // flexprotect_grace_seconds
    std::string smartpools_schedule = "off";   // smartpools_schedule (job_schedule.h)
  };
  using InputsFn = std::function<Inputs()>;
  // The job for a record; nullptr for a type this node cannot run.
  using JobFactory = std::function<std::unique_ptr<Job>(const cluster::JobRecord&)>;

  struct Options {
    std::chrono::milliseconds poll{1000};
    std::chrono::milliseconds progress_interval{300};
  };

  JobEngine(cluster::EtcdClient* client, std::string cluster, InputsFn inputs, JobFactory factory,
            Options options);
  ~JobEngine();  // Stop()
  JobEngine(const JobEngine&) = delete;
  JobEngine& operator=(const JobEngine&) = delete;

  void Start();
  // Stops the thread; a running job stops at its next checkpoint and stays
  // "running" in etcd, for the next master.
  void Stop();
  void Poke();

  bool stopping() const;

 private:
  void Loop();
  void Round();
  void TrackFailures(const Inputs& in);
  // Whether it created one.
  bool MaybeStartFlexProtect(const Inputs& in, const std::vector<cluster::JobRecord>& jobs);
  // Asked at a running job's checkpoints: whether it must stop. Once a
  // poll interval (`last`) it also does what a round does that cannot wait
  // for the job to end (steps 1 and 2) and says kYield when a FlexProtect
  // is queued and the job `may_give_way`.
  enum class RunCheck { kGoOn, kNotMaster, kShutdown, kYield };
  RunCheck CheckWhileRunning(int64_t token, bool may_give_way,
                             std::chrono::steady_clock::time_point& last);
  void MaybeStartScheduled(const Inputs& in, const std::vector<cluster::JobRecord>& jobs);
  void RunJob(const Inputs& in, uint64_t id);

  cluster::EtcdClient* client_;
  std::string cluster_;
  InputsFn inputs_;
  JobFactory factory_;
  Options options_;
  // Device name -> wall-clock ns it was first seen failed (this thread only).
  std::map<std::string, int64_t> failed_since_;  // a FailedSince
  int64_t started_ns_ = 0;                       // when Start() was called
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool poked_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace tessera::jobs
