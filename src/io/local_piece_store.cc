#include "io/local_piece_store.h"

#include <spdlog/spdlog.h>

#include <string>

#include "common/thread_name.h"

namespace tessera::io {

LocalPieceStore::Syncer::Syncer(store::Drive& drive)
    : drive_(drive), thread_([this] {
        SetThreadName("dsync-" + std::to_string(drive_.identity().lnum));
        Run();
      }) {}

LocalPieceStore::Syncer::~Syncer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  requested_cv_.notify_all();
  thread_.join();
}

uint64_t LocalPieceStore::Syncer::Request() {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t ticket = ++requested_;
  requested_cv_.notify_one();
  return ticket;
}

Status LocalPieceStore::Syncer::Wait(uint64_t ticket) {
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [&] { return synced_ >= ticket; });
  return ticket <= failed_ticket_ ? last_error_ : Status::Ok();
}

void LocalPieceStore::Syncer::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    requested_cv_.wait(lock, [&] { return stopping_ || requested_ > synced_; });
    if (requested_ == synced_ && stopping_) return;
    // Every ticket up to `target` was taken after its writer's appends
    // returned, so one Sync started now covers them all.
    uint64_t target = requested_;
    lock.unlock();
    Status status = drive_.Sync();
    lock.lock();
    if (!status.ok()) {
      last_error_ = status;
      failed_ticket_ = target;
    }
    synced_ = target;
    done_cv_.notify_all();
  }
}

LocalPieceStore::LocalPieceStore(uint32_t node) : node_(node) {}

// Syncers go first: they hold references to the drives.
LocalPieceStore::~LocalPieceStore() { syncers_.clear(); }

void LocalPieceStore::AddDrive(std::unique_ptr<store::Drive> drive) {
  uint32_t lnum = drive->identity().lnum;
  syncers_[lnum] = std::make_unique<Syncer>(*drive);
  drives_[lnum] = std::move(drive);
}

void LocalPieceStore::AddMissingDrive(uint32_t lnum, const std::string& path,
                                      const std::string& reason) {
  missing_[lnum] = {path, reason};
}

Result<store::Drive*> LocalPieceStore::Find(const meta::DriveRef& drive) {
  if (drive.node != node_) {
    return Status::Unavailable("drive " + std::to_string(drive.node) + ":" +
                               std::to_string(drive.lnum) + " is on another node");
  }
  auto it = drives_.find(drive.lnum);
  if (it == drives_.end()) {
    auto gone = missing_.find(drive.lnum);
    std::string why = gone == missing_.end() ? "unknown to this node" : gone->second.second;
    return Status::Unavailable("drive " + std::to_string(node_) + ":" + std::to_string(drive.lnum) +
                               " is down: " + why);
  }
  return it->second.get();
}

layout::Topology LocalPieceStore::WritableTopology() {
  std::lock_guard<std::mutex> lock(topology_mutex_);
  auto now = std::chrono::steady_clock::now();
  if (topology_.drives.empty() || now - topology_time_ > std::chrono::seconds(1)) {
    layout::Topology fresh;
    // A failed drive, or one down to its reserve, has 0 to offer: placement
    // leaves it out.
    for (auto& [lnum, drive] : drives_) {
      store::DriveUsage usage = drive->Usage();
      fresh.drives.push_back({node_, lnum, usage.writable_bytes});
    }
    topology_ = std::move(fresh);
    topology_time_ = now;
  }
  return topology_;
}

Status LocalPieceStore::Append(const meta::DriveRef& drive, const store::PieceId& id,
                               std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(store::Drive * d, Find(drive));
  return d->Append(id, bytes);
}

Status LocalPieceStore::Sync(const std::vector<meta::DriveRef>& drives) {
  for (Status& status : SyncEach(drives)) {
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

std::vector<Status> LocalPieceStore::SyncEach(const std::vector<meta::DriveRef>& drives) {
  // Drives sync in parallel: a file's latency is one fsync, not one per drive.
  std::vector<Status> results(drives.size());
  std::vector<std::pair<Syncer*, uint64_t>> tickets(drives.size(), {nullptr, 0});
  for (size_t i = 0; i < drives.size(); ++i) {
    results[i] = Find(drives[i]).status();
    if (!results[i].ok()) continue;
    Syncer* syncer = syncers_.at(drives[i].lnum).get();
    tickets[i] = {syncer, syncer->Request()};
  }
  for (size_t i = 0; i < drives.size(); ++i) {
    if (tickets[i].first != nullptr) results[i] = tickets[i].first->Wait(tickets[i].second);
  }
  return results;
}

Result<std::vector<uint8_t>> LocalPieceStore::Read(const meta::DriveRef& drive,
                                                   const store::PieceId& id) {
  ASSIGN_OR_RETURN(store::Drive * d, Find(drive));
  return d->Read(id);
}

Status LocalPieceStore::Delete(const meta::DriveRef& drive, const store::PieceId& id) {
  Result<store::Drive*> d = Find(drive);
  if (!d.ok()) return Status::Ok();
  Status s = (*d)->Delete(id);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

std::vector<DriveStatus> LocalPieceStore::Drives() {
  std::map<uint32_t, DriveStatus> all;
  for (auto& [lnum, drive] : drives_) {
    Status failure = drive->failure();
    all[lnum] = {lnum,          drive->path(), failure.ok(), failure.message(), drive->identity(),
                 drive->Usage()};
  }
  for (auto& [lnum, gone] : missing_) {
    DriveStatus status;
    status.lnum = lnum;
    status.path = gone.first;
    status.reason = gone.second;
    all[lnum] = status;
  }
  std::vector<DriveStatus> out;
  for (auto& [lnum, status] : all) out.push_back(std::move(status));
  return out;
}

Result<store::CompactionStats> LocalPieceStore::CompactAll(bool full) {
  store::CompactionStats total;
  Status first_error;
  // One drive's failure (full, failed) must not keep the others from compacting.
  for (auto& [lnum, drive] : drives_) {
    Result<store::CompactionStats> compacted = drive->Compact(full);
    if (!compacted.ok()) {
      spdlog::warn("compacting drive {}: {}", drive->path(), compacted.status().ToString());
      if (first_error.ok()) first_error = compacted.status();
      continue;
    }
    const store::CompactionStats& stats = *compacted;
    total.segments_removed += stats.segments_removed;
    total.pieces_moved += stats.pieces_moved;
    total.bytes_moved += stats.bytes_moved;
    total.bytes_reclaimed += stats.bytes_reclaimed;
  }
  if (!first_error.ok()) return first_error;
  return total;
}

}  // namespace tessera::io
