#include "io/piece_repair.h"

#include "io/shadow_store.h"

namespace tessera::io {

Result<bool> PiecesStillLive(meta::MetadataStore& metadata, const meta::FileRecord& record) {
  Result<meta::FileRecord> current = metadata.Get(record.ns, record.path);
  if (current.status().code() == StatusCode::kNotFound) return false;
  if (!current.ok()) return current.status();
  if (SamePlacement(*current, record)) return true;
  if (!current->is_cloned() || record.is_packed()) return false;
  Result<meta::FileRecord> store =
      metadata.Get(std::string(kShadowStoreNamespace), ChunkPath(StoredFileOf(*current->packed)));
  if (store.status().code() == StatusCode::kNotFound) return false;
  if (!store.ok()) return store.status();
  return store->object_id == record.object_id && store->geometry == record.geometry &&
         store->drives == record.drives;
}

bool SamePlacement(const meta::FileRecord& a, const meta::FileRecord& b) {
  return a.object_id == b.object_id && a.packed == b.packed && a.geometry == b.geometry &&
         a.drives == b.drives;
}

Result<bool> RewritePiece(PieceStore& store, meta::MetadataStore& metadata,
                          const meta::FileRecord& record, const PieceInfo& piece,
                          std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(bool live, PiecesStillLive(metadata, record));
  if (!live) return false;
  RETURN_IF_ERROR(store.Delete(piece.drive, piece.id));
  Status written = store.Append(piece.drive, piece.id, bytes);
  if (written.ok()) written = store.Sync({piece.drive});
  if (!written.ok()) {
    // A writer whose append or sync failed deletes the piece: a peer's
    // store counts it lost until then and fails later syncs to the drive.
    (void)store.Delete(piece.drive, piece.id);
    return written;
  }
  // Replaced meanwhile, its old pieces freed already: this one belongs to
  // nothing. (Rarely, the file was cloned and then rewritten: the clone
  // store's piece is then missing until a later scan writes it again.) An
  // error here leaves it: a piece of a live file is not deleted on a guess.
  ASSIGN_OR_RETURN(live, PiecesStillLive(metadata, record));
  if (!live) {
    (void)store.Delete(piece.drive, piece.id);
    return false;
  }
  return true;
}

}  // namespace tessera::io
