#include "store/piece_index.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "common/coding.h"

namespace tessera::store {

namespace {

constexpr char kPieceTag = 'p';
constexpr char kWatermarkTag = 's';
constexpr char kDurableTag = 'd';
constexpr char kCopyRangeTag = 'c';
constexpr size_t kCopyRangeKeySize = 13;
constexpr size_t kPieceKeySize = 13;
constexpr size_t kMarkKeySize = 5;
constexpr size_t kLocationSize = 20;

std::string PieceKey(const PieceId& id) {
  std::string key(1, kPieceTag);
  AppendBE64(&key, id.object);
  AppendBE32(&key, id.index);
  return key;
}

std::string MarkKey(char tag, uint32_t segment) {
  std::string key(1, tag);
  AppendBE32(&key, segment);
  return key;
}

std::string CopyRangeKey(uint32_t segment, uint64_t offset) {
  std::string key = MarkKey(kCopyRangeTag, segment);
  AppendBE64(&key, offset);
  return key;
}

std::string EncodeLocation(const PieceLocation& loc) {
  std::string v(kLocationSize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(v.data());
  PutLE32(p, loc.segment);
  PutLE64(p + 4, loc.offset);
  PutLE64(p + 12, loc.length);
  return v;
}

std::string EncodeU64(uint64_t value) {
  std::string v(8, '\0');
  PutLE64(reinterpret_cast<uint8_t*>(v.data()), value);
  return v;
}

const uint8_t* Bytes(const rocksdb::Slice& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  std::string msg = what + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsNoSpace()) return Status::NoSpace(std::move(msg));
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  return Status::IOError(std::move(msg));
}

// One small block cache for every drive in the process: the index's hot set
// is tiny next to the page cache the segments use.
std::shared_ptr<rocksdb::Cache> SharedBlockCache() {
  static std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(32 << 20);
  return cache;
}

}  // namespace

void PieceIndex::Batch::Put(const PieceId& id, const PieceLocation& loc) {
  batch_.Put(PieceKey(id), EncodeLocation(loc));
}
void PieceIndex::Batch::Delete(const PieceId& id) { batch_.Delete(PieceKey(id)); }
void PieceIndex::Batch::SetWatermark(uint32_t segment, uint64_t offset) {
  batch_.Put(MarkKey(kWatermarkTag, segment), EncodeU64(offset));
}
void PieceIndex::Batch::SetDurable(uint32_t segment, uint64_t offset) {
  batch_.Put(MarkKey(kDurableTag, segment), EncodeU64(offset));
}
void PieceIndex::Batch::DeleteSegmentMarks(uint32_t segment) {
  batch_.Delete(MarkKey(kWatermarkTag, segment));
  batch_.Delete(MarkKey(kDurableTag, segment));
}

void PieceIndex::Batch::SetCopyRange(uint32_t segment, uint64_t offset, uint64_t end) {
  batch_.Put(CopyRangeKey(segment, offset), EncodeU64(end));
}
void PieceIndex::Batch::DeleteCopyRange(uint32_t segment, uint64_t offset) {
  batch_.Delete(CopyRangeKey(segment, offset));
}

PieceIndex::PieceIndex(std::string dir, std::unique_ptr<rocksdb::DB> db)
    : dir_(std::move(dir)), db_(std::move(db)) {}

PieceIndex::~PieceIndex() {
  // Close() waits for background work; whatever it fails to persist, the
  // WAL and the segments restore at the next open.
  if (db_) (void)db_->Close();
}

Result<std::unique_ptr<PieceIndex>> PieceIndex::Open(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = 4 << 20;
  options.max_write_buffer_number = 2;
  options.max_open_files = 64;
  options.max_background_jobs = 2;
  options.compression = rocksdb::kNoCompression;
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.info_log_level = rocksdb::WARN_LEVEL;
  options.keep_log_file_num = 2;
  options.max_log_file_size = 1 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = SharedBlockCache();
  // Most Append lookups miss; a Bloom filter answers them without a block read.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  // RocksDB's own LOCK file is what keeps two nodes off one drive.
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return Status::FailedPrecondition("piece index " + dir +
                                      " is in use by another process (is a node already running "
                                      "on this drive?): " +
                                      s.ToString());
  }
  if (!s.ok()) return FromRocks(s, "opening piece index " + dir);
  return std::unique_ptr<PieceIndex>(new PieceIndex(dir, std::unique_ptr<rocksdb::DB>(raw)));
}

Result<std::optional<PieceLocation>> PieceIndex::Get(const PieceId& id) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), PieceKey(id), &value);
  if (s.IsNotFound()) return std::optional<PieceLocation>();
  if (!s.ok()) return FromRocks(s, "looking up piece " + id.ToString() + " in " + dir_);
  if (value.size() != kLocationSize) {
    return Status::Corruption("piece index " + dir_ + ": entry for " + id.ToString() + " has " +
                              std::to_string(value.size()) + " bytes");
  }
  const uint8_t* p = Bytes(value);
  return std::optional<PieceLocation>(PieceLocation{GetLE32(p), GetLE64(p + 4), GetLE64(p + 12)});
}

Status PieceIndex::Write(Batch* batch, bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  return FromRocks(db_->Write(options, &batch->batch_), "writing piece index " + dir_);
}

Status PieceIndex::ForEachPiece(
    const std::function<void(const PieceId&, const PieceLocation&)>& fn) const {
  rocksdb::ReadOptions options;
  options.fill_cache = false;  // a full pass would evict the hot set
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  const std::string start(1, kPieceTag);
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (it->key().size() != kPieceKeySize || it->value().size() != kLocationSize) {
      return Status::Corruption("piece index " + dir_ + " holds a malformed entry (key of " +
                                std::to_string(it->key().size()) + " bytes)");
    }
    const uint8_t* k = Bytes(it->key()) + 1;
    const uint8_t* v = Bytes(it->value());
    fn(PieceId{GetBE64(k), GetBE32(k + 8)},
       PieceLocation{GetLE32(v), GetLE64(v + 4), GetLE64(v + 12)});
  }
  return FromRocks(it->status(), "iterating piece index " + dir_);
}

Result<std::map<uint32_t, uint64_t>> PieceIndex::ReadMarks(char tag) const {
  std::map<uint32_t, uint64_t> marks;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string start(1, tag);
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (it->key().size() != kMarkKeySize || it->value().size() != 8) {
      return Status::Corruption("piece index " + dir_ + " holds a malformed segment mark");
    }
    marks[GetBE32(Bytes(it->key()) + 1)] = GetLE64(Bytes(it->value()));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading segment marks from " + dir_));
  return marks;
}

Result<std::map<uint32_t, uint64_t>> PieceIndex::Watermarks() const {
  return ReadMarks(kWatermarkTag);
}
Result<std::map<uint32_t, uint64_t>> PieceIndex::DurableMarks() const {
  return ReadMarks(kDurableTag);
}

Result<PieceIndex::CopyRangeMap> PieceIndex::CopyRanges() const {
  CopyRangeMap ranges;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string start(1, kCopyRangeTag);
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    if (it->key().size() != kCopyRangeKeySize || it->value().size() != 8) {
      return Status::Corruption("piece index " + dir_ + " holds a malformed copy range");
    }
    const uint8_t* k = Bytes(it->key()) + 1;
    ranges[GetBE32(k)][GetBE64(k + 4)] = GetLE64(Bytes(it->value()));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading copy ranges from " + dir_));
  return ranges;
}

}  // namespace tessera::store
