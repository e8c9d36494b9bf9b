// One storage node: its drives, its file metadata and the data path between
// them, with no transport attached (the HTTP API and tests drive it).
//
// Open() adopts the drives named in the options: a drive it already knows
// keeps its lnum; an empty or missing directory becomes a new drive with a
// fresh lnum (the old one, if that path had one, is reported lost); a drive
// that belongs to another cluster or node is refused and reported. Files
// whose units sat on lost drives stay readable while no more than the
// policy's parity units per stripe are lost.
//
// A file is durable and visible once PutFile returns OK; a crash before that
// leaves no trace of it. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "io/file_reader.h"
#include "io/local_piece_store.h"
#include "layout/protection_policy.h"
#include "meta/metadata_store.h"
#include "node/node_state.h"

namespace tessera::node {

struct NodeOptions {
  std::vector<std::string> drive_paths;
  std::string state_dir;  // node.json and the metadata database
  layout::ProtectionPolicy protection;
  uint64_t max_file_size = 1ull << 40;
  int compact_interval_seconds = 30;  // 0 disables background compaction
  store::DriveOptions drive_options;
};

struct PutResult {
  meta::FileRecord record;
  bool created = false;  // false: an existing file was replaced
};

// Feeds a file's bytes, in order, to the sink it is given.
using ByteSource = std::function<Status(const io::ByteSink&)>;

class StorageNode {
 public:
  static Result<std::unique_ptr<StorageNode>> Open(const NodeOptions& options);
  ~StorageNode();

  // `content_length` when known up front (checked against max_file_size).
  Result<PutResult> PutFile(const std::string& ns, const std::string& path,
                            std::optional<uint64_t> content_length, const ByteSource& source);
  Result<meta::FileRecord> StatFile(const std::string& ns, const std::string& path);
  // Reads [offset, offset+length) of a file whose record the caller holds.
  Status ReadFile(const meta::FileRecord& record, uint64_t offset, uint64_t length,
                  const io::ByteSink& sink);
  Status DeleteFile(const std::string& ns, const std::string& path);
  Result<meta::Listing> ListFiles(const std::string& ns, const std::string& prefix,
                                  const std::string& marker, size_t limit);

  // Identity, protection and drives, as GET /v1/node shows them.
  nlohmann::json Info();
  // The record with every unit's placement, as GET /v1/stat shows it.
  static nlohmann::json StatJson(const meta::FileRecord& record);
  Result<store::CompactionStats> Compact();

  // Live settings: take effect for the next request / compaction pass.
  void SetMaxFileSize(uint64_t bytes);
  uint64_t max_file_size() const { return max_file_size_.load(); }
  void SetCompactInterval(int seconds);  // > 0; the compactor must have been started
  // The lnums of the drives that are up.
  std::vector<uint32_t> UpDriveLnums();

  const NodeState& state() const { return state_; }
  const NodeOptions& options() const { return options_; }

 private:
  StorageNode(NodeOptions options, NodeState state);
  Status OpenDrives();
  void CompactionLoop();

  NodeOptions options_;
  NodeState state_;
  std::unique_ptr<io::LocalPieceStore> pieces_;
  std::unique_ptr<meta::MetadataStore> metadata_;

  std::atomic<uint64_t> max_file_size_;
  std::atomic<int> compact_interval_seconds_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread compactor_;
};

}  // namespace tessera::node
