// Holds a job to its impact: the share of the time it works, so that
// clients keep most of the cluster while a long job runs.
//
// Threading: a Pacer is used by the one thread that runs its job.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "jobs/job.h"

namespace tessera::jobs {

// The fraction of the time a job of this impact works: low 0.25, medium
// 0.5, high 1. InvalidArgument for another name.
Result<double> ImpactDutyCycle(std::string_view impact);

// Holds a job to its duty cycle: after each Work() it sleeps, in slices
// that keep checkpoints coming, until work / elapsed is back at the cycle.
class Pacer {
 public:
  explicit Pacer(double duty_cycle);
  // Accounts the time since the last call as work, then sleeps as needed.
  // Returns the context's checkpoint (a pause or cancel stops the sleep).
  Status Work(JobContext& context);
  int64_t paused_ms() const { return paused_ms_; }

 private:
  double duty_;
  int64_t last_ns_;
  int64_t worked_ns_ = 0;
  int64_t paused_ms_ = 0;
};

}  // namespace tessera::jobs
