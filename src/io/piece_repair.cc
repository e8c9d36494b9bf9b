#include "io/piece_repair.h"

namespace tessera::io {
namespace {

// Whether the file at record's name still has its placement; NotFound is
// an answer (deleted), other errors are not.
Result<bool> StillPlaced(meta::MetadataStore& metadata, const meta::FileRecord& record) {
  Result<meta::FileRecord> current = metadata.Get(record.ns, record.path);
  if (current.status().code() == StatusCode::kNotFound) return false;
  if (!current.ok()) return current.status();
  return SamePlacement(*current, record);
}

}  // namespace

bool SamePlacement(const meta::FileRecord& a, const meta::FileRecord& b) {
  return a.object_id == b.object_id && a.packed == b.packed && a.geometry == b.geometry &&
         a.drives == b.drives;
}

Result<bool> RewritePiece(PieceStore& store, meta::MetadataStore& metadata,
                          const meta::FileRecord& record, const PieceInfo& piece,
                          std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(bool placed, StillPlaced(metadata, record));
  if (!placed) return false;
  RETURN_IF_ERROR(store.Delete(piece.drive, piece.id));
  RETURN_IF_ERROR(store.Append(piece.drive, piece.id, bytes));
  RETURN_IF_ERROR(store.Sync({piece.drive}));
  // Replaced meanwhile, its old pieces freed already: this one belongs to
  // nothing. (An error here leaves it: a piece of a live file must not be
  // deleted on a guess.)
  ASSIGN_OR_RETURN(placed, StillPlaced(metadata, record));
  if (!placed) {
    (void)store.Delete(piece.drive, piece.id);
    return false;
  }
  return true;
}

}  // namespace tessera::io
