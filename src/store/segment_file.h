// Segment files: segments/NNNNNNNN.seg, append-only containers of piece records.
//
// A SegmentFile owns one open descriptor. Holders share it through
// shared_ptr, so a compaction that unlinks the file never breaks a read in
// flight: the inode lives until the last holder lets go. The class does no
// locking; positional I/O on distinct ranges is safe from any thread, and the
// Drive decides who writes which range.
//
// ReadRecord and ScanSegment apply the record format (piece_record.h) to a file.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/piece_record.h"

namespace tessera::store {

class SegmentFile {
 public:
  // "00000042.seg" for 42, and back. nullopt for any other name.
  static std::string FileName(uint32_t id);
  static std::optional<uint32_t> ParseFileName(std::string_view name);

  // Creates a new empty segment (fails if the file exists) and makes its
  // directory entry durable, so data fdatasynced into it later survives a crash.
  static Result<std::shared_ptr<SegmentFile>> Create(const std::string& dir, uint32_t id);
  static Result<std::shared_ptr<SegmentFile>> Open(const std::string& dir, uint32_t id);

  ~SegmentFile();
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  uint32_t id() const { return id_; }
  const std::string& path() const { return path_; }

  // Writes every byte of `iov` starting at `offset`.
  Status WriteAt(uint64_t offset, std::span<const iovec> iov) const;
  // Fills `iov` from `offset`; returns how many bytes were read (fewer only at end of file).
  Result<uint64_t> ReadAt(uint64_t offset, std::span<const iovec> iov) const;
  Status DataSync() const;
  // IOError if the file was unlinked while open (its directory removed):
  // what is written to it is lost when it is closed, synced or not.
  Status CheckLinked() const;
  Status Truncate(uint64_t size) const;
  Result<uint64_t> Size() const;

 private:
  SegmentFile(uint32_t id, std::string path, int fd) : id_(id), path_(std::move(path)), fd_(fd) {}

  const uint32_t id_;
  const std::string path_;
  const int fd_;
};

// Reads the record at `offset` that the index says holds `id` with a payload
// of `length` bytes, in one preadv, and verifies header and every block.
// Corruption says what failed (the caller adds drive, piece and location).
Status ReadRecord(const SegmentFile& file, uint64_t offset, const PieceId& id, uint64_t length,
                  std::vector<uint8_t>* prefix, std::vector<uint8_t>* payload);

struct ScannedRecord {
  uint64_t offset = 0;
  RecordHeader header;
  // False if the framing is intact (header verifies, record fully present)
  // but a payload block fails its CRC: the record is skipped, not indexed.
  bool payload_ok = true;
  std::string payload_error;
};

struct ScanResult {
  // Where the first record that cannot be framed starts, or `end`.
  uint64_t valid_end = 0;
  // Why scanning stopped before `end`; empty when it reached `end`.
  std::string stop_reason;
};

// Walks the records in [start, end) of `file`, calling `fn` for each framed
// record. Stops at the first record whose header fails (magic, flags, length,
// CRC) or that extends past `end`: a torn tail. `start` must be a record boundary.
Result<ScanResult> ScanSegment(const SegmentFile& file, uint64_t start, uint64_t end,
                               const std::function<void(const ScannedRecord&)>& fn);

}  // namespace tessera::store
