// What a cluster job is to the engine that runs it (job_engine.h): a Run()
// over a JobContext through which it reports phases, progress, counters and
// details, and learns whether to go on.
//
// Threading: Run() is called on the engine's thread, one job at a time; a
// context is used only from that thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::jobs {

class JobContext {
 public:
  virtual ~JobContext() = default;

  // Ends the current phase (if any) and starts `name` with `total` items
  // (0: not known yet). Published at once.
  virtual Status BeginPhase(const std::string& name, uint64_t total) = 0;
  virtual void Advance(uint64_t items = 1) = 0;
  // Adds to a counter of work done. A job resumed after a pause or a master
  // change starts over, but its counters carry on from where the earlier
  // runs left them, so the report counts all the work the job did.
  virtual void Count(const std::string& counter, uint64_t n = 1) = 0;
  // Sets a counter outright: for what each run measures afresh (files
  // scanned, files still failing), which a rerun must not add to.
  virtual void SetCounter(const std::string& counter, uint64_t value) = 0;
  // Adds `n` to what this run has measured of `counter` and sets the
  // counter to that (SetCounter): a count a rerun starts again from 0.
  void Measure(const std::string& counter, uint64_t n = 1) {
    SetCounter(counter, measured_[counter] += n);
  }
  virtual void Detail(std::string text) = 0;
  // The devices the job works against (shown in its report).
  virtual void SetDevices(std::vector<std::string> devices) = 0;
  // The fencing token of the master running the job: etcd writes the job
  // makes compare it (MasterTokenHolds).
  virtual int64_t master_token() const = 0;
  // Publishes progress when it is due (every few hundred ms) and says
  // whether to go on: OK, or an error when the job was paused or cancelled
  // or this node stopped being master. The job then returns that error
  // as is, leaving its work consistent; the engine records the outcome.
  virtual Status Checkpoint() = 0;

 private:
  std::map<std::string, uint64_t> measured_;  // this run's, for Measure
};

class Job {
 public:
  virtual ~Job() = default;
  // OK: succeeded. An error: failed with that message (unless Checkpoint
  // asked it to stop).
  virtual Status Run(JobContext& context) = 0;
};

}  // namespace tessera::jobs
