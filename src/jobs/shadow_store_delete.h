// ShadowStoreDelete: frees container space that no file uses any more and,
// when the defragmenter is enabled (sstore_defrag_enabled), evacuates
// fragmented chunks.
//
// Phases:
//   scan     every record: the container inventory and the packed files;
//   free     each chunk no file points into (its files were deleted,
//            rewritten, unpacked or moved, or a packing run died before
//            switching them) is freed: its record becomes an empty
//            tombstone (compare-and-swap on its object id) and its pieces
//            are deleted. A container left with nothing but tombstones
//            loses its records altogether (SINs are never reused). A clone
//            store no file refers to is freed the same way, unless a native
//            file still names its pieces (sharing was cut short by a
//            crash): then only the store's record goes;
//   defrag   each chunk below kDefragTarget of the maximum efficiency of
//            its geometry has its live files packed into a new container
//            (ContainerPacker), then is freed when none of its files is
//            left in it.
// Freeing and moving never lose a file: a file is switched only to a
// durable copy, and a chunk is freed only when no record points into it
// (a reader holding an older record finds the file at its new place:
// io::ReadFileContent).
//
// Threading: run by the job engine's thread; the stores are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "cluster/jobs/packing_reports.h"
#include "common/status.h"
#include "io/piece_store.h"
#include "jobs/container_inventory.h"
#include "jobs/job.h"
#include "layout/protection_policy.h"
#include "meta/metadata_store.h"

namespace tessera::jobs {

// A chunk is defragmented below this share of its geometry's maximum
// efficiency.
inline constexpr double kDefragTarget = 0.9;

using cluster::DefragAssessment;

// What `tessera sstore defrag --dry-run` reports, from an inventory alone.
DefragAssessment AssessDefrag(const ContainerInventory& inventory, double target = kDefragTarget);

// Frees one chunk: its record becomes a tombstone (only while it is still
// `chunk`, same object id and modified_ns), then its pieces are deleted.
// False when the chunk changed meanwhile (rewritten, moved or touched).
Result<bool> FreeChunk(io::PieceStore& pieces, meta::MetadataStore& metadata,
                       const meta::FileRecord& chunk);

class ShadowStoreDeleteJob final : public Job {
 public:
  struct Inputs {
    bool defrag_enabled = false;
    layout::ProtectionPolicy protection;  // for evacuated data
    uint64_t container_max_size = 1ull << 30;
    int64_t now_ns = 0;  // wall clock at the start
  };
  using InputsFn = std::function<Result<Inputs>()>;
  using ObjectIdFn = std::function<Result<uint64_t>()>;

  // Clones and snapshots may add references while the job scans (its scan
  // is not one consistent view), so it frees only chunks and clone stores
  // whose version is the one noted before the scan began
  // (io::TouchStoredFile), and drops the record of a share cut short only
  // an hour after it began.
  ShadowStoreDeleteJob(io::PieceStore& pieces, meta::MetadataStore& metadata, InputsFn inputs,
                       ObjectIdFn new_object_id)
      : pieces_(pieces),
        metadata_(metadata),
        inputs_(std::move(inputs)),
        new_object_id_(std::move(new_object_id)) {}

  Status Run(JobContext& context) override;

 private:
  io::PieceStore& pieces_;
  meta::MetadataStore& metadata_;
  InputsFn inputs_;
  ObjectIdFn new_object_id_;
};

}  // namespace tessera::jobs
