// Hands out object ids that never repeat, even across crashes: ids come from
// blocks reserved by a synced counter in a RocksDB database (key
// "c:object_id"), so a crash skips the rest of a block but never reuses an
// id. Borrows the database. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>

#include "common/status.h"

namespace rocksdb {
class DB;
}

namespace tessera::meta {

class ObjectIdAllocator {
 public:
  // Reads the counter; Corruption or IOError if it cannot.
  static Result<ObjectIdAllocator> Load(rocksdb::DB* db);
  ObjectIdAllocator(ObjectIdAllocator&& other) noexcept;

  Result<uint64_t> Next();

 private:
  ObjectIdAllocator(rocksdb::DB* db, uint64_t mark) : db_(db), next_(mark), reserved_until_(mark) {}

  static constexpr uint64_t kBlock = 1 << 20;
  rocksdb::DB* db_;
  std::mutex mu_;
  uint64_t next_;
  uint64_t reserved_until_;
};

}  // namespace tessera::meta
