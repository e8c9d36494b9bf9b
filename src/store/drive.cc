// Drive: the Haystack-style piece store of one drive directory.
//
// Write path. A writer reserves space at the end of the active segment (a
// ticket, under mu_), writes its record there without any lock, then waits
// for its ticket's turn and commits: index put plus segment watermark in one
// unsynced WriteBatch. Turns follow reservation order, so the committed part
// of a segment is always a gap-free run of fully written records and the
// watermark only ever covers records whose index entries precede it in the
// WAL. Both properties are what let Open() recover by scanning forward.
//
// Durability. Sync() is group commit: the first caller to find no fdatasync
// running becomes the leader, snapshots every segment with committed bytes
// and fdatasyncs them; callers arriving meanwhile wait for the next round,
// which one leader runs for all of them. After each round the leader records
// a durable mark per segment, which bounds how much of a segment Open() must
// re-verify after a crash. An fdatasync failure fails the drive for writes:
// after one, the page cache no longer says what is on disk.
//
// Locks, in acquisition order: compact_mu_ (one compaction at a time),
// index_mu_ (index read-modify-write: Append's existence check, Delete,
// compaction's switch), mu_ (segment table, tickets, accounting; never held
// across I/O except creating a segment). sync_mu_ guards only the group
// commit state and is never held with another lock.

#include "store/drive.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <set>

#include "common/fs_util.h"
#include "common/units.h"
#include "store/drive_identity.h"
#include "store/drive_testing.h"
#include "store/piece_index.h"
#include "store/piece_record.h"
#include "store/segment_file.h"

namespace tessera::store {

namespace {

constexpr uint32_t kFirstSegmentId = 1;
// File names carry eight decimal digits.
constexpr uint32_t kMaxSegmentId = 99999999;
// Compaction copies live records in writes of about this size: few syscalls, bounded memory.
constexpr uint64_t kCompactionChunkBytes = 4 * kMiB;
constexpr size_t kCompactionChunkRecords = 256;
// A read that keeps losing the race with compactions gives up after this many lookups.
constexpr int kReadAttempts = 8;
constexpr uint64_t kNoOffset = std::numeric_limits<uint64_t>::max();

std::atomic<bool> g_hook_set{false};
std::mutex g_hook_mu;
std::shared_ptr<const test_hooks::DriveHook> g_hook;

// A point where a test may act (drive_testing.h). Never called with a lock held.
void TestPoint(std::string_view point, uint32_t segment = 0) {
  if (!g_hook_set.load(std::memory_order_relaxed)) return;
  std::shared_ptr<const test_hooks::DriveHook> hook;
  {
    std::lock_guard lock(g_hook_mu);
    hook = g_hook;
  }
  if (hook) (*hook)(point, segment);
}

}  // namespace

void test_hooks::SetDriveHook(DriveHook hook) {
  std::lock_guard lock(g_hook_mu);
  g_hook = hook ? std::make_shared<const DriveHook>(std::move(hook)) : nullptr;
  g_hook_set.store(g_hook != nullptr);
}

class Drive::Impl {
 public:
  Impl(std::string path, DriveIdentity identity, DriveOptions options,
       std::unique_ptr<PieceIndex> index)
      : path_(std::move(path)),
        segments_dir_(path_ + "/segments"),
        identity_(std::move(identity)),
        options_(options),
        index_(std::move(index)) {}

  ~Impl() {
    // A clean shutdown leaves every segment durable and marked so, and the
    // next Open() verifies nothing.
    Status st = Sync();
    if (!st.ok()) spdlog::warn("drive {}: final sync failed: {}", path_, st.ToString());
  }

  Status Recover();

  const DriveIdentity& identity() const { return identity_; }
  const std::string& path() const { return path_; }

  Status Append(const PieceId& id, std::span<const uint8_t> bytes);
  Status Sync();
  Result<std::vector<uint8_t>> Read(const PieceId& id);
  Result<uint64_t> PieceLength(const PieceId& id);
  Status Delete(const PieceId& id);
  std::vector<PieceId> ListPieces();
  DriveUsage Usage();
  Status failure() const;
  Result<CompactionStats> Compact(bool full);

 private:
  // kActive takes reservations; kFull takes none and is sealed (fdatasynced)
  // by whoever finishes its last in-flight write; only kSealed is compacted.
  enum class SegmentState { kActive, kFull, kSealing, kSealed };

  struct Segment {
    std::shared_ptr<SegmentFile> file;
    uint64_t size = 0;      // end of the committed records
    uint64_t reserved = 0;  // end of the space handed to writers, >= size
    uint64_t live_record_bytes = 0;
    uint64_t broken_at = kNoOffset;  // a write failed here; nothing at or past it commits
    uint32_t inflight = 0;
    SegmentState state = SegmentState::kSealed;
  };

  // Space at the end of the active segment handed to one writer.
  struct Reservation {
    std::shared_ptr<SegmentFile> file;
    uint32_t segment = 0;
    uint64_t offset = 0;
    uint64_t end = 0;
    uint64_t ticket = 0;
  };

  struct DirtySegment {
    std::shared_ptr<SegmentFile> file;
    uint64_t size = 0;
  };

  using CommitFn = std::function<Status(const Reservation&)>;

  // Reserves `size` bytes, runs `prepare` (if any) once their place is known,
  // writes `iov` there and commits in reservation order.
  Result<Reservation> WriteRecords(std::span<const iovec> iov, uint64_t size,
                                   const CommitFn& commit, const CommitFn& prepare = nullptr);
  Result<Reservation> Reserve(uint64_t size);
  Status RollLocked();
  void MarkBroken(const Reservation& r, const Status& why);
  void FinishTurn(const Reservation& r, bool committed);
  void SealSegment(uint32_t id);
  void Fail(const Status& why);
  void FailLocked(const Status& why);  // mu_ held
  // NoSpace unless `bytes` fit while leaving `reserve` free.
  Status CheckSpace(uint64_t bytes, uint64_t reserve) const;
  std::shared_ptr<SegmentFile> FindSegment(uint32_t id);
  Status CompactSegment(uint32_t id, const std::vector<std::pair<PieceId, PieceLocation>>& live,
                        CompactionStats* stats);
  std::string Where(const PieceId& id, const PieceLocation& loc) const {
    return "drive " + path_ + ": piece " + id.ToString() + " in segment " +
           std::to_string(loc.segment) + " at offset " + std::to_string(loc.offset);
  }

  const std::string path_;
  const std::string segments_dir_;
  const DriveIdentity identity_;
  const DriveOptions options_;
  std::unique_ptr<PieceIndex> index_;

  std::mutex compact_mu_;
  std::set<uint32_t> uncompactable_;  // segments with a corrupt record; guarded by compact_mu_
  std::mutex index_mu_;

  mutable std::mutex mu_;
  std::map<uint32_t, Segment> segments_;
  uint32_t active_id_ = 0;  // 0: none yet, the next reservation creates one
  uint32_t next_segment_id_ = kFirstSegmentId;
  uint64_t next_ticket_ = 0;
  uint64_t commit_ticket_ = 0;  // the ticket whose turn it is to commit
  // Writers asleep until their ticket's turn, each woken alone: waking every
  // writer in flight at each commit costs a context switch per writer.
  std::map<uint64_t, std::condition_variable*> turn_waiters_;
  uint64_t committed_seq_ = 0;              // records committed so far, in commit order
  std::map<uint32_t, DirtySegment> dirty_;  // committed since the last sync round
  Status failed_;                           // set once: the drive takes no more writes

  // Index-wide counters, updated under index_mu_, read lock-free by Usage().
  std::atomic<uint64_t> piece_count_{0};
  std::atomic<uint64_t> live_payload_bytes_{0};

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_running_ = false;
  uint64_t durable_seq_ = 0;  // every record committed at or below this is durable
  Status sync_error_;
  std::atomic<uint64_t> sync_calls_{0};
  std::atomic<uint64_t> sync_rounds_{0};
};

// ---------------------------------------------------------------------------
// Write path

Status Drive::Impl::CheckSpace(uint64_t bytes, uint64_t reserve) const {
  struct statvfs vfs;
  // A drive whose directory is gone or unreadable cannot take the piece;
  // Unavailable (not the errno's NotFound, which would read as "no such
  // file" to a client) so that callers treat it as a drive that is down.
  if (::statvfs(path_.c_str(), &vfs) != 0) {
    return Status::Unavailable("drive " + path_ +
                               " cannot be reached: statvfs: " + std::strerror(errno));
  }
  const uint64_t free = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free < bytes || free - bytes < reserve) {
    return Status::NoSpace("drive " + path_ + " is full: " + FormatSize(free) + " free, writing " +
                           FormatSize(bytes) + " would cut into the " + FormatSize(reserve) +
                           " reserve");
  }
  return Status::Ok();
}

Status Drive::Impl::RollLocked() {
  if (next_segment_id_ > kMaxSegmentId) {
    return Status::NoSpace("drive " + path_ + ": segment ids are exhausted");
  }
  const uint32_t id = next_segment_id_++;
  ASSIGN_OR_RETURN(std::shared_ptr<SegmentFile> file, SegmentFile::Create(segments_dir_, id));
  Segment seg;
  seg.file = std::move(file);
  seg.state = SegmentState::kActive;
  segments_[id] = std::move(seg);
  active_id_ = id;
  return Status::Ok();
}

Result<Drive::Impl::Reservation> Drive::Impl::Reserve(uint64_t size) {
  Reservation r;
  Status st;
  uint32_t to_seal = 0;
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) return failed_;
    auto found = segments_.find(active_id_);
    Segment* active = found != segments_.end() ? &found->second : nullptr;
    if (active == nullptr || active->state != SegmentState::kActive ||
        active->reserved >= options_.segment_size) {
      if (active != nullptr && active->state == SegmentState::kActive) {
        active->state = SegmentState::kFull;
        if (active->inflight == 0) {
          active->state = SegmentState::kSealing;
          to_seal = active_id_;
        }
      }
      st = RollLocked();
      // Its segments directory gone, the drive is lost for writes. Other
      // errors (out of file descriptors, a passing I/O error, no space)
      // fail this write only.
      if (st.code() == StatusCode::kUnavailable) FailLocked(st);
    }
    if (st.ok()) {
      Segment& seg = segments_.at(active_id_);
      r = Reservation{seg.file, active_id_, seg.reserved, seg.reserved + size, next_ticket_++};
      seg.reserved = r.end;
      ++seg.inflight;
    }
  }
  if (to_seal != 0) SealSegment(to_seal);
  if (!st.ok()) return st;
  return r;
}

void Drive::Impl::MarkBroken(const Reservation& r, const Status& why) {
  spdlog::error("drive {}: segment {} damaged at offset {}, continuing in a new segment: {}", path_,
                r.segment, r.offset, why.ToString());
  std::lock_guard lock(mu_);
  Segment& seg = segments_.at(r.segment);
  seg.broken_at = std::min(seg.broken_at, r.offset);
  // The writer that failed is still in flight, so the last one out seals it.
  if (seg.state == SegmentState::kActive) seg.state = SegmentState::kFull;
}

void Drive::Impl::FinishTurn(const Reservation& r, bool committed) {
  uint32_t to_seal = 0;
  {
    std::lock_guard lock(mu_);
    Segment& seg = segments_.at(r.segment);
    --seg.inflight;
    if (committed) {
      assert(seg.size == r.offset);
      seg.size = r.end;
      dirty_[r.segment] = DirtySegment{seg.file, seg.size};
      ++committed_seq_;
    }
    ++commit_ticket_;
    // Under mu_: the waiter's condition variable lives until it sees its turn.
    if (auto next = turn_waiters_.find(commit_ticket_); next != turn_waiters_.end()) {
      next->second->notify_one();
    }
    if (seg.state == SegmentState::kFull && seg.inflight == 0) {
      seg.state = SegmentState::kSealing;
      to_seal = r.segment;
    }
  }
  if (to_seal != 0) SealSegment(to_seal);
}

void Drive::Impl::SealSegment(uint32_t id) {
  std::shared_ptr<SegmentFile> file;
  uint64_t size = 0;
  bool broken = false;
  {
    std::lock_guard lock(mu_);
    const Segment& seg = segments_.at(id);
    file = seg.file;
    size = seg.size;
    broken = seg.broken_at != kNoOffset;
  }
  Status st;
  // Writes past a failure were never committed; cut them off so the file
  // ends with a whole record.
  if (broken) st = file->Truncate(size);
  if (st.ok()) st = file->DataSync();
  // Synced into a removed file: its pieces stay dirty, so no Sync calls them durable.
  if (st.ok()) st = file->CheckLinked();
  if (!st.ok()) {
    Fail(st.WithContext("sealing segment " + std::to_string(id)));
    return;
  }
  PieceIndex::Batch batch;
  batch.SetDurable(id, size);
  Status mark = index_->Write(&batch, /*sync=*/false);
  if (!mark.ok()) spdlog::warn("drive {}: {}", path_, mark.ToString());
  std::lock_guard lock(mu_);
  segments_.at(id).state = SegmentState::kSealed;
  auto it = dirty_.find(id);
  if (it != dirty_.end() && it->second.size == size) dirty_.erase(it);
}

void Drive::Impl::Fail(const Status& why) {
  std::lock_guard lock(mu_);
  FailLocked(why);
}

void Drive::Impl::FailLocked(const Status& why) {
  spdlog::error("drive {} failed, refusing further writes: {}", path_, why.ToString());
  if (failed_.ok()) {
    failed_ = Status(why.code(),
                     "drive " + path_ + " failed earlier and takes no writes: " + why.message());
  }
}

Result<Drive::Impl::Reservation> Drive::Impl::WriteRecords(std::span<const iovec> iov,
                                                           uint64_t size, const CommitFn& commit,
                                                           const CommitFn& prepare) {
  ASSIGN_OR_RETURN(Reservation r, Reserve(size));
  Status st = prepare ? prepare(r) : Status::Ok();
  // A failed prepare leaves the reservation unwritten: as for a failed write,
  // nothing at or past it commits and the segment is cut there.
  if (st.ok()) st = r.file->WriteAt(r.offset, iov);
  bool valid = st.ok();
  if (!valid) MarkBroken(r, st);
  {
    std::unique_lock lock(mu_);
    if (commit_ticket_ != r.ticket) {
      std::condition_variable turn;
      turn_waiters_[r.ticket] = &turn;
      turn.wait(lock, [&] { return commit_ticket_ == r.ticket; });
      turn_waiters_.erase(r.ticket);
    }
    const uint64_t broken_at = segments_.at(r.segment).broken_at;
    if (valid && broken_at <= r.offset) {
      valid = false;
      st = Status::IOError("drive " + path_ + ": segment " + std::to_string(r.segment) +
                           " failed a write at offset " + std::to_string(broken_at) +
                           " before this one");
    }
  }
  if (valid) st = commit(r);
  FinishTurn(r, valid);
  if (!st.ok()) return st;
  return r;
}

Status Drive::Impl::Append(const PieceId& id, std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxPieceLength) {
    return Status::TooLarge("drive " + path_ + ": piece " + id.ToString() + " of " +
                            FormatSize(bytes.size()) + " exceeds the maximum piece length");
  }
  const std::string what = "drive " + path_ + ": piece " + id.ToString();
  // Cheap early rejection; the commit below re-checks under index_mu_.
  ASSIGN_OR_RETURN(std::optional<PieceLocation> existing, index_->Get(id));
  if (existing) return Status::AlreadyExists(what + " already exists");
  const uint64_t record_size = RecordSize(bytes.size());
  RETURN_IF_ERROR(CheckSpace(record_size, options_.reserved_bytes));

  std::vector<uint8_t> prefix = EncodeRecordPrefix(id, bytes);
  const iovec iov[2] = {{prefix.data(), prefix.size()},
                        {const_cast<uint8_t*>(bytes.data()), bytes.size()}};
  auto commit = [&](const Reservation& r) -> Status {
    std::lock_guard ilock(index_mu_);
    ASSIGN_OR_RETURN(std::optional<PieceLocation> current, index_->Get(id));
    PieceIndex::Batch batch;
    if (!current) batch.Put(id, PieceLocation{r.segment, r.offset, bytes.size()});
    batch.SetWatermark(r.segment, r.end);
    RETURN_IF_ERROR(index_->Write(&batch, /*sync=*/false));
    // A concurrent Append of the same id got there first; these bytes stay dead.
    if (current) return Status::AlreadyExists(what + " already exists");
    ++piece_count_;
    live_payload_bytes_ += bytes.size();
    std::lock_guard lock(mu_);
    segments_.at(r.segment).live_record_bytes += record_size;
    return Status::Ok();
  };
  return WriteRecords(iov, record_size, commit).status();
}

Status Drive::Impl::Sync() {
  ++sync_calls_;
  uint64_t target = 0;
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) return failed_;
    target = committed_seq_;
  }
  std::unique_lock lock(sync_mu_);
  while (true) {
    if (durable_seq_ >= target) return Status::Ok();
    if (!sync_error_.ok()) return sync_error_;
    if (sync_running_) {
      // The running round may have started before our appends committed;
      // wait for it, then lead or join the next.
      sync_cv_.wait(lock);
      continue;
    }
    sync_running_ = true;
    lock.unlock();

    uint64_t seq = 0;
    std::map<uint32_t, DirtySegment> dirty;
    {
      std::lock_guard mlock(mu_);
      seq = committed_seq_;
      dirty.swap(dirty_);
    }
    Status st;
    for (const auto& [id, seg] : dirty) {
      st = seg.file->DataSync();
      if (!st.ok()) break;
      // Synced, but into a file someone removed: gone at the next open.
      // (A segment compaction removed is no longer in segments_.)
      if (Status linked = seg.file->CheckLinked(); !linked.ok()) {
        std::lock_guard mlock(mu_);
        if (segments_.count(id) != 0) {
          st = linked;
          break;
        }
      }
    }
    if (st.ok() && !dirty.empty()) {
      ++sync_rounds_;
      PieceIndex::Batch batch;
      for (const auto& [id, seg] : dirty) batch.SetDurable(id, seg.size);
      // Marks only narrow what the next Open() re-verifies; losing one is harmless.
      Status mark = index_->Write(&batch, /*sync=*/false);
      if (!mark.ok()) spdlog::warn("drive {}: {}", path_, mark.ToString());
    }
    if (!st.ok()) Fail(st);

    lock.lock();
    sync_running_ = false;
    if (st.ok()) {
      durable_seq_ = std::max(durable_seq_, seq);
    } else {
      sync_error_ = st.WithContext("drive " + path_);
    }
    sync_cv_.notify_all();
  }
}

// ---------------------------------------------------------------------------
// Read path

std::shared_ptr<SegmentFile> Drive::Impl::FindSegment(uint32_t id) {
  std::lock_guard lock(mu_);
  auto it = segments_.find(id);
  return it == segments_.end() ? nullptr : it->second.file;
}

Result<std::vector<uint8_t>> Drive::Impl::Read(const PieceId& id) {
  for (int attempt = 1;; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<PieceLocation> loc, index_->Get(id));
    if (!loc) return Status::NotFound("drive " + path_ + ": no piece " + id.ToString());
    std::shared_ptr<SegmentFile> file = FindSegment(loc->segment);
    if (file == nullptr) {
      // A compaction moved the piece and removed the segment between our
      // lookup and here; the index now has the new location.
      if (attempt < kReadAttempts) continue;
      return Status::Internal(Where(id, *loc) + ": the segment does not exist");
    }
    std::vector<uint8_t> prefix, payload;
    Status st = ReadRecord(*file, loc->offset, id, loc->length, &prefix, &payload);
    if (!st.ok()) return st.WithContext(Where(id, *loc));
    return payload;
  }
}

Result<uint64_t> Drive::Impl::PieceLength(const PieceId& id) {
  ASSIGN_OR_RETURN(std::optional<PieceLocation> loc, index_->Get(id));
  if (!loc) return Status::NotFound("drive " + path_ + ": no piece " + id.ToString());
  return loc->length;
}

Status Drive::Impl::Delete(const PieceId& id) {
  std::lock_guard ilock(index_mu_);
  ASSIGN_OR_RETURN(std::optional<PieceLocation> loc, index_->Get(id));
  if (!loc) return Status::NotFound("drive " + path_ + ": no piece " + id.ToString());
  PieceIndex::Batch batch;
  batch.Delete(id);
  RETURN_IF_ERROR(index_->Write(&batch, /*sync=*/false));
  --piece_count_;
  live_payload_bytes_ -= loc->length;
  std::lock_guard lock(mu_);
  auto it = segments_.find(loc->segment);
  if (it != segments_.end()) it->second.live_record_bytes -= RecordSize(loc->length);
  return Status::Ok();
}

std::vector<PieceId> Drive::Impl::ListPieces() {
  std::vector<PieceId> ids;
  Status st =
      index_->ForEachPiece([&](const PieceId& id, const PieceLocation&) { ids.push_back(id); });
  if (!st.ok()) spdlog::error("drive {}: listing pieces: {}", path_, st.ToString());
  return ids;
}

Status Drive::Impl::failure() const {
  std::lock_guard lock(mu_);
  return failed_;
}

DriveUsage Drive::Impl::Usage() {
  DriveUsage usage;
  struct statvfs vfs;
  if (::statvfs(path_.c_str(), &vfs) == 0) {
    usage.fs_total_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    usage.fs_free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  }
  {
    std::lock_guard lock(mu_);
    if (failed_.ok() && usage.fs_free_bytes > options_.reserved_bytes) {
      usage.writable_bytes = usage.fs_free_bytes - options_.reserved_bytes;
    }
    for (const auto& [id, seg] : segments_) usage.segment_bytes += seg.size;
    usage.segment_count = segments_.size();
  }
  usage.live_bytes = live_payload_bytes_;
  usage.piece_count = piece_count_;
  usage.sync_calls = sync_calls_;
  usage.sync_rounds = sync_rounds_;
  return usage;
}

// ---------------------------------------------------------------------------
// Compaction

Result<CompactionStats> Drive::Impl::Compact(bool full) {
  std::lock_guard clock(compact_mu_);
  CompactionStats stats;
  std::set<uint32_t> candidates;
  auto dead_bytes = [](const Segment& seg) {
    return seg.size - std::min(seg.size, seg.live_record_bytes);
  };
  if (full) {
    // Seal the active segment if it holds dead bytes: the next append rolls
    // to a new one, as when a segment fills.
    uint32_t to_seal = 0;
    {
      std::lock_guard lock(mu_);
      if (!failed_.ok()) return failed_;
      // The active segment may be gone already (broken, sealed, compacted).
      auto found = segments_.find(active_id_);
      if (found != segments_.end()) {
        Segment& active = found->second;
        if (active.state == SegmentState::kActive && dead_bytes(active) > 0 &&
            active.inflight == 0) {
          active.state = SegmentState::kSealing;
          to_seal = active_id_;
          active_id_ = 0;  // compaction may remove it: the next append rolls
        }
      }
    }
    if (to_seal != 0) SealSegment(to_seal);
  }
  {
    std::lock_guard lock(mu_);
    if (!failed_.ok()) return failed_;
    const double ratio = full ? 0.0 : options_.compact_dead_ratio;
    for (const auto& [id, seg] : segments_) {
      if (seg.state != SegmentState::kSealed || uncompactable_.count(id)) continue;
      const uint64_t dead = dead_bytes(seg);
      if (seg.size == 0 ||
          (dead > 0 && static_cast<double>(dead) >= ratio * static_cast<double>(seg.size))) {
        candidates.insert(id);
      }
    }
  }
  if (candidates.empty()) return stats;

  // Sealed segments take no new pieces, so this snapshot can only overstate
  // what is live in them; the switch re-checks each entry.
  std::map<uint32_t, std::vector<std::pair<PieceId, PieceLocation>>> live;
  RETURN_IF_ERROR(index_->ForEachPiece([&](const PieceId& id, const PieceLocation& loc) {
    if (candidates.count(loc.segment) != 0) live[loc.segment].emplace_back(id, loc);
  }));
  TestPoint("compact.listed");
  // Segments with nothing live first: removing them needs no room, so a
  // full drive gets that space back even if it cannot move anything.
  std::vector<uint32_t> order(candidates.begin(), candidates.end());
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return live[a].size() < live[b].size(); });
  for (uint32_t id : order) {
    auto& entries = live[id];
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.second.offset < b.second.offset; });
    Status st = CompactSegment(id, entries, &stats);
    if (st.code() == StatusCode::kCorruption) {
      // Copying would spread the damage; the segment stays for a scrub to
      // repair, and later passes leave it alone rather than copy its good
      // records again each time.
      spdlog::error("drive {}: not compacting segment {}: {}", path_, id, st.ToString());
      uncompactable_.insert(id);
      continue;
    }
    if (st.code() == StatusCode::kNoSpace && stats.segments_removed > 0) {
      spdlog::warn("drive {}: compaction stopped at segment {}: {}", path_, id, st.ToString());
      break;  // what was reclaimed stands; the rest waits for room
    }
    RETURN_IF_ERROR(st);
  }
  return stats;
}

Status Drive::Impl::CompactSegment(uint32_t id,
                                   const std::vector<std::pair<PieceId, PieceLocation>>& live,
                                   CompactionStats* stats) {
  std::shared_ptr<SegmentFile> file;
  uint64_t old_size = 0;
  {
    std::lock_guard lock(mu_);
    const Segment& seg = segments_.at(id);
    file = seg.file;
    old_size = seg.size;
  }

  struct Move {
    PieceId id;
    PieceLocation from, to;
  };
  std::vector<Move> moves;
  // Where this segment's copies went: each chunk's copy range, dropped by the switch.
  std::vector<std::pair<uint32_t, uint64_t>> copy_ranges;
  uint64_t copied = 0;
  for (size_t next = 0; next < live.size();) {
    // Read a chunk of records, verifying each, then append it in one write.
    std::vector<std::vector<uint8_t>> buffers;
    const size_t first_move = moves.size();
    uint64_t chunk = 0;
    while (next < live.size() && moves.size() - first_move < kCompactionChunkRecords) {
      const auto& [pid, loc] = live[next];
      const uint64_t record_size = RecordSize(loc.length);
      if (chunk > 0 && chunk + record_size > kCompactionChunkBytes) break;
      std::vector<uint8_t> prefix, payload;
      Status st = ReadRecord(*file, loc.offset, pid, loc.length, &prefix, &payload);
      if (!st.ok()) return st.WithContext(Where(pid, loc));
      buffers.push_back(std::move(prefix));
      buffers.push_back(std::move(payload));
      moves.push_back(Move{pid, loc, PieceLocation{0, chunk, loc.length}});
      chunk += record_size;
      ++next;
    }
    std::vector<iovec> iov;
    for (auto& b : buffers) iov.push_back(iovec{b.data(), b.size()});
    // Compaction may dip into the reserve: it is how a full drive gets space back.
    RETURN_IF_ERROR(CheckSpace(chunk, 0));
    // The copies may enter the index only through the switch below, which
    // checks that each piece is still live where it was copied from. A
    // rescan must never index them: a copy of a piece deleted meanwhile would
    // bring it back, and a copy of a piece deleted and appended again would
    // replace its newer bytes. Their watermark comes too late to stop a
    // rescan (a crash can leave the copies on disk and not the watermark,
    // which commits after the write and unsynced), so before a byte is
    // written a synced copy range tells recovery to leave them out.
    auto prepare = [&](const Reservation& r) -> Status {
      PieceIndex::Batch batch;
      batch.SetCopyRange(r.segment, r.offset, r.end);
      RETURN_IF_ERROR(index_->Write(&batch, /*sync=*/true));
      copy_ranges.emplace_back(r.segment, r.offset);
      TestPoint("index.synced");
      return Status::Ok();
    };
    // Committed like appends, so the watermark covers the copies, but not indexed.
    auto commit = [&](const Reservation& r) -> Status {
      TestPoint("compact.chunk_written", id);
      PieceIndex::Batch batch;
      batch.SetWatermark(r.segment, r.end);
      return index_->Write(&batch, /*sync=*/false);
    };
    ASSIGN_OR_RETURN(Reservation r, WriteRecords(iov, chunk, commit, prepare));
    for (size_t i = first_move; i < moves.size(); ++i) {
      moves[i].to.segment = r.segment;
      moves[i].to.offset += r.offset;
    }
    copied += chunk;
  }
  // The index may point at the copies only once they are durable.
  if (!moves.empty()) RETURN_IF_ERROR(Sync());
  TestPoint("compact.copied", id);

  uint64_t switched = 0;
  {
    std::lock_guard ilock(index_mu_);
    PieceIndex::Batch batch;
    std::vector<const Move*> won;
    for (const Move& m : moves) {
      ASSIGN_OR_RETURN(std::optional<PieceLocation> current, index_->Get(m.id));
      // A Delete since the snapshot wins: its copy is dead on arrival.
      if (current && *current == m.from) {
        batch.Put(m.id, m.to);
        won.push_back(&m);
      }
    }
    // The segment's marks stay until the file is gone: were they dropped
    // here, a crash before the unlink would make Open() rescan the segment
    // from 0 and point the moved pieces back at it. Syncing also makes every
    // earlier Delete of its pieces durable, so none points at a removed file,
    // and the copies' watermarks, so their copy ranges are no longer needed.
    batch.SetWatermark(id, old_size);
    for (const auto& [segment, offset] : copy_ranges) batch.DeleteCopyRange(segment, offset);
    RETURN_IF_ERROR(index_->Write(&batch, /*sync=*/true));
    std::lock_guard lock(mu_);
    for (const Move* m : won) {
      segments_.at(m->to.segment).live_record_bytes += RecordSize(m->to.length);
    }
    // From here readers that looked the piece up earlier miss the segment and look again.
    segments_.erase(id);
    switched = won.size();
  }
  TestPoint("index.synced");
  TestPoint("compact.switched", id);
  if (::unlink(file->path().c_str()) != 0) {
    return Status::FromErrno(errno, "drive " + path_ + ": removing compacted " + file->path());
  }
  RETURN_IF_ERROR(SyncDir(segments_dir_));
  PieceIndex::Batch batch;
  batch.DeleteSegmentMarks(id);
  Status st = index_->Write(&batch, /*sync=*/false);
  if (!st.ok()) spdlog::warn("drive {}: {}", path_, st.ToString());
  TestPoint("compact.removed", id);

  stats->segments_removed += 1;
  stats->pieces_moved += switched;
  stats->bytes_moved += copied;
  stats->bytes_reclaimed += old_size - std::min(old_size, copied);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Recovery

// Invariants that recovery relies on: an index entry is only ever written in
// the same batch as, or after, a watermark at or past the end of its record
// (Append commits both at once; compaction's copies commit their watermark
// before the switch points at them). And a compaction's copies lie in a copy
// range that was synced before they were written and is dropped only in a
// synced batch after their watermark. A WAL replayed up to any point keeps
// both. So records at or past a segment's watermark are exactly the ones the
// index may not know, entries there can only be ones this recovery wrote, and
// among them the copies are the ones no entry may point at: the switch that
// would have pointed at them did not commit, so the pieces' entries still
// point at the old segment, which is still there (or they were deleted).
Status Drive::Impl::Recover() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(segments_dir_));
  std::vector<uint32_t> ids;
  for (const std::string& name : names) {
    if (auto id = SegmentFile::ParseFileName(name)) {
      ids.push_back(*id);
    } else {
      spdlog::warn("drive {}: ignoring unexpected file segments/{}", path_, name);
    }
  }
  std::sort(ids.begin(), ids.end());
  ASSIGN_OR_RETURN(auto watermarks, index_->Watermarks());
  ASSIGN_OR_RETURN(auto durable_marks, index_->DurableMarks());
  ASSIGN_OR_RETURN(PieceIndex::CopyRangeMap copy_ranges, index_->CopyRanges());
  auto mark = [](const std::map<uint32_t, uint64_t>& marks, uint32_t id) -> uint64_t {
    auto it = marks.find(id);
    return it == marks.end() ? 0 : it->second;
  };

  // Per segment: the watermark before recovery, where re-verification
  // started, and the whole records it found below the watermark (normally
  // just the unsynced stretch between the durable mark and the watermark).
  struct Verified {
    uint64_t watermark = 0;
    uint64_t start = 0;
    std::map<uint64_t, RecordHeader> indexed;
  };
  std::map<uint32_t, Verified> verified;
  PieceIndex::Batch fix;
  // Records past the watermark go into the index as the scan finds them, so a
  // rebuild of a lost index holds no more than a batch in memory. Scanning in
  // segment and offset order makes the newest copy of a piece win.
  PieceIndex::Batch found;
  uint64_t found_count = 0, truncated_bytes = 0, corrupt_records = 0, skipped_copies = 0;
  auto flush_found = [&]() -> Status {
    if (found.empty()) return Status::Ok();
    Status st = index_->Write(&found, /*sync=*/false);
    found.Clear();
    return st;
  };

  for (uint32_t id : ids) {
    ASSIGN_OR_RETURN(std::shared_ptr<SegmentFile> file, SegmentFile::Open(segments_dir_, id));
    ASSIGN_OR_RETURN(uint64_t size, file->Size());
    Verified& v = verified[id];
    v.watermark = mark(watermarks, id);
    // Bytes below the durable mark were fdatasynced; above it, what the index
    // says may be torn or missing, and above the watermark there may be
    // records the index never saw.
    v.start = std::min(v.watermark, mark(durable_marks, id));
    // The file lost bytes the index had already seen: trust none of it.
    if (v.start > size) v.start = 0;
    uint64_t valid_end = size;
    const std::map<uint64_t, uint64_t>* copies = nullptr;
    if (auto it = copy_ranges.find(id); it != copy_ranges.end()) copies = &it->second;
    auto is_copy = [&](uint64_t offset) {
      if (copies == nullptr) return false;
      auto it = copies->upper_bound(offset);
      return it != copies->begin() && offset < std::prev(it)->second;
    };
    if (v.start < size) {
      Status put_status;
      auto on_record = [&](const ScannedRecord& rec) {
        if (!rec.payload_ok) {
          ++corrupt_records;
          spdlog::error("drive {}: segment {}: skipping piece {} at offset {}: {}", path_, id,
                        rec.header.id.ToString(), rec.offset, rec.payload_error);
          return;
        }
        if (rec.offset < v.watermark) {
          v.indexed[rec.offset] = rec.header;
          return;
        }
        // A copy from a compaction whose switch never committed: dead bytes.
        if (is_copy(rec.offset)) {
          ++skipped_copies;
          return;
        }
        found.Put(rec.header.id, PieceLocation{id, rec.offset, rec.header.length});
        ++found_count;
        if (found_count % 4096 == 0 && put_status.ok()) put_status = flush_found();
      };
      ASSIGN_OR_RETURN(ScanResult scan, ScanSegment(*file, v.start, size, on_record));
      RETURN_IF_ERROR(put_status);
      valid_end = scan.valid_end;
      if (valid_end < size) {
        spdlog::warn("drive {}: segment {}: truncating {} bytes of torn tail ({})", path_, id,
                     size - valid_end, scan.stop_reason);
        RETURN_IF_ERROR(file->Truncate(valid_end));
        truncated_bytes += size - valid_end;
      }
      RETURN_IF_ERROR(file->DataSync());
    }
    if (v.watermark != valid_end) fix.SetWatermark(id, valid_end);
    if (mark(durable_marks, id) != valid_end) fix.SetDurable(id, valid_end);
    Segment seg;
    seg.file = std::move(file);
    seg.size = seg.reserved = valid_end;
    seg.state = SegmentState::kSealed;
    segments_[id] = std::move(seg);
    next_segment_id_ = std::max(next_segment_id_, id + 1);
  }
  RETURN_IF_ERROR(flush_found());
  // Every watermark now covers its whole segment, so no copy range is needed
  // any more; one left in place could cover appends written past a cut tail.
  for (const auto& [id, ranges] : copy_ranges) {
    for (const auto& [offset, end] : ranges) fix.DeleteCopyRange(id, offset);
  }
  // Marks of segments whose files are gone (a compaction that crashed after
  // its unlink, or a lost file).
  for (const auto* marks : {&watermarks, &durable_marks}) {
    for (const auto& [id, offset] : *marks) {
      if (segments_.count(id) == 0) fix.DeleteSegmentMarks(id);
      next_segment_id_ = std::max(next_segment_id_, id + 1);
    }
  }

  // Keep an index entry only if its record is still there: its segment
  // exists, it ends within the recovered size, and where the segment was
  // re-verified below its watermark, a whole record of that piece starts at
  // its offset.
  uint64_t lost_missing = 0, lost_torn = 0, live_pieces = 0, live_payload = 0;
  std::set<uint32_t> missing_segments;
  RETURN_IF_ERROR(index_->ForEachPiece([&](const PieceId& pid, const PieceLocation& loc) {
    auto seg = segments_.find(loc.segment);
    if (seg == segments_.end()) {
      fix.Delete(pid);
      ++lost_missing;
      missing_segments.insert(loc.segment);
      return;
    }
    bool intact = loc.length <= kMaxPieceLength && loc.offset <= seg->second.size &&
                  RecordSize(loc.length) <= seg->second.size - loc.offset;
    const Verified& v = verified.at(loc.segment);
    if (intact && loc.offset >= v.start && loc.offset < v.watermark) {
      auto rec = v.indexed.find(loc.offset);
      intact = rec != v.indexed.end() && rec->second.id == pid && rec->second.length == loc.length;
    }
    if (!intact) {
      fix.Delete(pid);
      ++lost_torn;
      return;
    }
    seg->second.live_record_bytes += RecordSize(loc.length);
    ++live_pieces;
    live_payload += loc.length;
  }));
  piece_count_ = live_pieces;
  live_payload_bytes_ = live_payload;
  // Synced: this also makes the unsynced batches of found entries durable.
  // (Found records moved their watermarks, so the batch is never empty then.)
  if (!fix.empty()) {
    RETURN_IF_ERROR(index_->Write(&fix, /*sync=*/true));
    TestPoint("index.synced");
  }

  for (uint32_t id : missing_segments) {
    spdlog::error("drive {}: segment {} is missing; its pieces are lost", path_, id);
  }
  if (lost_missing + lost_torn + found_count + truncated_bytes + corrupt_records + skipped_copies >
      0) {
    spdlog::warn(
        "drive {}: recovered: {} pieces indexed from segments, {} dropped as torn, {} lost with "
        "missing segments, {} corrupt records skipped, {} copies of an unfinished compaction "
        "left out, {} bytes of torn tail truncated",
        path_, found_count, lost_torn, lost_missing, corrupt_records, skipped_copies,
        truncated_bytes);
  }

  // The newest segment takes appends again unless it is full.
  if (!segments_.empty()) {
    auto& [id, seg] = *segments_.rbegin();
    if (seg.size < options_.segment_size) {
      seg.state = SegmentState::kActive;
      active_id_ = id;
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Drive

Result<std::unique_ptr<Drive>> Drive::Open(const std::string& path, const std::string& cluster_guid,
                                           uint64_t array_id, const DriveIdentity& identity_if_new,
                                           const DriveOptions& options) {
  if (options.segment_size == 0 ||
      !(options.compact_dead_ratio > 0 && options.compact_dead_ratio <= 1)) {
    return Status::InvalidArgument("opening drive " + path +
                                   ": segment_size must be positive and compact_dead_ratio in "
                                   "(0, 1]");
  }
  ASSIGN_OR_RETURN(DriveIdentity identity,
                   LoadOrFormatDriveIdentity(path, cluster_guid, array_id, identity_if_new));
  RETURN_IF_ERROR(CreateDirDurably(path + "/segments"));
  RETURN_IF_ERROR(CreateDirDurably(path + "/index"));
  ASSIGN_OR_RETURN(std::unique_ptr<PieceIndex> index, PieceIndex::Open(path + "/index"));
  auto impl = std::make_unique<Impl>(path, std::move(identity), options, std::move(index));
  RETURN_IF_ERROR(impl->Recover().WithContext("opening drive " + path));
  return std::unique_ptr<Drive>(new Drive(std::move(impl)));
}

Drive::Drive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Drive::~Drive() = default;

const DriveIdentity& Drive::identity() const { return impl_->identity(); }
const std::string& Drive::path() const { return impl_->path(); }
Status Drive::Append(const PieceId& id, std::span<const uint8_t> bytes) {
  return impl_->Append(id, bytes);
}
Status Drive::Sync() { return impl_->Sync(); }
Result<std::vector<uint8_t>> Drive::Read(const PieceId& id) { return impl_->Read(id); }
Result<uint64_t> Drive::PieceLength(const PieceId& id) { return impl_->PieceLength(id); }
Status Drive::Delete(const PieceId& id) { return impl_->Delete(id); }
std::vector<PieceId> Drive::ListPieces() { return impl_->ListPieces(); }
DriveUsage Drive::Usage() { return impl_->Usage(); }
Status Drive::failure() const { return impl_->failure(); }
Result<CompactionStats> Drive::Compact(bool full) { return impl_->Compact(full); }

}  // namespace tessera::store
