#include "jobs/fsanalyze.h"

#include "io/clone_store.h"
#include "io/piece_map.h"
#include "jobs/container_inventory.h"

namespace tessera::jobs {
Result<FsaSummary> AnalyzeFileSystem(meta::MetadataStore& metadata) {
  FsaSummary s;
  ASSIGN_OR_RETURN(ContainerInventory inventory,
                   ContainerInventory::Take(metadata, [&s](const meta::FileRecord& r) {
                     if (r.ns == io::kSnapshotNamespace) return;  // their bytes are shared
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

Status FsAnalyzeJob::Run(JobContext& context) {
  RETURN_IF_ERROR(context.BeginPhase("scan", 0));
  ASSIGN_OR_RETURN(FsaSummary summary, AnalyzeFileSystem(metadata_));
  for (const auto& [name, value] : summary.ToCounters()) context.SetCounter(name, value);
  return context.Checkpoint();
}

}  // namespace tessera::jobs
