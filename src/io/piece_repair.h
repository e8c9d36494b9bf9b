// Writes one piece of a stored file again, in place, with the bytes it
// should hold: read repair (a read found a copy or unit that failed its
// checksums) and MediaScan (a scan found one bad or missing).
//
// The piece keeps its id and its drive; the drive's old record of it goes
// first (a drive holds one live piece per id). It is written only while
// the file still has `record`'s placement, checked before and after the
// write: a piece of content a client replaced or deleted is not brought
// back, and one written while it was replaced is deleted again.
//
// Threading: as safe as the stores it is given.
#pragma once

#include <cstdint>
#include <span>

#include "common/status.h"
#include "io/piece_map.h"
#include "io/piece_store.h"
#include "meta/file_record.h"
#include "meta/metadata_store.h"

namespace tessera::io {

// Whether `a` and `b` name the same pieces on the same drives.
bool SamePlacement(const meta::FileRecord& a, const meta::FileRecord& b);

// true: the piece holds `bytes` and is durable. false: the file moved on
// (rewritten, packed, rebuilt elsewhere or deleted), nothing of this call
// stays written. Errors: the drive refused the write or the sync, or the
// record could not be read.
Result<bool> RewritePiece(PieceStore& store, meta::MetadataStore& metadata,
                          const meta::FileRecord& record, const PieceInfo& piece,
                          std::span<const uint8_t> bytes);

}  // namespace tessera::io
