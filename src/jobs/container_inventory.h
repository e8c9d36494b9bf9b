// ContainerInventory: the cluster's containers and how much of each is
// still referenced, taken from one scan of every file record. It answers
// `tessera sstore list`, the defragmenter's assessment and FSAnalyze.
//
// Per chunk: its size, its physical bytes on the drives, the packed files
// that point into it (refs, live bytes, their extents), and from these
//   efficiency     live bytes / physical bytes;
//   max efficiency what its geometry allows: k / (k + m) for a stripe,
//                  1 / copies for a mirror;
//   fragmentation  the share of its bytes that are holes inside stripes
//                  that still hold live data (holes that still cost parity;
//                  a stripe with nothing live in it needs none, so it does
//                  not count).
// A container sums its chunks; chunks freed by the defragmenter (empty
// tombstones) count for nothing. A clone store is a container of one chunk
// (number 0) whose extents may overlap (clones share them): live bytes are
// the union of its extents, and it is never defragmented.
//
// Pure over the records it is given (Add), plus Take() which scans a
// MetadataStore. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "common/status.h"
#include "io/shadow_store.h"
#include "meta/file_record.h"
#include "meta/metadata_store.h"

namespace tessera::jobs {

struct ChunkUsage {
  io::ChunkName name;
  meta::FileRecord record;  // the chunk file; size 0 once freed
  uint64_t physical_bytes = 0;
  uint64_t live_bytes = 0;
  uint64_t refs = 0;
  // Live extents as (offset within the chunk, length), sorted by offset.
  std::vector<std::pair<uint64_t, uint64_t>> extents;

  bool freed() const { return record.size == 0; }
  bool clone() const { return name.clone; }
  double efficiency() const;
  double max_efficiency() const;
  double fragmentation() const;
  // Below `target` (e.g. 0.9) of its maximum efficiency while something
  // in it is still live: the defragmenter evacuates it.
  bool NeedsDefrag(double target) const;
};

struct ContainerUsage {
  uint64_t sin = 0;
  std::map<uint32_t, ChunkUsage> chunks;
  uint64_t lsize = 0;      // live bytes
  uint64_t psize = 0;      // physical bytes of its chunks
  uint64_t refs = 0;       // packed files pointing into it
  uint64_t filesize = 0;   // bytes written into its chunks (freed ones excluded)
  int64_t created_ns = 0;  // its first chunk's
  std::string protection;  // of its newest chunk
  bool clone = false;      // a clone store

  uint32_t next_chunk() const { return chunks.empty() ? 0 : chunks.rbegin()->first + 1; }
  double efficiency() const;
  double fragmentation() const;
};

class ContainerInventory {
 public:
  // Scans every record of `metadata`; `visit` (optional) also sees each
  // record that is not a container chunk, for callers that scan once.
  static Result<ContainerInventory> Take(
      meta::MetadataStore& metadata,
      const std::function<void(const meta::FileRecord&)>& visit = nullptr);

  void Add(const meta::FileRecord& record);
  // Sums the containers from what was added. Call once, after the last Add.
  void Finish();

  const std::map<uint64_t, ContainerUsage>& containers() const { return containers_; }
  // Packed files whose chunk does not exist (should be none).
  uint64_t dangling_refs() const { return dangling_refs_; }
  // Whether a native file's record names `object_id`: a clone store left by
  // sharing that was cut short still shares that file's pieces.
  bool NativeFileOwns(uint64_t object_id) const { return native_objects_.count(object_id) > 0; }

 private:
  struct Ref {
    meta::ContainerExtent extent;
    uint64_t length = 0;
  };
  std::map<uint64_t, ContainerUsage> containers_;
  std::map<uint64_t, std::vector<Ref>> refs_;  // by SIN, until Finish
  uint64_t dangling_refs_ = 0;
  std::set<uint64_t> native_objects_;
};

}  // namespace tessera::jobs
