// The figures of the packing reports, as values with their JSON and text
// forms: what FSAnalyze measured (kept in its job's counters), what the
// defragmenter would reclaim, and what packing would save. The jobs and the
// node compute them (src/jobs: fsanalyze.h, shadow_store_delete.h,
// sfse_assess.h); admin verbs print them. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/status.h"

namespace tessera::cluster {

// FSAnalyze: logical bytes (every file's size) against physical bytes (what
// native files' pieces and container chunks take on the drives).
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
  friend bool operator==(const FsaSummary&, const FsaSummary&) = default;
};

// `tessera packing --fsa`: "FSAnalyze job: 7 (Sun Nov 22 04:10:00 2026)",
// then logical size, physical size and efficiency.
std::string FormatFsaReport(uint64_t job_id, int64_t ended_ns, const FsaSummary& summary);

// `tessera sstore defrag --dry-run`.
struct DefragAssessment {
  uint64_t stores_total = 0;
  uint64_t stores_processed = 0;   // with at least one chunk to free or defragment
  uint64_t stores_skipped = 0;     // nothing to do
  uint64_t stores_with_error = 0;  // a chunk with no usable geometry
  uint64_t chunks_needing_defrag = 0;
  uint64_t chunks_unreferenced = 0;
  uint64_t estimated_savings = 0;  // bytes on the drives
  friend bool operator==(const DefragAssessment&, const DefragAssessment&) = default;
};
nlohmann::json ToJson(const DefragAssessment& a);
Result<DefragAssessment> DefragAssessmentFromJson(const nlohmann::json& j);
// "Summary:", "    Shadow stores total:        3", ...
std::string FormatDefragAssessment(const DefragAssessment& a);

// `tessera sfse-assess`.
struct SfseEstimate {
  uint64_t files = 0;  // assessed
  uint64_t packable_files = 0;
  uint64_t physical_bytes = 0;  // of every assessed file, today
  uint64_t packable_logical_bytes = 0;
  uint64_t packable_physical_bytes = 0;  // of the packable files, today
  uint64_t packed_physical_bytes = 0;    // of the packable files, once packed (estimate)
  uint64_t protection_groups = 0;        // of every assessed file, today
  uint64_t packable_protection_groups = 0;
  uint64_t packed_protection_groups = 0;
  std::string container_geometry;  // e.g. "16+2 stripe, ..."

  uint64_t raw_space_saving() const;
  double raw_space_saving_percent() const;  // of physical_bytes
  uint64_t pg_reduction() const;
  double pg_reduction_percent() const;  // of protection_groups
  friend bool operator==(const SfseEstimate&, const SfseEstimate&) = default;
};
nlohmann::json ToJson(const SfseEstimate& e);
Result<SfseEstimate> SfseEstimateFromJson(const nlohmann::json& j);
// "SFSE estimation summary:", "* Raw space saving: 1.7G (25.86%)",
// "* PG reduction: 25978 (78.73%)", then what was assessed.
std::string FormatSfseEstimate(const SfseEstimate& e);

}  // namespace tessera::cluster
