// A drive: one directory (or a disk mounted at one) holding pieces.
//
// On-disk (see docs/formats.md): an identity file, large append-only segment
// files holding checksummed piece records back to back, and a piece index
// (RocksDB) mapping PieceId -> (segment, offset, length). Never one OS file
// per piece. Every 8 KiB block of a piece carries a CRC32C; a read never
// returns bytes that fail it.
//
// Durability: Append() makes a piece readable; it is durable once Sync()
// returns (one fdatasync serves every Append that returned before the Sync
// started: group commit). After a crash, Open() recovers every synced piece
// and drops a torn tail; an unsynced piece may or may not survive, but is
// never returned with bad bytes. Delete() is not synced by itself: a deleted
// piece can reappear after a crash, which only costs space (the file
// metadata, not the drive, says what is live). If an fdatasync ever fails,
// the drive refuses further writes (reads go on): the page cache no longer
// tells what reached the disk.
//
// Space: Compact() rewrites the live pieces of mostly-dead sealed segments
// into the active segment and removes those segments. Readers are never
// blocked; a read racing a compaction sees the old or new copy, both valid.
//
// Threading: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/piece_id.h"

namespace tessera::store {

struct DriveIdentity {
  std::string cluster_guid;  // the cluster the drive belongs to
  uint64_t array_id = 0;     // the node that owns it
  uint32_t lnum = 0;         // its number within that node; never reused
  std::string serial;        // synthetic, e.g. "TSR-3F9A0C21B7"
  std::string wwn;           // synthetic, e.g. "0x5000c5003f9a0c21"
};

struct DriveOptions {
  uint64_t segment_size = 64ull << 20;  // a segment is sealed past this size
  // Sealed segments whose dead bytes exceed this fraction are compacted.
  double compact_dead_ratio = 0.5;
  // Reserve kept free on the filesystem; Append fails with NoSpace below it.
  uint64_t reserved_bytes = 64ull << 20;
};

struct DriveUsage {
  uint64_t fs_total_bytes = 0;  // size of the filesystem the drive sits on
  uint64_t fs_free_bytes = 0;   // free space on that filesystem
  uint64_t writable_bytes = 0;  // what new pieces may take: free space past the reserve,
                                // 0 once the drive failed
  uint64_t segment_bytes = 0;   // bytes in segment files (what du counts)
  uint64_t live_bytes = 0;      // bytes of live piece payloads
  uint64_t piece_count = 0;     // live pieces
  uint64_t segment_count = 0;
  // Group commit at work: Sync() calls since Open, and the fdatasync rounds
  // that served them (one round covers every caller waiting when it starts).
  uint64_t sync_calls = 0;
  uint64_t sync_rounds = 0;
};

struct CompactionStats {
  uint64_t segments_removed = 0;
  uint64_t pieces_moved = 0;
  uint64_t bytes_moved = 0;
  uint64_t bytes_reclaimed = 0;
};

class Drive {
 public:
  // Opens the drive at `path`, creating and formatting it when the directory
  // is missing or empty (then `identity_if_new` is written as its identity,
  // with serial and WWN generated when empty; its cluster_guid and array_id
  // must be empty/0 or equal the arguments). An existing drive must belong
  // to `cluster_guid` and `array_id`, else FailedPrecondition naming the
  // cluster and node it belongs to. A non-empty directory without an
  // identity is refused, never formatted. Recovers after a crash as
  // described above. Only one Drive may have a path open at a time.
  // Destroying a Drive syncs it; callers must have stopped calling it.
  static Result<std::unique_ptr<Drive>> Open(const std::string& path,
                                             const std::string& cluster_guid, uint64_t array_id,
                                             const DriveIdentity& identity_if_new,
                                             const DriveOptions& options = {});
  ~Drive();

  const DriveIdentity& identity() const;
  const std::string& path() const;

  // Stores a piece. AlreadyExists if `id` is live; NoSpace when the write would
  // leave less than reserved_bytes free; TooLarge past 1 GiB.
  Status Append(const PieceId& id, std::span<const uint8_t> bytes);
  // Returns once every Append that returned before this call is durable.
  Status Sync();
  // The whole piece, every block checked. NotFound, or Corruption naming the block.
  Result<std::vector<uint8_t>> Read(const PieceId& id);
  // Length of a live piece without reading it. NotFound.
  Result<uint64_t> PieceLength(const PieceId& id);
  // Forgets a piece; its space returns at compaction. NotFound if absent.
  Status Delete(const PieceId& id);
  // Every live piece id (for scrubbing and tests), in order.
  std::vector<PieceId> ListPieces();

  DriveUsage Usage();
  // OK while the drive takes writes; once an fdatasync failed, a synced
  // segment turned out removed, or no segment can be created for want of
  // the segments directory, why it stopped (reads go on).
  Status failure() const;
  // One compaction pass over sealed segments above the dead ratio. May use
  // the reserve Append may not (it is how a full drive gets space back).
  // `full`: every segment with any dead bytes, the active one included (it
  // is sealed first, unless a write is in flight in it; new pieces then go
  // to a new segment): what an operator asks for after freeing much at
  // once, so that the space shows at once.
  Result<CompactionStats> Compact(bool full = false);

 private:
  class Impl;
  explicit Drive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::store
