// Clones and snapshots: files that share their stored bytes until either
// side is written (io/shadow_store.h has the clone store's layout).
//
// Sharing a native file hands its pieces, unchanged, to a clone store: a
// record in `_sstore` that takes the file's object id, geometry and drives;
// then the file's record becomes a reference to the store, by a
// compare-and-swap on its object id (a client that rewrote the file first
// wins and nothing is shared). From then on the store's record alone owns
// the pieces: FlexProtect rebuilds them there, and ShadowStoreDelete frees
// them once no file refers to the store. A packed or cloned file is already
// in a shadow store, and an empty file has no pieces: they are shared as
// they are. A clone is a new record with the source's reference; writing or
// deleting either side replaces or removes only that side's record, so
// deleting a source never breaks a clone.
//
// A snapshot is a named set of files taken at one moment, kept as shared
// records in the reserved namespace `_snap` under "<name>/<ns>/<path>".
// Taking one shares every member, reads them all again and retries if any
// changed meanwhile: object ids are never reused, so a second read that
// finds every id unchanged proves all of them held at one moment between
// the reads (a consistency group). Any member can be cloned from it
// (`_snap/<name>/<ns>/<path>` as a clone's source).
//
// Thread-safe over thread-safe stores. Errors: NotFound (no such file or
// snapshot), AlreadyExists (a snapshot of that name), InvalidArgument (a
// bad name), FailedPrecondition (files kept changing while being shared).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "io/piece_store.h"
#include "meta/metadata_store.h"

namespace tessera::io {

inline constexpr std::string_view kSnapshotNamespace = "_snap";

using ObjectIdFn = std::function<Result<uint64_t>()>;

// The record of ns/path once shared (see above).
Result<meta::FileRecord> ShareFile(meta::MetadataStore& metadata, const std::string& ns,
                                   const std::string& path, const ObjectIdFn& new_object_id,
                                   int64_t now_ns);

struct CloneResult {
  meta::FileRecord clone;
  std::optional<meta::FileRecord> replaced;  // what `to` was before, if anything
};
// Creates or replaces to_ns/to_path as a clone of from_ns/from_path (a
// snapshot member: from_ns "_snap", from_path "<name>/<ns>/<path>"). A
// replaced file's own pieces are freed.
Result<CloneResult> CloneFile(PieceStore& pieces, meta::MetadataStore& metadata,
                              const std::string& from_ns, const std::string& from_path,
                              const std::string& to_ns, const std::string& to_path,
                              const ObjectIdFn& new_object_id, int64_t now_ns);

struct SnapshotInfo {
  std::string name;
  uint64_t files = 0;
  uint64_t bytes = 0;
  int64_t created_ns = 0;
};
// 1..64 of A-Z a-z 0-9 . _ - (not "." or "..").
Status ValidateSnapshotName(std::string_view name);
// `files`: (namespace, path) pairs, at least one, each at most once.
Result<SnapshotInfo> CreateSnapshot(meta::MetadataStore& metadata, const std::string& name,
                                    const std::vector<std::pair<std::string, std::string>>& files,
                                    const ObjectIdFn& new_object_id, int64_t now_ns);
Result<std::vector<SnapshotInfo>> ListSnapshots(meta::MetadataStore& metadata);
// The files of snapshot `name`, as "<ns>/<path>" with their records.
Result<std::vector<meta::FileRecord>> SnapshotFiles(meta::MetadataStore& metadata,
                                                    const std::string& name);
// Removes the snapshot's records (the shared bytes stay while a file or a
// clone refers to them). Returns how many files it had; NotFound if none.
Result<uint64_t> DeleteSnapshot(meta::MetadataStore& metadata, const std::string& name);

}  // namespace tessera::io
