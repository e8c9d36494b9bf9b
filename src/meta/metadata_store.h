// Where file records live. One implementation today (a RocksDB database on
// the node); later ones shard and replicate records across nodes, so callers
// see only this interface.
//
// Every mutating call is durable when it returns OK. Implementations are
// safe for concurrent use; calls on different paths proceed in parallel and
// share fsyncs (group commit).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "meta/file_record.h"

namespace tessera::meta {

struct Listing {
  std::vector<FileRecord> files;  // in path order
  bool truncated = false;         // more files follow; continue from next_marker
  std::string next_marker;
};

// No object: ids start at 1 (object_id_allocator.h).
inline constexpr uint64_t kNoObject = 0;

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // A fresh object id. Ids are never handed out twice, even across restarts.
  virtual Result<uint64_t> NewObjectId() = 0;

  // NotFound if the path has no record.
  virtual Result<FileRecord> Get(const std::string& ns, const std::string& path) = 0;

  // Creates or replaces the record for record.ns/record.path. Returns the
  // record it replaced, if any, so the caller can free its pieces. Keeps the
  // replaced record's created_ns.
  virtual Result<std::optional<FileRecord>> Put(FileRecord record) = 0;

  // Replaces the record of record.ns/record.path with `record` only while
  // the stored one is still the content `expected_object_id` names (and,
  // if given, still has modified_ns `expected_modified_ns`): the way a
  // repair moves a file (to new pieces, possibly under a new object id)
  // without racing a client that rewrites or deletes it. False, and nothing
  // changed, when the file was rewritten or deleted meanwhile. With
  // kNoObject it creates the record only if there is none (a create that
  // must not replace).
  virtual Result<bool> ReplacePlacement(
      const FileRecord& record, uint64_t expected_object_id,
      std::optional<int64_t> expected_modified_ns = std::nullopt) = 0;

  // Removes and returns the record. NotFound if absent.
  virtual Result<FileRecord> Delete(const std::string& ns, const std::string& path) = 0;

  // Records of `ns` whose path starts with `prefix` and sorts after `marker`,
  // at most `limit` of them.
  virtual Result<Listing> List(const std::string& ns, const std::string& prefix,
                               const std::string& marker, size_t limit) = 0;

  // Calls `visit` for every record (all namespaces); stops early if it returns false.
  virtual Status ForEach(const std::function<bool(const FileRecord&)>& visit) = 0;
};

}  // namespace tessera::meta
