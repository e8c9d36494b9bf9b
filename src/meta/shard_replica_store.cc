#include "meta/shard_replica_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/coding.h"
#include "meta/rocks_db.h"

namespace tessera::meta {
namespace {

constexpr uint64_t kTrimBatch = 1000;

constexpr char kBootsKey[] = "c:boots";

std::string ShardKey(char kind, uint32_t shard) {
  std::string key(1, kind);
  AppendBE32(&key, shard);
  return key;
}

std::string PositionKey(uint32_t shard) { return ShardKey('s', shard); }

std::string RecordKey(uint32_t shard, const std::string& ns, const std::string& path) {
  std::string key = ShardKey('r', shard);
  key += ns;
  key.push_back('\0');
  key += path;
  return key;
}

std::string LogKey(uint32_t shard, LogVersion version) {
  return ShardKey('l', shard) + EncodeLogVersion(version);
}

// The end of a key range that starts with `prefix`.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<uint8_t>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<uint8_t>(prefix.back()) + 1);
  return prefix;
}

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions options;
  options.sync = true;
  return options;
}

// promised (8) | applied (16) | installing (1) | log floor (16) | log entries (8)
std::string EncodePosition(const ShardPosition& p, LogVersion floor, uint64_t log_entries) {
  std::string out;
  AppendBE64(&out, static_cast<uint64_t>(p.promised_epoch));
  out += EncodeLogVersion(p.applied);
  out.push_back(p.installing ? 1 : 0);
  out += EncodeLogVersion(floor);
  AppendBE64(&out, log_entries);
  return out;
}

}  // namespace

ShardReplicaStore::ShardReplicaStore(std::unique_ptr<rocksdb::DB> db, uint32_t shard_count)
    : db_(std::move(db)) {
  for (uint32_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<Shard>());
}

ShardReplicaStore::~ShardReplicaStore() = default;

Result<std::unique_ptr<ShardReplicaStore>> ShardReplicaStore::Open(const std::string& dir,
                                                                   uint32_t shard_count) {
  if (shard_count == 0) return Status::InvalidArgument("a metadata store needs at least one shard");
  ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db, OpenRocksDb(dir, "metadata shards"));
  auto store =
      std::unique_ptr<ShardReplicaStore>(new ShardReplicaStore(std::move(db), shard_count));
  RETURN_IF_ERROR(store->Load());
  return store;
}

Status ShardReplicaStore::Load() {
  ASSIGN_OR_RETURN(ObjectIdAllocator ids, ObjectIdAllocator::Load(db_.get()));
  object_ids_ = std::make_unique<ObjectIdAllocator>(std::move(ids));
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kBootsKey, &value);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the boot counter");
  boot_count_ =
      (s.ok() && value.size() == 8 ? GetBE64(reinterpret_cast<const uint8_t*>(value.data())) : 0) +
      1;
  std::string encoded;
  AppendBE64(&encoded, boot_count_);
  RETURN_IF_ERROR(FromRocks(db_->Put(Synced(), kBootsKey, encoded), "saving the boot counter"));
  for (uint32_t i = 0; i < shards_.size(); ++i) {
    s = db_->Get(rocksdb::ReadOptions(), PositionKey(i), &value);
    if (s.IsNotFound()) continue;
    RETURN_IF_ERROR(FromRocks(s, "reading shard position"));
    if (value.size() != 8 + 16 + 1 + 16 + 8) {
      return Status::Corruption("shard " + std::to_string(i) + " position of " +
                                std::to_string(value.size()) + " bytes");
    }
    const auto* p = reinterpret_cast<const uint8_t*>(value.data());
    Shard& shard = *shards_[i];
    shard.position.promised_epoch = static_cast<int64_t>(GetBE64(p));
    ASSIGN_OR_RETURN(shard.position.applied, DecodeLogVersion(value.substr(8, 16)));
    shard.position.installing = value[24] != 0;
    ASSIGN_OR_RETURN(shard.log_floor, DecodeLogVersion(value.substr(25, 16)));
    shard.log_entries = GetBE64(p + 41);
  }
  return Status::Ok();
}

Result<uint64_t> ShardReplicaStore::NewObjectId() { return object_ids_->Next(); }

Result<ShardReplicaStore::Shard*> ShardReplicaStore::ShardAt(uint32_t shard) {
  if (shard >= shards_.size()) {
    return Status::InvalidArgument("no metadata shard " + std::to_string(shard) + " (there are " +
                                   std::to_string(shards_.size()) + ")");
  }
  return shards_[shard].get();
}

Status ShardReplicaStore::CheckEpoch(uint32_t shard, const Shard& s, int64_t epoch) const {
  if (epoch < s.position.promised_epoch) {
    return Status::FailedPrecondition("shard " + std::to_string(shard) + ": stale epoch " +
                                      std::to_string(epoch) + ", promised " +
                                      std::to_string(s.position.promised_epoch));
  }
  if (epoch > s.position.promised_epoch) {
    return Status::FailedPrecondition("shard " + std::to_string(shard) + ": epoch " +
                                      std::to_string(epoch) + " was not promised (promised " +
                                      std::to_string(s.position.promised_epoch) + ")");
  }
  return Status::Ok();
}

Status ShardReplicaStore::SavePosition(uint32_t shard, const Shard& s) {
  return FromRocks(db_->Put(Synced(), PositionKey(shard),
                            EncodePosition(s.position, s.log_floor, s.log_entries)),
                   "saving shard position");
}

Result<ShardPosition> ShardReplicaStore::Position(uint32_t shard) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  std::lock_guard<std::mutex> lock(s->mu);
  return s->position;
}

Result<ShardPosition> ShardReplicaStore::Promise(uint32_t shard, int64_t epoch) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  std::lock_guard<std::mutex> lock(s->mu);
  if (epoch < s->position.promised_epoch) RETURN_IF_ERROR(CheckEpoch(shard, *s, epoch));
  if (epoch > s->position.promised_epoch) {
    s->position.promised_epoch = epoch;
    RETURN_IF_ERROR(SavePosition(shard, *s));
  }
  return s->position;
}

Status ShardReplicaStore::Append(uint32_t shard, int64_t epoch, LogVersion prev,
                                 const std::vector<ShardEntry>& entries) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  std::lock_guard<std::mutex> lock(s->mu);
  RETURN_IF_ERROR(CheckEpoch(shard, *s, epoch));
  if (s->position.installing || prev != s->position.applied) {
    return Status::FailedPrecondition(
        "shard " + std::to_string(shard) + " out of sync: applied " +
        (s->position.installing ? "nothing (copy unfinished)" : s->position.applied.ToString()) +
        ", writes sent after " + prev.ToString());
  }
  if (entries.empty()) return Status::Ok();
  rocksdb::WriteBatch batch;
  LogVersion last = prev;
  for (const ShardEntry& e : entries) {
    if (e.version <= last || e.version.epoch > epoch) {
      return Status::InvalidArgument("shard " + std::to_string(shard) + ": entry " +
                                     e.version.ToString() + " out of order after " +
                                     last.ToString());
    }
    last = e.version;
    std::string key = RecordKey(shard, e.record.ns, e.record.path);
    if (e.remove) {
      batch.Delete(key);
    } else {
      batch.Put(key, EncodeFileRecord(e.record));
    }
    batch.Put(LogKey(shard, e.version), EncodeShardEntry(e));
  }
  ShardPosition next = s->position;
  next.applied = last;
  batch.Put(PositionKey(shard),
            EncodePosition(next, s->log_floor, s->log_entries + entries.size()));
  RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &batch), "applying shard writes"));
  s->position = next;
  s->log_entries += entries.size();
  if (s->log_entries > kLogKeep + kTrimBatch) {
    // The writes are durable already; a trim that fails is retried next time.
    if (Status trimmed = TrimLog(shard, *s); !trimmed.ok()) {
      spdlog::warn("shard {}: trimming its log: {}", shard, trimmed.ToString());
    }
  }
  return Status::Ok();
}

Status ShardReplicaStore::TrimLog(uint32_t shard, Shard& s) {
  uint64_t drop = s.log_entries - kLogKeep;
  std::string begin = ShardKey('l', shard);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  LogVersion floor = s.log_floor;
  uint64_t dropped = 0;
  std::string end;
  for (it->Seek(begin); it->Valid() && it->key().starts_with(begin) && dropped < drop;
       it->Next(), ++dropped) {
    ASSIGN_OR_RETURN(floor, DecodeLogVersion(it->key().ToStringView().substr(begin.size())));
    end = it->key().ToString();
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning shard log"));
  if (dropped == 0) return Status::Ok();
  rocksdb::WriteBatch batch;
  batch.DeleteRange(begin, end + '\0');
  batch.Put(PositionKey(shard), EncodePosition(s.position, floor, s.log_entries - dropped));
  RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &batch), "trimming shard log"));
  s.log_floor = floor;
  s.log_entries -= dropped;
  return Status::Ok();
}

Result<std::vector<ShardEntry>> ShardReplicaStore::EntriesAfter(uint32_t shard, LogVersion after,
                                                                size_t max) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  std::lock_guard<std::mutex> lock(s->mu);
  const std::string where = "shard " + std::to_string(shard) + ": ";
  if (s->position.installing) return Status::NotFound(where + "copy unfinished");
  if (after < s->log_floor) return Status::NotFound(where + "log trimmed past " + after.ToString());
  if (after > s->position.applied)
    return Status::NotFound(where + after.ToString() + " not applied here");
  std::vector<ShardEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  std::string prefix = ShardKey('l', shard);
  std::string from = LogKey(shard, after);
  it->Seek(from);
  if (after != s->log_floor) {
    // `after` must be a version of this shard's history, not one of a write
    // that only a failed primary's replica applied.
    if (!it->Valid() || it->key() != from) {
      RETURN_IF_ERROR(FromRocks(it->status(), "reading shard log"));
      return Status::NotFound(where + after.ToString() + " is not in this shard's history");
    }
  }
  if (it->Valid() && it->key() == from) it->Next();
  for (; it->Valid() && it->key().starts_with(prefix) && out.size() < max; it->Next()) {
    ASSIGN_OR_RETURN(ShardEntry e, DecodeShardEntry(it->value().ToStringView()));
    out.push_back(std::move(e));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading shard log"));
  return out;
}

Result<RecordPage> ShardReplicaStore::ReadRecords(uint32_t shard, const std::string& after_ns,
                                                  const std::string& after_path, size_t max) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  (void)s;
  RecordPage page;
  std::string prefix = ShardKey('r', shard);
  bool from_start = after_ns.empty() && after_path.empty();
  std::string from = from_start ? prefix : RecordKey(shard, after_ns, after_path);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(from);
  if (!from_start && it->Valid() && it->key() == from) it->Next();
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (page.records.size() == max) return page;
    ASSIGN_OR_RETURN(FileRecord r, DecodeFileRecord(it->value().ToStringView()));
    page.records.push_back(std::move(r));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading shard records"));
  page.done = true;
  return page;
}

Status ShardReplicaStore::BeginInstall(uint32_t shard, int64_t epoch) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  std::lock_guard<std::mutex> lock(s->mu);
  RETURN_IF_ERROR(CheckEpoch(shard, *s, epoch));
  rocksdb::WriteBatch batch;
  batch.DeleteRange(ShardKey('r', shard), PrefixEnd(ShardKey('r', shard)));
  batch.DeleteRange(ShardKey('l', shard), PrefixEnd(ShardKey('l', shard)));
  ShardPosition next = s->position;
  next.applied = {};
  next.installing = true;
  batch.Put(PositionKey(shard), EncodePosition(next, {}, 0));
  RETURN_IF_ERROR(FromRocks(db_->Write(Synced(), &batch), "starting a shard copy"));
  s->position = next;
  s->log_floor = {};
  s->log_entries = 0;
  return Status::Ok();
}

Status ShardReplicaStore::AddInstall(uint32_t shard, int64_t epoch,
                                     const std::vector<FileRecord>& records) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  std::lock_guard<std::mutex> lock(s->mu);
  RETURN_IF_ERROR(CheckEpoch(shard, *s, epoch));
  if (!s->position.installing) {
    return Status::FailedPrecondition("shard " + std::to_string(shard) + ": no copy in progress");
  }
  rocksdb::WriteBatch batch;
  for (const FileRecord& r : records)
    batch.Put(RecordKey(shard, r.ns, r.path), EncodeFileRecord(r));
  // Unsynced: FinishInstall's synced write makes these durable with it.
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "copying shard records");
}

Status ShardReplicaStore::FinishInstall(uint32_t shard, int64_t epoch, LogVersion applied) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  std::lock_guard<std::mutex> lock(s->mu);
  RETURN_IF_ERROR(CheckEpoch(shard, *s, epoch));
  if (!s->position.installing) {
    return Status::FailedPrecondition("shard " + std::to_string(shard) + ": no copy in progress");
  }
  ShardPosition next = s->position;
  next.applied = applied;
  next.installing = false;
  RETURN_IF_ERROR(
      FromRocks(db_->Put(Synced(), PositionKey(shard), EncodePosition(next, applied, 0)),
                "finishing a shard copy"));
  s->position = next;
  s->log_floor = applied;
  s->log_entries = 0;
  return Status::Ok();
}

Result<FileRecord> ShardReplicaStore::Get(uint32_t shard, const std::string& ns,
                                          const std::string& path) {
  ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
  (void)s;
  std::string value;
  rocksdb::Status st = db_->Get(rocksdb::ReadOptions(), RecordKey(shard, ns, path), &value);
  if (st.IsNotFound()) return Status::NotFound("no file " + ns + "/" + path);
  RETURN_IF_ERROR(FromRocks(st, "reading " + ns + "/" + path));
  return DecodeFileRecord(value);
}

Result<Listing> ShardReplicaStore::List(const std::vector<uint32_t>& shards, const std::string& ns,
                                        const std::string& prefix, const std::string& marker,
                                        size_t limit) {
  // A k-way merge: each shard's records of `ns` are in path order already.
  struct Cursor {
    std::unique_ptr<rocksdb::Iterator> it;
    std::string key_prefix;  // 'r' shard ns '\0' prefix
    size_t path_offset;      // where the path starts in a key
    std::string_view path() const { return it->key().ToStringView().substr(path_offset); }
    bool valid() const { return it->Valid() && it->key().starts_with(key_prefix); }
  };
  std::vector<Cursor> cursors;
  for (uint32_t shard : shards) {
    ASSIGN_OR_RETURN(Shard * s, ShardAt(shard));
    (void)s;
    Cursor c;
    c.it.reset(db_->NewIterator(rocksdb::ReadOptions()));
    c.key_prefix = RecordKey(shard, ns, prefix);
    c.path_offset = RecordKey(shard, ns, "").size();
    std::string start = marker > prefix ? RecordKey(shard, ns, marker) : c.key_prefix;
    c.it->Seek(start);
    if (c.valid() && !marker.empty() && c.path() == marker) c.it->Next();
    cursors.push_back(std::move(c));
  }
  Listing listing;
  while (true) {
    Cursor* next = nullptr;
    for (Cursor& c : cursors) {
      if (c.valid() && (next == nullptr || c.path() < next->path())) next = &c;
    }
    if (next == nullptr) break;
    if (listing.files.size() == limit) {
      listing.truncated = true;
      listing.next_marker = listing.files.back().path;
      break;
    }
    ASSIGN_OR_RETURN(FileRecord r, DecodeFileRecord(next->it->value().ToStringView()));
    listing.files.push_back(std::move(r));
    next->it->Next();
  }
  for (Cursor& c : cursors)
    RETURN_IF_ERROR(FromRocks(c.it->status(), "listing " + ns + "/" + prefix));
  return listing;
}

}  // namespace tessera::meta
