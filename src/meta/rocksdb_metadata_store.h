// MetadataStore on a local RocksDB database (the node's state directory).
//
// Keys: 'f' + namespace + '\0' + path -> EncodeFileRecord(record). Object ids
// are handed out from blocks reserved by a synced counter, so a crash skips
// the rest of a block but never reuses an id. Writes are synced; RocksDB
// groups concurrent synced writes into one WAL fsync.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "meta/metadata_store.h"
#include "meta/object_id_allocator.h"

namespace rocksdb {
class DB;
}

namespace tessera::meta {

class RocksDbMetadataStore final : public MetadataStore {
 public:
  // Opens or creates the database in `dir`.
  static Result<std::unique_ptr<RocksDbMetadataStore>> Open(const std::string& dir);
  ~RocksDbMetadataStore() override;

  Result<uint64_t> NewObjectId() override;
  Result<FileRecord> Get(const std::string& ns, const std::string& path) override;
  Result<std::optional<FileRecord>> Put(FileRecord record) override;
  Result<bool> ReplacePlacement(
      const FileRecord& record, uint64_t expected_object_id,
      std::optional<int64_t> expected_modified_ns = std::nullopt) override;
  Result<FileRecord> Delete(const std::string& ns, const std::string& path) override;
  Result<Listing> List(const std::string& ns, const std::string& prefix, const std::string& marker,
                       size_t limit) override;
  Status ForEach(const std::function<bool(const FileRecord&)>& visit) override;

 private:
  explicit RocksDbMetadataStore(std::unique_ptr<rocksdb::DB> db);
  std::mutex& LockFor(const std::string& key);

  static constexpr size_t kLockStripes = 64;

  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<ObjectIdAllocator> object_ids_;
  std::mutex path_locks_[kLockStripes];
};

}  // namespace tessera::meta
