// Reads a stored file's bytes back, stripe by stripe, in order.
//
// Mirrored units come from the first copy that reads back intact, a copy
// on this node first. A range of a striped file reads only the data units
// it covers; units that are missing, on a down drive or fail their
// checksums are rebuilt from any k surviving units of their stripe, and the
// read fails only when more than m units of one stripe are lost. Memory
// stays at one stripe.
//
// Not thread-safe: one reader per request; many readers may share a store.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/status.h"
#include "io/piece_map.h"
#include "io/piece_store.h"
#include "meta/file_record.h"

namespace tessera::io {

// Receives consecutive slices of the file; a non-OK return stops the read.
using ByteSink = std::function<Status(std::span<const uint8_t>)>;

class FileReader {
 public:
  FileReader(PieceStore& store, const meta::FileRecord& record);

  // Delivers bytes [offset, offset + length) to `sink`. InvalidArgument if
  // the range passes the end of the file.
  Status Read(uint64_t offset, uint64_t length, const ByteSink& sink);

  // Units that had to be rebuilt or read from another copy so far.
  uint64_t degraded_units() const { return degraded_units_; }

  // A piece that failed its checksums, with the bytes it should hold (from
  // another copy, or rebuilt): the caller may write it back (read repair).
  struct Repair {
    PieceInfo piece;
    std::vector<uint8_t> bytes;
  };
  // The repairs found so far (at most kMaxRepairs per reader), handed over.
  std::vector<Repair> TakeRepairs() { return std::move(repairs_); }
  static constexpr size_t kMaxRepairs = 16;

 private:
  void NoteRepair(const PieceInfo& piece, const Status& why, const std::vector<uint8_t>& bytes);
  Result<std::vector<uint8_t>> ReadMirrorUnit(uint64_t unit);
  Result<std::vector<uint8_t>> ReadStripeData(uint64_t stripe);
  // Bytes [from, to) of a stripe's data: only the data units they cover,
  // the whole stripe (rebuilt) when one of those fails.
  Result<std::vector<uint8_t>> ReadStripeRange(uint64_t stripe, uint64_t from, uint64_t to);

  PieceStore& store_;
  const meta::FileRecord& record_;
  uint64_t degraded_units_ = 0;
  std::vector<Repair> repairs_;
};

}  // namespace tessera::io
