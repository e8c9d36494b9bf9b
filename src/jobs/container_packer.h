// ContainerPacker: copies files into container chunks and switches their
// records to the copies (io/shadow_store.h). Used to pack native files
// (SmartPools), repack packed ones (SmartPools, on a protection change) and
// evacuate fragmented chunks (the defragmenter in ShadowStoreDelete).
//
// Add() reads a file whole (it is at most one chunk), checks it against
// the record's CRC32C and appends it to the open chunk; a file that does not
// fit first closes the chunk. Closing a chunk writes it (FileWriter: erasure
// coded like any file of its size), commits its record in `_sstore`, then
// switches every file in it with ReplacePlacement against the object id the
// file had when it was read, so a file a client rewrote or deleted
// meanwhile is left alone (its copy becomes a hole). After a switch, a
// native file's pieces are freed; a packed file's old extent becomes a hole
// for the defragmenter. A crash at any point leaves every file readable:
// either its old record stands or its new one, whose chunk is durable first.
//
// Chunks fill the open container up to `container_max_size` (at most 32
// chunks); then a new container (a fresh SIN) is opened.
//
// Not thread-safe: one packer per job run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/file_writer.h"
#include "io/piece_store.h"
#include "io/shadow_store.h"
#include "layout/protection_policy.h"
#include "meta/metadata_store.h"

namespace tessera::jobs {

enum class MoveOutcome {
  kMoved,          // the record now points at the copy
  kRaced,          // a client rewrote or deleted the file first; nothing changed
  kUnreadable,     // the file could not be read or failed its checksum; left as it was
  kIndeterminate,  // the switch may or may not have committed; both copies are kept
  kFailed,         // the switch failed; the file is as it was
};
std::string_view MoveOutcomeName(MoveOutcome outcome);

// A container new chunks may be appended to.
struct OpenContainer {
  uint64_t sin = 0;
  uint32_t next_chunk = 0;  // one past the highest chunk number it ever had
  uint64_t bytes = 0;       // bytes in its chunks so far
};

class ContainerPacker {
 public:
  struct Options {
    layout::ProtectionPolicy protection;  // what new chunks are written under
    uint64_t container_max_size = 1ull << 30;
    std::optional<OpenContainer> append_to;  // else the first chunk opens a new container
  };
  using ObjectIdFn = std::function<Result<uint64_t>()>;
  // Told of every file's outcome, in the order its chunk was closed.
  // `packed` is the record as committed (kMoved) or as it was.
  using OutcomeFn =
      std::function<void(const meta::FileRecord& file, MoveOutcome outcome, const Status& why)>;

  // All borrowed; they outlive the packer.
  ContainerPacker(io::PieceStore& pieces, meta::MetadataStore& metadata, Options options,
                  ObjectIdFn new_object_id, OutcomeFn on_outcome);
  ~ContainerPacker();  // aborts an unclosed chunk: nothing of it stays

  // `file` with the attributes it should have once packed. An error (a
  // chunk could not be written or committed) stops the packer; the files
  // of that chunk are reported kFailed.
  Status Add(meta::FileRecord file);
  // Closes the open chunk, if any.
  Status Flush();

  uint64_t chunks_written() const { return chunks_written_; }
  uint64_t bytes_packed() const { return bytes_packed_; }

 private:
  struct Pending {
    meta::FileRecord file;  // as read, with the wanted attributes
    uint64_t offset = 0;    // within the chunk
  };
  Status OpenChunk();
  uint64_t ChunkCapacity() const;

  io::PieceStore& pieces_;
  meta::MetadataStore& metadata_;
  Options options_;
  ObjectIdFn new_object_id_;
  OutcomeFn on_outcome_;
  std::optional<OpenContainer> container_;
  std::unique_ptr<io::FileWriter> writer_;  // the open chunk, if any
  uint64_t chunk_object_id_ = 0;
  uint64_t chunk_bytes_ = 0;
  std::vector<Pending> pending_;
  uint64_t chunks_written_ = 0;
  uint64_t bytes_packed_ = 0;
};

}  // namespace tessera::jobs
