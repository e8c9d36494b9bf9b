// A JobContext for tests that run a job directly: it keeps the counters
// and details the job reports and never asks it to stop.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "jobs/job.h"

namespace tessera::jobs {

class CountingContext final : public JobContext {
 public:
  Status BeginPhase(const std::string&, uint64_t) override { return Status::Ok(); }
  void Advance(uint64_t) override {}
  void Count(const std::string& counter, uint64_t n) override { counters[counter] += n; }
  void SetCounter(const std::string& counter, uint64_t value) override {
    counters[counter] = value;
  }
  void Detail(std::string text) override { details.push_back(std::move(text)); }
  void SetDevices(std::vector<std::string>) override {}
  int64_t master_token() const override { return 1; }
  Status Checkpoint() override { return Status::Ok(); }

  std::map<std::string, uint64_t> counters;
  std::vector<std::string> details;
};

}  // namespace tessera::jobs
