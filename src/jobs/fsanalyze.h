// FSAnalyze: measures the cluster's storage efficiency from one scan of
// every record. Logical size is the bytes of every file; physical size is
// what their pieces take on the drives: native files' own pieces plus the
// container chunks that hold packed files (io::PhysicalBytes, headers and
// block checksums included). Efficiency is logical / physical.
//
// The result (cluster/jobs/packing_reports.h) is kept in the job's
// counters, so `tessera packing --fsa` can report the latest run later.
#pragma once

#include "cluster/jobs/packing_reports.h"
#include "common/status.h"
#include "jobs/job.h"
#include "meta/metadata_store.h"

namespace tessera::jobs {

using cluster::FsaSummary;

Result<FsaSummary> AnalyzeFileSystem(meta::MetadataStore& metadata);

class FsAnalyzeJob final : public Job {
 public:
  explicit FsAnalyzeJob(meta::MetadataStore& metadata) : metadata_(metadata) {}
  Status Run(JobContext& context) override;

 private:
  meta::MetadataStore& metadata_;
};

}  // namespace tessera::jobs
