// CRC32C (Castagnoli, as iSCSI uses it), computed by ISA-L's crc32_iscsi.
// Pure, thread-safe. Crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tessera {

// Extends `crc` (the value returned for the bytes before) over `data`.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

inline uint32_t Crc32c(const void* data, size_t size) { return Crc32cExtend(0, data, size); }
inline uint32_t Crc32c(std::span<const uint8_t> bytes) {
  return Crc32c(bytes.data(), bytes.size());
}

}  // namespace tessera
