#include "meta/object_id_allocator.h"

#include <rocksdb/db.h>

#include "meta/rocks_db.h"

namespace tessera::meta {
namespace {

constexpr char kCounterKey[] = "c:object_id";

uint64_t DecodeCounter(const std::string& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) << (8 * i);
  return v;
}

std::string EncodeCounter(uint64_t v) {
  std::string s(8, '\0');
  for (size_t i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

}  // namespace

Result<ObjectIdAllocator> ObjectIdAllocator::Load(rocksdb::DB* db) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), kCounterKey, &value);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading object id counter");
  // Everything below the persisted mark may have been handed out before a crash.
  return ObjectIdAllocator(db, s.ok() ? DecodeCounter(value) : 1);
}

ObjectIdAllocator::ObjectIdAllocator(ObjectIdAllocator&& other) noexcept
    : db_(other.db_), next_(other.next_), reserved_until_(other.reserved_until_) {}

Result<uint64_t> ObjectIdAllocator::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  if (next_ >= reserved_until_) {
    rocksdb::WriteOptions synced;
    synced.sync = true;
    uint64_t until = next_ + kBlock;
    RETURN_IF_ERROR(
        FromRocks(db_->Put(synced, kCounterKey, EncodeCounter(until)), "reserving object ids"));
    reserved_until_ = until;
  }
  return next_++;
}

}  // namespace tessera::meta
