#include "common/crc32c.h"

#include <isa-l/crc.h>

#include <climits>

namespace tessera {

// ISA-L's crc32_iscsi neither pre- nor post-inverts; the standard CRC32C does both.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  uint32_t state = ~crc;
  auto* p = static_cast<unsigned char*>(const_cast<void*>(data));
  while (size > 0) {
    int n = size > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(size);
    state = crc32_iscsi(p, n, state);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return ~state;
}

}  // namespace tessera
