#include "jobs/shadow_store_delete.h"

#include <map>

#include "io/file_writer.h"
#include "jobs/container_packer.h"

namespace tessera::jobs {
namespace {

std::string Name(const meta::FileRecord& r) { return r.ns + "/" + r.path; }

bool Unreferenced(const ChunkUsage& c) { return !c.freed() && c.refs == 0; }

// A share cut short (by a crash) is certainly over after this long.
constexpr int64_t kUnfinishedShareAgeNs = 3600LL * 1'000'000'000;

// modified_ns of every chunk and clone store, by path.
Result<std::map<std::string, int64_t>> StoreVersions(meta::MetadataStore& metadata) {
  std::map<std::string, int64_t> versions;
  std::string marker;
  while (true) {
    ASSIGN_OR_RETURN(meta::Listing page,
                     metadata.List(std::string(io::kShadowStoreNamespace), "", marker, 1000));
    for (const meta::FileRecord& r : page.files) versions[r.path] = r.modified_ns;
    if (!page.truncated) return versions;
    marker = page.next_marker;
  }
}

}  // namespace

DefragAssessment AssessDefrag(const ContainerInventory& inventory, double target) {
  DefragAssessment a;
  for (const auto& [sin, container] : inventory.containers()) {
    ++a.stores_total;
    bool work = false, error = false;
    for (const auto& [n, chunk] : container.chunks) {
      if (chunk.freed()) continue;
      if (chunk.max_efficiency() <= 0) {
        error = true;
        continue;
      }
      if (Unreferenced(chunk)) {
        ++a.chunks_unreferenced;
        a.estimated_savings += chunk.physical_bytes;
        work = true;
      } else if (chunk.NeedsDefrag(target)) {
        ++a.chunks_needing_defrag;
        // Repacked, its live bytes cost what the geometry asks of them.
        const double repacked = static_cast<double>(chunk.live_bytes) / chunk.max_efficiency();
        if (static_cast<double>(chunk.physical_bytes) > repacked) {
          a.estimated_savings += chunk.physical_bytes - static_cast<uint64_t>(repacked);
        }
        work = true;
      }
    }
    if (error) ++a.stores_with_error;
    if (work) ++a.stores_processed;
    if (!work && !error) ++a.stores_skipped;
  }
  return a;
}

Result<bool> FreeChunk(io::PieceStore& pieces, meta::MetadataStore& metadata,
                       const meta::FileRecord& chunk) {
  // A tombstone keeps the chunk's number taken; with size 0 it has no
  // pieces. One drive stays named so that the record stays well formed.
  meta::FileRecord tombstone = chunk;
  tombstone.size = 0;
  tombstone.crc32c = 0;
  tombstone.sha256.clear();
  tombstone.geometry = {};
  tombstone.geometry.kind = layout::Geometry::Kind::kMirror;
  tombstone.geometry.copies = 1;
  tombstone.drives = {chunk.drives.empty() ? meta::DriveRef{} : chunk.drives.front()};
  // A new version, so that a touch that read the live chunk fails.
  tombstone.modified_ns = chunk.modified_ns + 1;
  ASSIGN_OR_RETURN(bool replaced,
                   metadata.ReplacePlacement(tombstone, chunk.object_id, chunk.modified_ns));
  if (replaced) io::DeleteFilePieces(pieces, chunk);
  return replaced;
}

Status ShadowStoreDeleteJob::Run(JobContext& context) {
  ASSIGN_OR_RETURN(Inputs in, inputs_());
  RETURN_IF_ERROR(context.BeginPhase("scan", 0));
  ASSIGN_OR_RETURN(const auto versions_before_scan, StoreVersions(metadata_));
  // Packed files by the chunk they are in, for the defragmenter.
  std::map<std::pair<uint64_t, uint32_t>, std::vector<meta::FileRecord>> packed;
  ASSIGN_OR_RETURN(ContainerInventory inventory,
                   ContainerInventory::Take(metadata_, [&](const meta::FileRecord& r) {
                     if (r.packed)
                       packed[{r.packed->sin, io::ChunkOf(r.packed->offset)}].push_back(r);
                   }));
  const DefragAssessment assessment = AssessDefrag(inventory);
  context.SetCounter("shadow_stores_total", assessment.stores_total);
  context.SetCounter("chunks_needing_defrag", assessment.chunks_needing_defrag);
  context.SetCounter("chunks_unreferenced", assessment.chunks_unreferenced);
  if (inventory.dangling_refs() > 0) {
    context.SetCounter("packed_files_without_chunk", inventory.dangling_refs());
    context.Detail(std::to_string(inventory.dangling_refs()) +
                   " packed file(s) point into a chunk that does not exist");
  }

  // Not given a reference since before the scan (see the header).
  auto untouched = [&](const meta::FileRecord& chunk) {
    auto before = versions_before_scan.find(chunk.path);
    return before != versions_before_scan.end() && before->second == chunk.modified_ns;
  };
  auto free_chunk = [&](const ChunkUsage& chunk) {
    // FreeChunk swaps only the version scanned, which is the one from before.
    Result<bool> freed =
        untouched(chunk.record) ? FreeChunk(pieces_, metadata_, chunk.record) : Result<bool>(false);
    if (!freed.ok()) {
      context.Count("errors");
      context.Detail("freeing " + Name(chunk.record) + ": " + freed.status().message());
    } else if (*freed) {
      context.Count("chunks_freed");
      context.Count("bytes_freed", chunk.physical_bytes);
    } else {
      context.Measure("chunks_in_use_kept");
    }
  };

  RETURN_IF_ERROR(context.BeginPhase("free", assessment.chunks_unreferenced));
  for (const auto& [sin, container] : inventory.containers()) {
    for (const auto& [n, chunk] : container.chunks) {
      if (!Unreferenced(chunk)) continue;
      if (chunk.clone() && inventory.NativeFileOwns(chunk.record.object_id)) {
        // Sharing was cut short: the file still owns these pieces. Only the
        // store's record goes, once no share can still be finishing.
        if (chunk.record.created_ns + kUnfinishedShareAgeNs < in.now_ns &&
            untouched(chunk.record)) {
          Result<meta::FileRecord> removed = metadata_.Delete(chunk.record.ns, chunk.record.path);
          if (removed.ok()) context.Count("unfinished_clone_stores_removed");
        }
      } else {
        free_chunk(chunk);
      }
      context.Advance();
      RETURN_IF_ERROR(context.Checkpoint());
    }
  }

  if (in.defrag_enabled) {
    RETURN_IF_ERROR(context.BeginPhase("defrag", assessment.chunks_needing_defrag));
    // Which evacuated chunks had a file stay behind (it could not be moved).
    std::map<std::pair<uint64_t, uint32_t>, bool> stayed;
    ContainerPacker packer(
        pieces_, metadata_, {in.protection, in.container_max_size, std::nullopt}, new_object_id_,
        [&](const meta::FileRecord& f, MoveOutcome outcome, const Status& why) {
          if (outcome == MoveOutcome::kMoved) {
            context.Count("files_moved");
            return;
          }
          if (outcome == MoveOutcome::kRaced) return;  // the client's write moved it out
          context.Count("errors");
          context.Detail(Name(f) + ": not moved (" + std::string(MoveOutcomeName(outcome)) +
                         "): " + why.message());
          if (f.packed) {
            const io::ChunkName name = io::StoredFileOf(*f.packed);
            stayed[{name.sin, name.chunk}] = true;
          }
        });
    std::vector<const ChunkUsage*> evacuated;
    for (const auto& [sin, container] : inventory.containers()) {
      for (const auto& [n, chunk] : container.chunks) {
        if (!chunk.NeedsDefrag(kDefragTarget)) continue;
        for (const meta::FileRecord& f : packed[{sin, n}]) {
          RETURN_IF_ERROR(packer.Add(f));
          RETURN_IF_ERROR(context.Checkpoint());
        }
        evacuated.push_back(&chunk);
      }
    }
    RETURN_IF_ERROR(packer.Flush());
    for (const ChunkUsage* chunk : evacuated) {
      context.Advance();
      if (stayed[{chunk->name.sin, chunk->name.chunk}]) continue;
      free_chunk(*chunk);
      context.Count("chunks_defragmented");
    }
  }

  // Containers with nothing but tombstones go altogether.
  RETURN_IF_ERROR(context.BeginPhase("delete", 0));
  ASSIGN_OR_RETURN(ContainerInventory after, ContainerInventory::Take(metadata_));
  for (const auto& [sin, container] : after.containers()) {
    bool empty = true;
    for (const auto& [n, chunk] : container.chunks) empty = empty && chunk.freed();
    if (!empty) continue;
    for (const auto& [n, chunk] : container.chunks) {
      Result<meta::FileRecord> removed = metadata_.Delete(chunk.record.ns, chunk.record.path);
      if (!removed.ok() && removed.status().code() != StatusCode::kNotFound) {
        context.Count("errors");
        context.Detail("deleting " + Name(chunk.record) + ": " + removed.status().message());
      }
    }
    context.Count("shadow_stores_deleted");
    RETURN_IF_ERROR(context.Checkpoint());
  }
  return Status::Ok();
}

}  // namespace tessera::jobs
