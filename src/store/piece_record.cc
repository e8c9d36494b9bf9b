#include "store/piece_record.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "common/coding.h"
#include "common/crc32c.h"

namespace tessera::store {

namespace {

constexpr size_t kCrcFieldOffset = 4;

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08" PRIx32, v);
  return buf;
}

uint32_t ComputeHeaderCrc(std::span<const uint8_t> prefix) {
  uint8_t header[kRecordHeaderSize];
  std::memcpy(header, prefix.data(), kRecordHeaderSize);
  PutLE32(header + kCrcFieldOffset, 0);
  uint32_t crc = Crc32c(header, kRecordHeaderSize);
  return Crc32cExtend(crc, prefix.data() + kRecordHeaderSize, prefix.size() - kRecordHeaderSize);
}

}  // namespace

std::vector<uint8_t> EncodeRecordPrefix(const PieceId& id, std::span<const uint8_t> payload) {
  const uint64_t length = payload.size();
  const uint64_t blocks = RecordBlockCount(length);
  std::vector<uint8_t> prefix(RecordPrefixSize(length));
  uint8_t* p = prefix.data();
  PutLE32(p + 0, kRecordMagic);
  PutLE32(p + 4, 0);
  PutLE64(p + 8, id.object);
  PutLE32(p + 16, id.index);
  PutLE32(p + 20, 0);
  PutLE64(p + 24, length);
  for (uint64_t b = 0; b < blocks; ++b) {
    uint64_t begin = b * kBlockSize;
    uint64_t size = std::min<uint64_t>(kBlockSize, length - begin);
    PutLE32(p + kRecordHeaderSize + 4 * b, Crc32c(payload.data() + begin, size));
  }
  PutLE32(p + kCrcFieldOffset, ComputeHeaderCrc(prefix));
  return prefix;
}

Status DecodeRecordHeader(std::span<const uint8_t> header, RecordHeader* out) {
  if (header.size() < kRecordHeaderSize) {
    return Status::Corruption("record header truncated to " + std::to_string(header.size()) +
                              " bytes");
  }
  const uint8_t* p = header.data();
  uint32_t magic = GetLE32(p);
  if (magic != kRecordMagic) return Status::Corruption("bad record magic " + Hex32(magic));
  out->id.object = GetLE64(p + 8);
  out->id.index = GetLE32(p + 16);
  out->flags = GetLE32(p + 20);
  out->length = GetLE64(p + 24);
  // Flags and length are checked again by the header CRC; checking them first
  // keeps a damaged length from sizing the CRC array read.
  if (out->flags != 0) return Status::Corruption("unknown record flags " + Hex32(out->flags));
  if (out->length > kMaxPieceLength) {
    return Status::Corruption("record length " + std::to_string(out->length) +
                              " exceeds the maximum piece length");
  }
  return Status::Ok();
}

Status VerifyRecordPrefix(std::span<const uint8_t> prefix) {
  if (prefix.size() < kRecordHeaderSize || (prefix.size() - kRecordHeaderSize) % 4 != 0) {
    return Status::Corruption("record prefix has an impossible size " +
                              std::to_string(prefix.size()));
  }
  uint32_t stored = GetLE32(prefix.data() + kCrcFieldOffset);
  uint32_t computed = ComputeHeaderCrc(prefix);
  if (stored != computed) {
    return Status::Corruption("record header fails its CRC32C (stored " + Hex32(stored) +
                              ", computed " + Hex32(computed) + ")");
  }
  return Status::Ok();
}

Status VerifyRecordPayload(std::span<const uint8_t> prefix, std::span<const uint8_t> payload) {
  const uint64_t length = payload.size();
  const uint64_t blocks = RecordBlockCount(length);
  if (prefix.size() != RecordPrefixSize(length)) {
    return Status::Corruption("record has " +
                              std::to_string((prefix.size() - kRecordHeaderSize) / 4) +
                              " block CRCs for " + std::to_string(blocks) + " blocks");
  }
  for (uint64_t b = 0; b < blocks; ++b) {
    uint64_t begin = b * kBlockSize;
    uint64_t size = std::min<uint64_t>(kBlockSize, length - begin);
    uint32_t stored = GetLE32(prefix.data() + kRecordHeaderSize + 4 * b);
    uint32_t computed = Crc32c(payload.data() + begin, size);
    if (stored != computed) {
      return Status::Corruption("block " + std::to_string(b) + " of " + std::to_string(blocks) +
                                " (payload bytes " + std::to_string(begin) + ".." +
                                std::to_string(begin + size) + ") fails its CRC32C (stored " +
                                Hex32(stored) + ", computed " + Hex32(computed) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace tessera::store
