// PieceStore over this node's own drives.
//
// Drives are added at start-up; a drive the node knows but cannot open (its
// directory was removed, or it failed) is registered as missing: reads of
// its pieces fail with Unavailable so readers rebuild them elsewhere, and
// no new piece is placed on it. Thread-safe; drives are not added or removed
// while requests run.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

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

  void AddDrive(std::unique_ptr<store::Drive> drive);
  void AddMissingDrive(uint32_t lnum, const std::string& path, const std::string& reason);

  layout::Topology WritableTopology() override;
  Status Append(const meta::DriveRef& drive, const store::PieceId& id,
                std::span<const uint8_t> bytes) override;
  Status Sync(const std::vector<meta::DriveRef>& drives) override;
  Result<std::vector<uint8_t>> Read(const meta::DriveRef& drive, const store::PieceId& id) override;
  Status Delete(const meta::DriveRef& drive, const store::PieceId& id) override;

  std::vector<DriveStatus> Drives();
  // One compaction pass on every up drive; totals what it did.
  Result<store::CompactionStats> CompactAll();

 private:
  Result<store::Drive*> Find(const meta::DriveRef& drive);

  const uint32_t node_;
  std::map<uint32_t, std::unique_ptr<store::Drive>> drives_;
  std::map<uint32_t, std::pair<std::string, std::string>> missing_;  // lnum -> (path, reason)
  // Free space changes slowly; statvfs on every write would cost more than it tells.
  std::mutex topology_mutex_;
  layout::Topology topology_;
  std::chrono::steady_clock::time_point topology_time_;
};

}  // namespace tessera::io
