// Writes one piece of a stored file again, in place, with the bytes it
// should hold: read repair (a read found a copy or unit that failed its
// checksums) and MediaScan (a scan found one bad or missing).
//
// The piece keeps its id and its drive; the drive's old record of it goes
// first (a drive holds one live piece per id). It is written only while
// its object is live, checked before and after the write: the file still
// has `record`'s placement, or a clone or snapshot handed the pieces to a
// clone store. A piece of content a client replaced or deleted is not
// brought back, and one written while it was replaced is deleted again.
// A write that fails deletes what it may have left.
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

// Whether `record`'s pieces are still live: the file keeps that placement,
// or a clone or snapshot handed them, unchanged, to a clone store, which
// owns them now (io/clone_store.h). A clone store that took them and whose
// source was then rewritten is not found: false. NotFound is an answer
// (deleted: false), other errors are errors.
Result<bool> PiecesStillLive(meta::MetadataStore& metadata, const meta::FileRecord& record);

// true: the piece holds `bytes` and is durable. false: the object is no
// longer live (the file was rewritten, packed, rebuilt elsewhere or
// deleted), nothing of this call stays written. Errors: the drive refused
// the write or the sync (the piece is then missing), or a record could not
// be read.
Result<bool> RewritePiece(PieceStore& store, meta::MetadataStore& metadata,
                          const meta::FileRecord& record, const PieceInfo& piece,
                          std::span<const uint8_t> bytes);

}  // namespace tessera::io
