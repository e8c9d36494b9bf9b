#include "meta/rocksdb_metadata_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <functional>

namespace tessera::meta {
namespace {

constexpr char kObjectCounterKey[] = "c:object_id";

std::string FileKey(const std::string& ns, const std::string& path) {
  std::string key = "f";
  key += ns;
  key.push_back('\0');
  key += path;
  return key;
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(std::string(what));
  if (s.IsNoSpace()) return Status::NoSpace(std::string(what) + ": " + s.ToString());
  if (s.IsCorruption()) return Status::Corruption(std::string(what) + ": " + s.ToString());
  return Status::IOError(std::string(what) + ": " + s.ToString());
}

rocksdb::WriteOptions SyncedWrite() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

uint64_t DecodeFixed64(const std::string& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) << (8 * i);
  return v;
}

std::string EncodeFixed64(uint64_t v) {
  std::string s(8, '\0');
  for (size_t i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

}  // namespace

RocksDbMetadataStore::RocksDbMetadataStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
RocksDbMetadataStore::~RocksDbMetadataStore() = default;

Result<std::unique_ptr<RocksDbMetadataStore>> RocksDbMetadataStore::Open(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 16 << 20;
  options.max_open_files = 256;
  options.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromRocks(s, "opening metadata database " + dir);
  auto store = std::unique_ptr<RocksDbMetadataStore>(
      new RocksDbMetadataStore(std::unique_ptr<rocksdb::DB>(raw)));
  std::string counter;
  s = store->db_->Get(rocksdb::ReadOptions(), kObjectCounterKey, &counter);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading object id counter");
  // Everything below the persisted mark may have been handed out before a crash.
  uint64_t mark = s.ok() ? DecodeFixed64(counter) : 1;
  store->next_object_id_ = mark;
  store->reserved_until_ = mark;
  return store;
}

Result<uint64_t> RocksDbMetadataStore::NewObjectId() {
  std::lock_guard<std::mutex> lock(id_mutex_);
  if (next_object_id_ >= reserved_until_) {
    uint64_t until = next_object_id_ + kObjectIdBlock;
    RETURN_IF_ERROR(FromRocks(db_->Put(SyncedWrite(), kObjectCounterKey, EncodeFixed64(until)),
                              "reserving object ids"));
    reserved_until_ = until;
  }
  return next_object_id_++;
}

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

Result<bool> RocksDbMetadataStore::ReplacePlacement(const FileRecord& record) {
  std::string key = FileKey(record.ns, record.path);
  std::lock_guard<std::mutex> lock(LockFor(key));
  Result<FileRecord> current = Get(record.ns, record.path);
  if (current.status().code() == StatusCode::kNotFound) return false;
  RETURN_IF_ERROR(current.status());
  if (current->object_id != record.object_id) return false;
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
