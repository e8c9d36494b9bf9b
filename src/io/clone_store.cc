#include "io/clone_store.h"

#include <map>
#include <set>

#include "common/object_name.h"
#include "io/file_writer.h"
#include "io/shadow_store.h"

namespace tessera::io {
namespace {

// How often sharing tries again when a client rewrites the file meanwhile.
constexpr int kShareAttempts = 3;
constexpr size_t kListPage = 1000;

meta::FileRecord Reference(const meta::FileRecord& file, uint64_t object_id,
                           const meta::ContainerExtent& extent) {
  meta::FileRecord ref = file;
  ref.object_id = object_id;
  ref.geometry = {};
  ref.drives.clear();
  ref.packed = extent;
  return ref;
}

// Every record of `ns` under `prefix`, page by page.
Status ForEachUnder(meta::MetadataStore& metadata, const std::string& ns, const std::string& prefix,
                    const std::function<Status(const meta::FileRecord&)>& visit) {
  std::string marker;
  while (true) {
    ASSIGN_OR_RETURN(meta::Listing page, metadata.List(ns, prefix, marker, kListPage));
    for (const meta::FileRecord& r : page.files) RETURN_IF_ERROR(visit(r));
    if (!page.truncated) return Status::Ok();
    marker = page.next_marker;
  }
}

}  // namespace

Result<meta::FileRecord> ShareFile(meta::MetadataStore& metadata, const std::string& ns,
                                   const std::string& path, const ObjectIdFn& new_object_id,
                                   int64_t now_ns) {
  const std::string store_ns(kShadowStoreNamespace);
  for (int attempt = 0; attempt < kShareAttempts; ++attempt) {
    ASSIGN_OR_RETURN(meta::FileRecord file, metadata.Get(ns, path));
    if (file.is_packed() || file.size == 0) return file;
    ASSIGN_OR_RETURN(uint64_t sin, new_object_id());
    ASSIGN_OR_RETURN(uint64_t ref_id, new_object_id());
    meta::FileRecord store = file;  // the same pieces, now the store's
    store.ns = store_ns;
    store.path = ChunkPath({sin, 0, true});
    store.created_ns = store.modified_ns = now_ns;
    store.packing_policy = store.packing_target = meta::PackingPlace::kNative;
    RETURN_IF_ERROR(metadata.Put(store).status());
    const meta::FileRecord ref = Reference(file, ref_id, {sin, 0, true});
    Result<bool> replaced = metadata.ReplacePlacement(ref, file.object_id);
    if (replaced.ok() && *replaced) return ref;
    if (replaced.status().code() == StatusCode::kIndeterminate) {
      // Whether the file now refers to the store decides if the store stays.
      Result<meta::FileRecord> now = metadata.Get(ns, path);
      if (now.ok() && now->object_id == ref_id) return *now;
      if (!now.ok() && now.status().code() != StatusCode::kNotFound) return now.status();
    }
    // Not shared: the pieces stay the file's (or were freed by the client
    // that rewrote it). Only the store's record goes.
    (void)metadata.Delete(store_ns, store.path);
    if (!replaced.ok()) return replaced.status().WithContext("sharing " + ns + "/" + path);
  }
  // Contention, not a bad request: Unavailable (503), as other commits that
  // keep losing a race say, so that clients know to try again.
  return Status::Unavailable(ns + "/" + path +
                             " kept being rewritten while it was being shared; try again");
}

Result<CloneResult> CloneFile(PieceStore& pieces, meta::MetadataStore& metadata,
                              const std::string& from_ns, const std::string& from_path,
                              const std::string& to_ns, const std::string& to_path,
                              const ObjectIdFn& new_object_id, int64_t now_ns) {
  // A container chunk or clone store shared again would hand its pieces to
  // a store only the clone refers to, stranding every file packed in it.
  if (from_ns == kShadowStoreNamespace) {
    return Status::InvalidArgument("cannot clone " + from_ns + "/" + from_path + ": namespace " +
                                   from_ns + " is the cluster's own");
  }
  ASSIGN_OR_RETURN(meta::FileRecord shared,
                   ShareFile(metadata, from_ns, from_path, new_object_id, now_ns));
  meta::FileRecord clone = shared;
  clone.ns = to_ns;
  clone.path = to_path;
  ASSIGN_OR_RETURN(clone.object_id, new_object_id());
  clone.created_ns = clone.modified_ns = now_ns;
  // A clone of a packed file shares its container extent; SmartPools
  // decides about it by the clone's own policy.
  clone.packing_policy = clone.packing_target = meta::PackingPlace::kNative;
  ASSIGN_OR_RETURN(std::optional<meta::FileRecord> replaced, metadata.Put(clone));
  if (clone.packed) {
    if (Status touched = TouchStoredFile(metadata, *clone.packed, now_ns); !touched.ok()) {
      // The store was freed before the clone could say it refers to it:
      // undo the clone (what it replaced comes back, pieces and all).
      if (replaced) {
        (void)metadata.Put(*replaced);
      } else {
        (void)metadata.Delete(to_ns, to_path);
      }
      return touched.WithContext("cloning " + from_ns + "/" + from_path);
    }
  }
  if (replaced) DeleteFilePieces(pieces, *replaced);
  return CloneResult{std::move(clone), std::move(replaced)};
}

Status ValidateSnapshotName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") {
    return Status::InvalidArgument("snapshot name " + QuoteForMessage(name) +
                                   " must be 1 to 64 characters, not . or ..");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("snapshot name " + QuoteForMessage(name) +
                                     " may only contain A-Z a-z 0-9 . _ -");
    }
  }
  return Status::Ok();
}

Result<SnapshotInfo> CreateSnapshot(meta::MetadataStore& metadata, const std::string& name,
                                    const std::vector<std::pair<std::string, std::string>>& files,
                                    const ObjectIdFn& new_object_id, int64_t now_ns) {
  RETURN_IF_ERROR(ValidateSnapshotName(name));
  if (files.empty()) return Status::InvalidArgument("a snapshot needs at least one file");
  std::set<std::pair<std::string, std::string>> unique(files.begin(), files.end());
  if (unique.size() != files.size()) {
    return Status::InvalidArgument("a file is named twice in snapshot '" + name + "'");
  }
  for (const auto& [ns, path] : files) {
    RETURN_IF_ERROR(ValidateNamespace(ns));
    RETURN_IF_ERROR(ValidatePath(path));
    if (ns == kSnapshotNamespace || ns == kShadowStoreNamespace) {
      return Status::InvalidArgument("cannot snapshot " + ns + "/" + path + ": namespace " + ns +
                                     " is the cluster's own");
    }
    // The member must itself be a valid path to clone from later.
    RETURN_IF_ERROR(ValidatePath(name + "/" + ns + "/" + path));
  }
  const std::string snap_ns(kSnapshotNamespace);
  ASSIGN_OR_RETURN(meta::Listing existing, metadata.List(snap_ns, name + "/", "", 1));
  if (!existing.files.empty()) {
    return Status::AlreadyExists("snapshot '" + name + "' exists");
  }
  for (int attempt = 0; attempt < kShareAttempts; ++attempt) {
    std::vector<meta::FileRecord> shared;
    for (const auto& [ns, path] : files) {
      ASSIGN_OR_RETURN(meta::FileRecord r, ShareFile(metadata, ns, path, new_object_id, now_ns));
      shared.push_back(std::move(r));
    }
    bool unchanged = true;
    for (const meta::FileRecord& r : shared) {
      ASSIGN_OR_RETURN(meta::FileRecord now, metadata.Get(r.ns, r.path));
      unchanged = unchanged && now.object_id == r.object_id;
    }
    if (!unchanged) continue;  // a member changed between the reads: not one moment
    // Records are created, never replaced: a request racing for the name
    // finds one of this one's records there and gives up, or (naming other
    // files) shows up in the listing after and makes this one give up.
    SnapshotInfo info{name, 0, 0, now_ns};
    std::vector<std::string> created;
    auto give_up = [&](Status why) {
      for (const std::string& path : created) (void)metadata.Delete(snap_ns, path);
      return why;
    };
    const Status taken = Status::AlreadyExists("snapshot '" + name + "' exists");
    for (meta::FileRecord r : shared) {
      r.path = name + "/" + r.ns + "/" + r.path;
      r.ns = snap_ns;
      Result<uint64_t> id = new_object_id();
      if (!id.ok()) return give_up(id.status());
      r.object_id = *id;
      r.created_ns = now_ns;  // when the snapshot was taken; modified_ns stays the file's
      Result<bool> fresh = metadata.ReplacePlacement(r, meta::kNoObject);
      if (!fresh.ok()) return give_up(fresh.status());
      if (!*fresh) return give_up(taken);
      created.push_back(r.path);
      ++info.files;
      info.bytes += r.size;
    }
    Result<meta::Listing> now = metadata.List(snap_ns, name + "/", "", created.size() + 1);
    if (!now.ok()) return give_up(now.status());
    if (now->files.size() != created.size()) return give_up(taken);
    // Each store the members refer to is told so (see TouchStoredFile); one
    // freed meanwhile undoes the snapshot.
    for (const meta::FileRecord& r : shared) {
      if (!r.packed) continue;
      if (Status touched = TouchStoredFile(metadata, *r.packed, now_ns); !touched.ok()) {
        (void)DeleteSnapshot(metadata, name);
        return touched.WithContext("snapshot '" + name + "'");
      }
    }
    return info;
  }
  return Status::Unavailable("the files of snapshot '" + name +
                             "' kept changing; nothing was taken; try again");
}

Result<std::vector<SnapshotInfo>> ListSnapshots(meta::MetadataStore& metadata) {
  std::map<std::string, SnapshotInfo> by_name;
  RETURN_IF_ERROR(
      ForEachUnder(metadata, std::string(kSnapshotNamespace), "", [&](const meta::FileRecord& r) {
        const std::string name = r.path.substr(0, r.path.find('/'));
        SnapshotInfo& info = by_name[name];
        info.name = name;
        ++info.files;
        info.bytes += r.size;
        info.created_ns = r.created_ns;
        return Status::Ok();
      }));
  std::vector<SnapshotInfo> out;
  for (auto& [name, info] : by_name) out.push_back(std::move(info));
  return out;
}

Result<std::vector<meta::FileRecord>> SnapshotFiles(meta::MetadataStore& metadata,
                                                    const std::string& name) {
  RETURN_IF_ERROR(ValidateSnapshotName(name));
  std::vector<meta::FileRecord> out;
  RETURN_IF_ERROR(ForEachUnder(metadata, std::string(kSnapshotNamespace), name + "/",
                               [&](const meta::FileRecord& r) {
                                 out.push_back(r);
                                 return Status::Ok();
                               }));
  if (out.empty()) return Status::NotFound("no snapshot '" + name + "'");
  return out;
}

Result<uint64_t> DeleteSnapshot(meta::MetadataStore& metadata, const std::string& name) {
  ASSIGN_OR_RETURN(std::vector<meta::FileRecord> files, SnapshotFiles(metadata, name));
  for (const meta::FileRecord& r : files) {
    Result<meta::FileRecord> removed = metadata.Delete(r.ns, r.path);
    if (!removed.ok() && removed.status().code() != StatusCode::kNotFound) {
      return removed.status();
    }
  }
  return files.size();
}

}  // namespace tessera::io
