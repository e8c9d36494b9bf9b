// The piece index: a RocksDB database in <drive>/index mapping each live
// PieceId to where its record sits, plus two marks per segment.
//
// Keys (big-endian, so RocksDB's bytewise order is numeric order) and values
// (little-endian):
//   'p' object:8 index:4  ->  segment:4 offset:8 length:8   a live piece
//   's' segment:4         ->  offset:8   watermark: every record below it has
//                                        been indexed (or was deliberately left out)
//   'd' segment:4         ->  offset:8   durable mark: bytes below it were fdatasynced
//   'c' segment:4 offset:8 -> end:8      copy range: the records in [offset, end)
//                                        are a compaction's copies, which only
//                                        its switch may index, never a rescan
//
// The index is not the source of truth for piece bytes, the segments are:
// writes go through the WAL without fsync, and Open() repairs what a crash
// lost by scanning segments past their marks. Thread-safe (RocksDB is); the
// Drive serializes read-modify-write sequences itself.
#pragma once

#include <rocksdb/write_batch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/piece_id.h"

namespace rocksdb {
class DB;
}

namespace tessera::store {

struct PieceLocation {
  uint32_t segment = 0;
  uint64_t offset = 0;  // of the record header within the segment file
  uint64_t length = 0;  // of the payload
  friend bool operator==(const PieceLocation&, const PieceLocation&) = default;
};

class PieceIndex {
 public:
  // Atomic group of index updates.
  class Batch {
   public:
    void Put(const PieceId& id, const PieceLocation& loc);
    void Delete(const PieceId& id);
    void SetWatermark(uint32_t segment, uint64_t offset);
    void SetDurable(uint32_t segment, uint64_t offset);
    void DeleteSegmentMarks(uint32_t segment);
    void SetCopyRange(uint32_t segment, uint64_t offset, uint64_t end);
    void DeleteCopyRange(uint32_t segment, uint64_t offset);
    bool empty() const { return batch_.Count() == 0; }
    void Clear() { batch_.Clear(); }

   private:
    friend class PieceIndex;
    rocksdb::WriteBatch batch_;
  };

  // Opens (creating if missing) the database in `dir`.
  static Result<std::unique_ptr<PieceIndex>> Open(const std::string& dir);
  ~PieceIndex();

  // nullopt when the piece is not indexed.
  Result<std::optional<PieceLocation>> Get(const PieceId& id) const;
  // sync=false leaves the batch in the OS page cache: it survives a process
  // crash but not a power loss. sync=true also makes every earlier write durable.
  Status Write(Batch* batch, bool sync);

  // Visits every indexed piece in PieceId order (a consistent snapshot).
  Status ForEachPiece(const std::function<void(const PieceId&, const PieceLocation&)>& fn) const;
  // Every watermark / durable mark, by segment.
  Result<std::map<uint32_t, uint64_t>> Watermarks() const;
  Result<std::map<uint32_t, uint64_t>> DurableMarks() const;
  // Every copy range: segment -> (offset -> end).
  using CopyRangeMap = std::map<uint32_t, std::map<uint64_t, uint64_t>>;
  Result<CopyRangeMap> CopyRanges() const;

 private:
  PieceIndex(std::string dir, std::unique_ptr<rocksdb::DB> db);
  Result<std::map<uint32_t, uint64_t>> ReadMarks(char kind) const;

  const std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace tessera::store
