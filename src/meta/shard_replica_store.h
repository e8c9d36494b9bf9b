// The metadata shards one node keeps: for every shard it replicates, the
// shard's file records, the recent part of its write log, the newest epoch
// it promised to follow and the version it has applied. One RocksDB
// database; every mutating call is synced before it returns.
//
// The replication protocol (docs/metadata.md) is built from these calls:
//  * Promise(shard, epoch): from now on only the primary of `epoch` (or a
//    later one) may change the shard here. An older epoch is refused
//    (FailedPrecondition "stale epoch"), so a deposed primary cannot write.
//  * Append(shard, epoch, prev, entries): applies a primary's ordered writes.
//    Refused unless `epoch` is the promised one and `prev` is exactly the
//    version applied here (FailedPrecondition "out of sync"): a replica never
//    applies a write out of order or past a gap.
//  * EntriesAfter / ReadRecords / Begin-, Add-, FinishInstall: how a lagging
//    replica is brought up to date, from the log when it still reaches back
//    far enough, else from a copy of the shard's records. A shard whose
//    install has not finished reports `installing` and serves nothing.
//
// The log keeps the last kLogKeep entries of a shard; older ones are trimmed
// (a replica further behind gets a full copy). Thread-safe: calls on one
// shard are serialized, calls on different shards run in parallel.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "meta/file_record.h"
#include "meta/metadata_store.h"
#include "meta/object_id_allocator.h"
#include "meta/shard_entry.h"

namespace rocksdb {
class DB;
}

namespace tessera::meta {

struct ShardPosition {
  int64_t promised_epoch = 0;
  LogVersion applied;       // every write up to this version is applied here
  bool installing = false;  // a full copy began and did not finish: holds nothing usable
};

struct RecordPage {
  std::vector<FileRecord> records;  // in (ns, path) order
  bool done = false;                // no records after these
};

class ShardReplicaStore {
 public:
  static constexpr uint64_t kLogKeep = 20000;

  // Opens or creates the database in `dir` for shards [0, shard_count).
  static Result<std::unique_ptr<ShardReplicaStore>> Open(const std::string& dir,
                                                         uint32_t shard_count);
  ~ShardReplicaStore();

  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  // How many times this database was opened, this time included (persisted
  // at Open): a primary numbers its writes above boot_count() << 40, so a
  // restarted primary never reuses a version its previous run sent.
  uint64_t boot_count() const { return boot_count_; }

  // A fresh object id (never handed out twice, even across restarts).
  Result<uint64_t> NewObjectId();

  Result<ShardPosition> Position(uint32_t shard);
  Result<ShardPosition> Promise(uint32_t shard, int64_t epoch);
  Status Append(uint32_t shard, int64_t epoch, LogVersion prev,
                const std::vector<ShardEntry>& entries);

  // Up to `max` entries after `after`, in order. NotFound when the log no
  // longer holds everything after `after` (trimmed, or `after` is a version
  // this shard never applied): the caller must copy the whole shard.
  Result<std::vector<ShardEntry>> EntriesAfter(uint32_t shard, LogVersion after, size_t max);

  // Records in (ns, path) order after the record of `after_ns`/`after_path`
  // (from the start when both are empty), at most `max`.
  Result<RecordPage> ReadRecords(uint32_t shard, const std::string& after_ns,
                                 const std::string& after_path, size_t max);
  // A full copy: Begin drops the shard's records and log, Add stores records,
  // Finish sets the applied version. Each checks that `epoch` is promised.
  Status BeginInstall(uint32_t shard, int64_t epoch);
  Status AddInstall(uint32_t shard, int64_t epoch, const std::vector<FileRecord>& records);
  Status FinishInstall(uint32_t shard, int64_t epoch, LogVersion applied);

  // NotFound if the shard holds no record for the path.
  Result<FileRecord> Get(uint32_t shard, const std::string& ns, const std::string& path);
  // Records of `ns` under `prefix` after `marker` from all of `shards`,
  // merged in path order, at most `limit`.
  Result<Listing> List(const std::vector<uint32_t>& shards, const std::string& ns,
                       const std::string& prefix, const std::string& marker, size_t limit);

 private:
  struct Shard {
    std::mutex mu;
    ShardPosition position;
    LogVersion log_floor;  // the log holds every entry after this version
    uint64_t log_entries = 0;
  };
  ShardReplicaStore(std::unique_ptr<rocksdb::DB> db, uint32_t shard_count);
  Status Load();
  Result<Shard*> ShardAt(uint32_t shard);
  Status CheckEpoch(uint32_t shard, const Shard& s, int64_t epoch) const;
  Status SavePosition(uint32_t shard, const Shard& s);
  Status TrimLog(uint32_t shard, Shard& s);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<ObjectIdAllocator> object_ids_;
  uint64_t boot_count_ = 0;
};

}  // namespace tessera::meta
