#include "store/piece_id.h"

#include <cinttypes>
#include <cstdio>

namespace tessera::store {

std::string PieceId::ToString() const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64 ".%" PRIu32, object, index);
  return buf;
}

}  // namespace tessera::store
