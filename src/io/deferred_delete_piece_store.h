// DeferredDeletePieceStore: a PieceStore whose deletes wait out a grace
// period, so that a reader who fetched a file's record just before the file
// was overwritten, deleted or packed still finds its pieces: it reads the old
// content whole instead of a 404 or a body cut short.
//
// Every call but Delete goes straight to `target`. Delete queues the piece
// and returns Ok; a background thread deletes it `grace` later. With a grace
// of zero, Delete deletes at once.
//
// With a journal path, the queue outlives the process: it is written there
// (atomically) at most once a second while it changes, and when the store is
// destroyed, and a store opened on the same journal deletes what it lists,
// `grace` after it opens. So a restart, or a crash (which loses at most the
// last second of queued deletes), leaves no pieces behind that the queue
// held. Without a journal the destructor deletes what is queued, for at most
// kDrainTime, and drops the rest.
//
// Use it only for pieces whose id can never be written again (the object
// id of replaced or deleted content): a unit that moves between drives and
// may come back to the same one must be deleted at once.
//
// Threading: thread-safe. `target` is borrowed and must outlive this.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "io/piece_store.h"

namespace tessera::io {

class DeferredDeletePieceStore final : public PieceStore {
 public:
  static constexpr std::chrono::seconds kDrainTime{5};
  static constexpr std::chrono::seconds kJournalInterval{1};

  DeferredDeletePieceStore(PieceStore* target, std::chrono::milliseconds grace,
                           std::string journal_path = "");
  ~DeferredDeletePieceStore() override;
  DeferredDeletePieceStore(const DeferredDeletePieceStore&) = delete;
  DeferredDeletePieceStore& operator=(const DeferredDeletePieceStore&) = delete;

  layout::Topology WritableTopology() override { return target_->WritableTopology(); }
  Status Append(const meta::DriveRef& drive, const store::PieceId& id,
                std::span<const uint8_t> bytes) override {
    return target_->Append(drive, id, bytes);
  }
  Status Sync(const std::vector<meta::DriveRef>& drives) override { return target_->Sync(drives); }
  Result<std::vector<uint8_t>> Read(const meta::DriveRef& drive,
                                    const store::PieceId& id) override {
    return target_->Read(drive, id);
  }
  Status Delete(const meta::DriveRef& drive, const store::PieceId& id) override;
  void Forget(const meta::DriveRef& drive, const store::PieceId& id) override {
    target_->Forget(drive, id);
  }
  bool IsLocal(const meta::DriveRef& drive) const override { return target_->IsLocal(drive); }

  // Pieces queued and not yet deleted.
  size_t pending() const;

 private:
  struct Queued {
    std::chrono::steady_clock::time_point due;
    meta::DriveRef drive;
    store::PieceId id;
  };

  void Run();
  void LoadJournal();
  // Writes the queue to the journal; called with mu_ held (the lock is
  // released while writing).
  void WriteJournal(std::unique_lock<std::mutex>& lock);

  PieceStore* const target_;
  const std::chrono::milliseconds grace_;
  const std::string journal_path_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Queued> queue_;    // in due order: every piece waits the same grace
  bool journal_stale_ = false;  // the queue changed since the journal was written
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_until_;  // once stopping_
  std::thread deleter_;
};

}  // namespace tessera::io
