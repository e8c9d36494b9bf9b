// FSAnalyze: measures the cluster's storage efficiency from one scan of
// every record. Logical size is the bytes of every file; physical size is
// what their pieces take on the drives: native files' own pieces plus the
// container chunks that hold packed files (io::PhysicalBytes, headers and
// block checksums included). Efficiency is logical / physical.
//
// The result is kept in the job's counters, so `tessera packing --fsa`
// can report the latest run (or any) later. Pure apart from the scan.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"
#include "jobs/job.h"
#include "meta/metadata_store.h"

namespace tessera::jobs {

struct FsaSummary {
  uint64_t files = 0;
  uint64_t packed_files = 0;
  uint64_t containers = 0;
  uint64_t logical_bytes = 0;
  uint64_t physical_bytes = 0;
  uint64_t container_physical_bytes = 0;  // part of physical_bytes

  double efficiency() const;
  std::map<std::string, uint64_t> ToCounters() const;
  // InvalidArgument when the counters are not an FSAnalyze result.
  static Result<FsaSummary> FromCounters(const std::map<std::string, uint64_t>& counters);
};

Result<FsaSummary> AnalyzeFileSystem(meta::MetadataStore& metadata);

// `tessera packing --fsa`: "FSAnalyze job: 7 (Sun Nov 22 04:10:00 2026)",
// then logical size, physical size and efficiency.
std::string FormatFsaReport(uint64_t job_id, int64_t ended_ns, const FsaSummary& summary);

class FsAnalyzeJob final : public Job {
 public:
  explicit FsAnalyzeJob(meta::MetadataStore& metadata) : metadata_(metadata) {}
  Status Run(JobContext& context) override;

 private:
  meta::MetadataStore& metadata_;
};

}  // namespace tessera::jobs
