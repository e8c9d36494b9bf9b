// The piece record: how one piece is laid out inside a segment file.
//
// Records sit back to back with no padding. All integers little-endian:
//
//   offset      size       field
//   0           4          magic, the bytes "TSP1"
//   4           4          header_crc: CRC32C of bytes [0, 32) with this field
//                          zeroed, extended over the block CRC array
//   8           8          object
//   16          4          index
//   20          4          flags, 0 (no flag is defined in TSP1)
//   24          8          length of the payload in bytes
//   32          4 * n      CRC32C of each 8 KiB payload block, n = ceil(length / 8192)
//   32 + 4n     length     payload
//
// The header CRC covers the block CRC array so that a record whose header
// verifies can be trusted to say where the next record starts, and a block
// whose CRC verifies can be trusted as payload. A length-0 piece has no blocks.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "common/units.h"
#include "store/piece_id.h"

namespace tessera::store {

inline constexpr uint32_t kRecordMagic = 0x31505354;  // "TSP1" read as a little-endian u32
inline constexpr uint64_t kRecordHeaderSize = 32;
// Far above any stripe unit; bounds what a damaged length field can make a reader allocate.
inline constexpr uint64_t kMaxPieceLength = 1ull << 30;

inline uint64_t RecordBlockCount(uint64_t length) { return (length + kBlockSize - 1) / kBlockSize; }
// Header plus block CRC array: everything before the payload.
inline uint64_t RecordPrefixSize(uint64_t length) {
  return kRecordHeaderSize + 4 * RecordBlockCount(length);
}
inline uint64_t RecordSize(uint64_t length) { return RecordPrefixSize(length) + length; }

struct RecordHeader {
  PieceId id;
  uint32_t flags = 0;
  uint64_t length = 0;
};

// Header and block CRC array for `payload`: RecordPrefixSize(payload.size()) bytes.
std::vector<uint8_t> EncodeRecordPrefix(const PieceId& id, std::span<const uint8_t> payload);

// Parses the fixed 32-byte header, checking magic, flags and the length bound.
// The header CRC needs the block CRC array: see VerifyRecordPrefix. Corruption.
Status DecodeRecordHeader(std::span<const uint8_t> header, RecordHeader* out);

// Checks header_crc over `prefix` (the header and the whole block CRC array).
Status VerifyRecordPrefix(std::span<const uint8_t> prefix);

// Checks every payload block against the CRC array in `prefix` (already
// verified). Corruption names the first bad block: "block 2 of 17 ...".
Status VerifyRecordPayload(std::span<const uint8_t> prefix, std::span<const uint8_t> payload);

}  // namespace tessera::store
