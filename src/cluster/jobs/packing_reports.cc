#include "cluster/jobs/packing_reports.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/units.h"

namespace tessera::cluster {
namespace {

using nlohmann::json;

constexpr const char* kFiles = "files";
constexpr const char* kPacked = "packed_files";
constexpr const char* kContainers = "containers";
constexpr const char* kLogical = "logical_bytes";
constexpr const char* kPhysical = "physical_bytes";
constexpr const char* kContainerPhysical = "container_physical_bytes";

// Sizes as the FSA report prints them: three decimals, e.g. "1.375G".
std::string Size3(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes);
  const char* units = "kMGTP";
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.3f%c", value, units[unit]);
  return text;
}

double Percent(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

}  // namespace

double FsaSummary::efficiency() const {
  return physical_bytes ? static_cast<double>(logical_bytes) / static_cast<double>(physical_bytes)
                        : 0.0;
}

std::map<std::string, uint64_t> FsaSummary::ToCounters() const {
  return {{kFiles, files},
          {kPacked, packed_files},
          {kContainers, containers},
          {kLogical, logical_bytes},
          {kPhysical, physical_bytes},
          {kContainerPhysical, container_physical_bytes}};
}

Result<FsaSummary> FsaSummary::FromCounters(const std::map<std::string, uint64_t>& counters) {
  auto get = [&](const char* name) -> Result<uint64_t> {
    auto it = counters.find(name);
    if (it == counters.end()) {
      return Status::InvalidArgument(std::string("no '") + name +
                                     "' counter: not an FSAnalyze result");
    }
    return it->second;
  };
  FsaSummary s;
  ASSIGN_OR_RETURN(s.files, get(kFiles));
  ASSIGN_OR_RETURN(s.packed_files, get(kPacked));
  ASSIGN_OR_RETURN(s.containers, get(kContainers));
  ASSIGN_OR_RETURN(s.logical_bytes, get(kLogical));
  ASSIGN_OR_RETURN(s.physical_bytes, get(kPhysical));
  ASSIGN_OR_RETURN(s.container_physical_bytes, get(kContainerPhysical));
  return s;
}

std::string FormatFsaReport(uint64_t job_id, int64_t ended_ns, const FsaSummary& summary) {
  time_t seconds = static_cast<time_t>(ended_ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char when[64];
  std::strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  char efficiency[16];
  std::snprintf(efficiency, sizeof efficiency, "%.2f%%", 100.0 * summary.efficiency());
  return "FSAnalyze job: " + std::to_string(job_id) + " (" + when + ")\n" +
         "Logical size:  " + Size3(summary.logical_bytes) + "\n" +
         "Physical size: " + Size3(summary.physical_bytes) + "\n" + "Efficiency:    " + efficiency +
         "\n";
}

json ToJson(const DefragAssessment& a) {
  return {{"stores_total", a.stores_total},
          {"stores_processed", a.stores_processed},
          {"stores_skipped", a.stores_skipped},
          {"stores_with_error", a.stores_with_error},
          {"chunks_needing_defrag", a.chunks_needing_defrag},
          {"chunks_unreferenced", a.chunks_unreferenced},
          {"estimated_savings", a.estimated_savings}};
}

Result<DefragAssessment> DefragAssessmentFromJson(const json& j) {
  try {
    DefragAssessment a;
    a.stores_total = j.at("stores_total").get<uint64_t>();
    a.stores_processed = j.at("stores_processed").get<uint64_t>();
    a.stores_skipped = j.at("stores_skipped").get<uint64_t>();
    a.stores_with_error = j.at("stores_with_error").get<uint64_t>();
    a.chunks_needing_defrag = j.at("chunks_needing_defrag").get<uint64_t>();
    a.chunks_unreferenced = j.at("chunks_unreferenced").get<uint64_t>();
    a.estimated_savings = j.at("estimated_savings").get<uint64_t>();
    return a;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("malformed defrag assessment: ") + e.what());
  }
}

std::string FormatDefragAssessment(const DefragAssessment& a) {
  std::ostringstream out;
  out << "Summary:\n"
      << "    Shadow stores total:        " << a.stores_total << "\n"
      << "    Shadow stores processed:    " << a.stores_processed << "\n"
      << "    Shadow stores skipped:      " << a.stores_skipped << "\n"
      << "    Shadow stores with error:   " << a.stores_with_error << "\n"
      << "    Chunks needing defrag:      " << a.chunks_needing_defrag << "\n"
      << "    Chunks unreferenced:        " << a.chunks_unreferenced << "\n"
      << "    Estimated space savings:    " << FormatSize(a.estimated_savings) << "\n";
  return out.str();
}

uint64_t SfseEstimate::raw_space_saving() const {
  return packable_physical_bytes > packed_physical_bytes
             ? packable_physical_bytes - packed_physical_bytes
             : 0;
}
double SfseEstimate::raw_space_saving_percent() const {
  return Percent(raw_space_saving(), physical_bytes);
}
uint64_t SfseEstimate::pg_reduction() const {
  return packable_protection_groups > packed_protection_groups
             ? packable_protection_groups - packed_protection_groups
             : 0;
}
double SfseEstimate::pg_reduction_percent() const {
  return Percent(pg_reduction(), protection_groups);
}

json ToJson(const SfseEstimate& e) {
  return {{"files", e.files},
          {"packable_files", e.packable_files},
          {"physical_bytes", e.physical_bytes},
          {"packable_logical_bytes", e.packable_logical_bytes},
          {"packable_physical_bytes", e.packable_physical_bytes},
          {"packed_physical_bytes", e.packed_physical_bytes},
          {"protection_groups", e.protection_groups},
          {"packable_protection_groups", e.packable_protection_groups},
          {"packed_protection_groups", e.packed_protection_groups},
          {"container_geometry", e.container_geometry},
          {"raw_space_saving", e.raw_space_saving()},
          {"raw_space_saving_percent", e.raw_space_saving_percent()},
          {"pg_reduction", e.pg_reduction()},
          {"pg_reduction_percent", e.pg_reduction_percent()}};
}

Result<SfseEstimate> SfseEstimateFromJson(const json& j) {
  try {
    SfseEstimate e;
    e.files = j.at("files").get<uint64_t>();
    e.packable_files = j.at("packable_files").get<uint64_t>();
    e.physical_bytes = j.at("physical_bytes").get<uint64_t>();
    e.packable_logical_bytes = j.at("packable_logical_bytes").get<uint64_t>();
    e.packable_physical_bytes = j.at("packable_physical_bytes").get<uint64_t>();
    e.packed_physical_bytes = j.at("packed_physical_bytes").get<uint64_t>();
    e.protection_groups = j.at("protection_groups").get<uint64_t>();
    e.packable_protection_groups = j.at("packable_protection_groups").get<uint64_t>();
    e.packed_protection_groups = j.at("packed_protection_groups").get<uint64_t>();
    e.container_geometry = j.at("container_geometry").get<std::string>();
    return e;
  } catch (const json::exception& ex) {
    return Status::Corruption(std::string("malformed SFSE estimate: ") + ex.what());
  }
}

std::string FormatSfseEstimate(const SfseEstimate& e) {
  char saving[96], pg[96];
  std::snprintf(saving, sizeof saving, "* Raw space saving: %s (%.2f%%)",
                FormatSize(e.raw_space_saving()).c_str(), e.raw_space_saving_percent());
  std::snprintf(pg, sizeof pg, "* PG reduction: %llu (%.2f%%)",
                static_cast<unsigned long long>(e.pg_reduction()), e.pg_reduction_percent());
  return "SFSE estimation summary:\n" + std::string(saving) + "\n" + pg + "\n" + "  (" +
         std::to_string(e.packable_files) + " of " + std::to_string(e.files) + " files packable, " +
         FormatSize(e.packable_logical_bytes) + " of data; containers " + e.container_geometry +
         ")\n";
}

}  // namespace tessera::cluster
