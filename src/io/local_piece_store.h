// PieceStore over this node's own drives.
//
// Drives are added at start-up; a drive the node knows but cannot open (its
// directory was removed, or it failed) is registered as missing: reads of
// its pieces fail with Unavailable so readers rebuild them elsewhere, and
// no new piece is placed on it. Thread-safe; drives are not added or removed
// while requests run.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "io/piece_store.h"
#include "store/drive.h"

namespace tessera::io {

struct DriveStatus {
  uint32_t lnum = 0;
  std::string path;
  bool up = false;
  std::string reason;  // why a drive is not up
  store::DriveIdentity identity;
  store::DriveUsage usage;
};

class LocalPieceStore final : public PieceStore {
 public:
  explicit LocalPieceStore(uint32_t node);
  ~LocalPieceStore() override;

  void AddDrive(std::unique_ptr<store::Drive> drive);
  void AddMissingDrive(uint32_t lnum, const std::string& path, const std::string& reason);

  layout::Topology WritableTopology() override;
  Status Append(const meta::DriveRef& drive, const store::PieceId& id,
                std::span<const uint8_t> bytes) override;
  Status Sync(const std::vector<meta::DriveRef>& drives) override;
  // Sync with one outcome per drive, in the order given, so that one failing
  // drive fails only the writers that used it. Drives sync in parallel.
  std::vector<Status> SyncEach(const std::vector<meta::DriveRef>& drives);
  Result<std::vector<uint8_t>> Read(const meta::DriveRef& drive, const store::PieceId& id) override;
  Status Delete(const meta::DriveRef& drive, const store::PieceId& id) override;

  std::vector<DriveStatus> Drives();
  // One compaction pass on every up drive (Drive::Compact); totals what it did.
  Result<store::CompactionStats> CompactAll(bool full = false);

 private:
  // Syncs one drive on behalf of many writers: a writer takes a ticket after
  // its appends and waits until a sync that started after the ticket ends.
  // One long-lived thread per drive, so a file's drives sync in parallel
  // without creating threads per request.
  class Syncer {
   public:
    explicit Syncer(store::Drive& drive);
    ~Syncer();
    uint64_t Request();
    Status Wait(uint64_t ticket);

   private:
    void Run();
    store::Drive& drive_;
    std::mutex mutex_;
    std::condition_variable requested_cv_;
    std::condition_variable done_cv_;
    uint64_t requested_ = 0;
    uint64_t synced_ = 0;
    Status last_error_;
    uint64_t failed_ticket_ = 0;  // tickets up to this one saw last_error_
    bool stopping_ = false;
    std::thread thread_;
  };

  Result<store::Drive*> Find(const meta::DriveRef& drive);

  const uint32_t node_;
  std::map<uint32_t, std::unique_ptr<store::Drive>> drives_;
  std::map<uint32_t, std::unique_ptr<Syncer>> syncers_;
  std::map<uint32_t, std::pair<std::string, std::string>> missing_;  // lnum -> (path, reason)
  // Free space changes slowly; statvfs on every write would cost more than it tells.
  std::mutex topology_mutex_;
  layout::Topology topology_;
  std::chrono::steady_clock::time_point topology_time_;
};

}  // namespace tessera::io
