// Streams one file's bytes into protected pieces.
//
// The first 128 KiB are buffered to decide: a file that ends before one
// stripe unit is mirrored; a longer one is striped k+m as wide as the
// topology allows (or mirrored unit by unit when the policy says so). Memory
// stays at one stripe (at most 16 x 128 KiB data + 4 x 128 KiB parity)
// whatever the file's size. Finish() makes every piece durable; the caller
// then commits the file record. Until then the pieces are invisible, and
// Abort() frees them.
//
// Not thread-safe: one writer per upload.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "common/sha256.h"
#include "common/status.h"
#include "ec/reed_solomon.h"
#include "io/piece_store.h"
#include "layout/geometry.h"
#include "layout/protection_policy.h"
#include "meta/file_record.h"

namespace tessera::io {

struct WrittenFile {
  uint64_t size = 0;
  uint32_t crc32c = 0;
  std::string sha256;  // hex
  layout::Geometry geometry;
  std::vector<meta::DriveRef> drives;

  // The record that commits this content as ns/path: its size, checksums
  // and placement under `object_id` and `protection`, created and modified
  // at `now_ns`.
  meta::FileRecord Record(std::string ns, std::string path, uint64_t object_id,
                          std::string protection, int64_t now_ns) const;
};

class FileWriter {
 public:
  FileWriter(PieceStore& store, const layout::ProtectionPolicy& policy, uint64_t object_id);
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  Status Write(std::span<const uint8_t> bytes);
  // Writes what is buffered and syncs every drive used.
  Result<WrittenFile> Finish();
  // Deletes every piece written so far. Safe after a failed Write or Finish.
  void Abort();

 private:
  enum class Mode { kUndecided, kMirror, kStripe };

  Status Decide(uint64_t size_so_far, bool final);
  Status FlushFullUnits();
  Status WriteStripe(std::span<const uint8_t> data, bool last);
  Status WriteMirrorUnit(std::span<const uint8_t> data);
  Status AppendPiece(const meta::DriveRef& drive, const store::PieceId& id,
                     std::span<const uint8_t> bytes);
  size_t Buffered() const { return buffer_.size() - buffer_start_; }
  void ConsumeBuffer(size_t n);

  PieceStore& store_;
  layout::ProtectionPolicy policy_;
  uint64_t object_id_;
  Mode mode_ = Mode::kUndecided;
  layout::Geometry geometry_;
  std::vector<meta::DriveRef> drives_;
  const ec::ReedSolomon* codec_ = nullptr;
  std::vector<uint8_t> buffer_;
  size_t buffer_start_ = 0;
  std::vector<std::vector<uint8_t>> parity_;
  uint64_t size_ = 0;
  uint64_t next_unit_ = 0;  // next stripe (striped) or unit (mirrored) to write
  uint32_t crc_ = 0;
  Sha256 sha_;
  std::vector<std::pair<meta::DriveRef, store::PieceId>> written_;
};

// Frees every piece of a stored file (best effort: absent pieces are skipped).
void DeleteFilePieces(PieceStore& store, const meta::FileRecord& record);

}  // namespace tessera::io
