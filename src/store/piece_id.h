// Names one stored piece: a mirror copy or one stripe unit of one object.
// Pieces are immutable: a PieceId is written once and never rewritten, so a
// replacement of an object uses a fresh object id.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace tessera::store {

struct PieceId {
  uint64_t object = 0;  // the stored object (a file version); never reused
  uint32_t index = 0;   // which piece of the object (unit number within the object)

  std::string ToString() const;  // "00000000000000ab.3"
  friend auto operator<=>(const PieceId&, const PieceId&) = default;
};

}  // namespace tessera::store
