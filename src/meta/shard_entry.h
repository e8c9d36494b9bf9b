// One write to a metadata shard, as the shard's primary orders it and its
// replicas apply it: a file record stored or a path removed, at a version.
//
// A version is (epoch, seq): the group epoch of the shard map under which the
// primary ordered the write, and its position in that primary's sequence.
// Versions order lexicographically, so a later primary's writes always sort
// after an earlier one's. {0, 0} is "nothing applied yet". Value types.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "meta/file_record.h"

namespace tessera::meta {

struct LogVersion {
  int64_t epoch = 0;
  uint64_t seq = 0;
  auto operator<=>(const LogVersion&) const = default;
  std::string ToString() const;  // "57.1203"
};

struct ShardEntry {
  LogVersion version;
  bool remove = false;  // true: record.ns/record.path is removed; other fields unused
  FileRecord record;
  friend bool operator==(const ShardEntry&, const ShardEntry&) = default;
};

std::string EncodeShardEntry(const ShardEntry& entry);
// Corruption if the bytes are not an encoded entry.
Result<ShardEntry> DecodeShardEntry(std::string_view bytes);

// 16 bytes, big-endian, so that bytewise order is version order.
std::string EncodeLogVersion(LogVersion version);
Result<LogVersion> DecodeLogVersion(std::string_view bytes);

}  // namespace tessera::meta
