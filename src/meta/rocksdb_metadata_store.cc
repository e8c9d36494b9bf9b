#include "meta/rocksdb_metadata_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <functional>

#include "meta/rocks_db.h"

namespace tessera::meta {
namespace {

std::string FileKey(const std::string& ns, const std::string& path) {
  std::string key = "f";
  key += ns;
  key.push_back('\0');
  key += path;
  return key;
}

rocksdb::WriteOptions SyncedWrite() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

}  // namespace

RocksDbMetadataStore::RocksDbMetadataStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
RocksDbMetadataStore::~RocksDbMetadataStore() = default;

Result<std::unique_ptr<RocksDbMetadataStore>> RocksDbMetadataStore::Open(const std::string& dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db, OpenRocksDb(dir, "metadata database"));
  auto store = std::unique_ptr<RocksDbMetadataStore>(new RocksDbMetadataStore(std::move(db)));
  ASSIGN_OR_RETURN(ObjectIdAllocator ids, ObjectIdAllocator::Load(store->db_.get()));
  store->object_ids_ = std::make_unique<ObjectIdAllocator>(std::move(ids));
  return store;
}

Result<uint64_t> RocksDbMetadataStore::NewObjectId() { return object_ids_->Next(); }

std::mutex& RocksDbMetadataStore::LockFor(const std::string& key) {
  return path_locks_[std::hash<std::string>{}(key) % kLockStripes];
}

Result<FileRecord> RocksDbMetadataStore::Get(const std::string& ns, const std::string& path) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), FileKey(ns, path), &value);
  if (s.IsNotFound()) return Status::NotFound("no file " + ns + "/" + path);
  RETURN_IF_ERROR(FromRocks(s, "reading " + ns + "/" + path));
  return DecodeFileRecord(value);
}

Result<std::optional<FileRecord>> RocksDbMetadataStore::Put(FileRecord record) {
  std::string key = FileKey(record.ns, record.path);
  // Read-modify-write per path; other paths commit concurrently and share fsyncs.
  std::lock_guard<std::mutex> lock(LockFor(key));
  std::optional<FileRecord> previous;
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
  if (s.ok()) {
    ASSIGN_OR_RETURN(previous, DecodeFileRecord(value));
    record.created_ns = previous->created_ns;
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading " + record.ns + "/" + record.path);
  }
  RETURN_IF_ERROR(FromRocks(db_->Put(SyncedWrite(), key, EncodeFileRecord(record)),
                            "writing " + record.ns + "/" + record.path));
  return previous;
}

Result<bool> RocksDbMetadataStore::ReplacePlacement(const FileRecord& record,
                                                    uint64_t expected_object_id,
                                                    std::optional<int64_t> expected_modified_ns) {
  std::string key = FileKey(record.ns, record.path);
  std::lock_guard<std::mutex> lock(LockFor(key));
  Result<FileRecord> current = Get(record.ns, record.path);
  if (current.ok()) {
    if (current->object_id != expected_object_id) return false;
    if (expected_modified_ns && current->modified_ns != *expected_modified_ns) return false;
  } else if (current.status().code() != StatusCode::kNotFound) {
    return current.status();
  } else if (expected_object_id != kNoObject) {
    return false;
  }
  RETURN_IF_ERROR(FromRocks(db_->Put(SyncedWrite(), key, EncodeFileRecord(record)),
                            "writing " + record.ns + "/" + record.path));
  return true;
}

Result<FileRecord> RocksDbMetadataStore::Delete(const std::string& ns, const std::string& path) {
  std::string key = FileKey(ns, path);
  std::lock_guard<std::mutex> lock(LockFor(key));
  ASSIGN_OR_RETURN(FileRecord record, Get(ns, path));
  RETURN_IF_ERROR(FromRocks(db_->Delete(SyncedWrite(), key), "deleting " + ns + "/" + path));
  return record;
}

Result<Listing> RocksDbMetadataStore::List(const std::string& ns, const std::string& prefix,
                                           const std::string& marker, size_t limit) {
  Listing listing;
  std::string key_prefix = FileKey(ns, prefix);
  std::string start = marker > prefix ? FileKey(ns, marker) : key_prefix;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(start); it->Valid() && it->key().starts_with(key_prefix); it->Next()) {
    if (!marker.empty() && it->key().ToString() == FileKey(ns, marker)) continue;
    if (listing.files.size() == limit) {
      listing.truncated = true;
      listing.next_marker = listing.files.back().path;
      break;
    }
    ASSIGN_OR_RETURN(FileRecord record, DecodeFileRecord(it->value().ToStringView()));
    listing.files.push_back(std::move(record));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "listing " + ns + "/" + prefix));
  return listing;
}

Status RocksDbMetadataStore::ForEach(const std::function<bool(const FileRecord&)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("f"); it->Valid() && it->key().starts_with("f"); it->Next()) {
    ASSIGN_OR_RETURN(FileRecord record, DecodeFileRecord(it->value().ToStringView()));
    if (!visit(record)) break;
  }
  return FromRocks(it->status(), "scanning file records");
}

}  // namespace tessera::meta
