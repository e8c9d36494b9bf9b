#include "jobs/pacer.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace tessera::jobs {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<double> ImpactDutyCycle(std::string_view impact) {
  if (impact == "low") return 0.25;
  if (impact == "medium") return 0.5;
  if (impact == "high") return 1.0;
  return Status::InvalidArgument("impact '" + std::string(impact) +
                                 "' is not one of low, medium, high");
}

Pacer::Pacer(double duty_cycle) : duty_(duty_cycle), last_ns_(SteadyNs()) {}

Status Pacer::Work(JobContext& context) {
  int64_t now = SteadyNs();
  worked_ns_ += now - last_ns_;
  last_ns_ = now;
  if (duty_ >= 1.0) return context.Checkpoint();
  // Pause once a tenth of a second of work has gathered: sleep what keeps
  // the share of work at the duty cycle, in slices of at most 200 ms.
  if (worked_ns_ < 100'000'000) return context.Checkpoint();
  int64_t pause_ns = static_cast<int64_t>(static_cast<double>(worked_ns_) * (1.0 / duty_ - 1.0));
  worked_ns_ = 0;
  while (pause_ns > 0) {
    RETURN_IF_ERROR(context.Checkpoint());
    int64_t slice = std::min<int64_t>(pause_ns, 200'000'000);
    std::this_thread::sleep_for(std::chrono::nanoseconds(slice));
    pause_ns -= slice;
    paused_ms_ += slice / 1'000'000;
  }
  last_ns_ = SteadyNs();
  return context.Checkpoint();
}

}  // namespace tessera::jobs
