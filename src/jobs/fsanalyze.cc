#include "jobs/fsanalyze.h"

#include <cstdio>
#include <ctime>

#include "common/units.h"
#include "io/piece_map.h"
#include "jobs/container_inventory.h"

namespace tessera::jobs {
namespace {

constexpr const char* kFiles = "files";
constexpr const char* kPacked = "packed files";
constexpr const char* kContainers = "containers";
constexpr const char* kLogical = "logical bytes";
constexpr const char* kPhysical = "physical bytes";
constexpr const char* kContainerPhysical = "container physical bytes";

// Sizes as the report prints them: three decimals, e.g. "1.375G".
std::string Size3(uint64_t bytes) {
  const char* units = "kMGTP";
  double value = static_cast<double>(bytes);
  if (value < 1024) return std::to_string(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.3f%c", value, units[unit]);
  return text;
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
      return Status::InvalidArgument(std::string("no '") + name + "' counter: not an FSAnalyze result");
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

Result<FsaSummary> AnalyzeFileSystem(meta::MetadataStore& metadata) {
  FsaSummary s;
  ASSIGN_OR_RETURN(ContainerInventory inventory,
                   ContainerInventory::Take(metadata, [&s](const meta::FileRecord& r) {
                     ++s.files;
                     s.logical_bytes += r.size;
                     if (r.packed) ++s.packed_files;
                     s.physical_bytes += io::PhysicalBytes(r);
                   }));
  for (const auto& [sin, c] : inventory.containers()) {
    ++s.containers;
    s.container_physical_bytes += c.psize;
  }
  s.physical_bytes += s.container_physical_bytes;
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
         "Physical size: " + Size3(summary.physical_bytes) + "\n" +
         "Efficiency:    " + efficiency + "\n";
}

Status FsAnalyzeJob::Run(JobContext& context) {
  RETURN_IF_ERROR(context.BeginPhase("scan", 0));
  ASSIGN_OR_RETURN(FsaSummary summary, AnalyzeFileSystem(metadata_));
  for (const auto& [name, value] : summary.ToCounters()) context.SetCounter(name, value);
  return context.Checkpoint();
}

}  // namespace tessera::jobs
