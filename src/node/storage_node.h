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
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "io/clone_store.h"
#include "io/deferred_delete_piece_store.h"
#include "io/file_reader.h"
#include "io/local_piece_store.h"
#include "io/routing_piece_store.h"
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
  // How long the pieces of replaced and deleted files are kept, so that a
  // read that fetched the old record finishes (io/deferred_delete_piece_store.h).
  std::chrono::milliseconds delete_grace{30'000};
  store::DriveOptions drive_options;
};

// Pieces of files written by different nodes share drives, so an object id
// must be unique in the cluster: the writing node's array id (12 bits) above
// its own counter (52 bits). Ids a node handed out before it had this scheme
// are below 2^52 and so never collide with these.
inline constexpr int kObjectIdNodeShift = 52;
uint64_t ClusterObjectId(uint32_t array_id, uint64_t local_id);

// When a PUT may commit; at most one of the two.
struct PutCondition {
  // A sha256 in hex, or "*" for any content: only if the file exists with
  // that content (a read-modify-write without a lock).
  std::optional<std::string> if_match;
  // Only if there is no file (a create that must not replace).
  bool if_absent = false;
};

struct PutResult {
  meta::FileRecord record;
  bool created = false;  // false: an existing file was replaced
};

// Feeds a file's bytes, in order, to the sink it is given.
using ByteSource = std::function<Status(const io::ByteSink&)>;

class StorageNode {
 public:
  // `metadata`: where file records live; by default a RocksDB database in
  // the state dir (a standalone node). A cluster node passes its sharded store.
  static Result<std::unique_ptr<StorageNode>> Open(
      const NodeOptions& options, std::unique_ptr<meta::MetadataStore> metadata = nullptr);
  ~StorageNode();

  // `content_length` when known up front (checked against max_file_size).
  // A condition that does not hold at the commit is ConditionFailed and
  // nothing changes.
  Result<PutResult> PutFile(const std::string& ns, const std::string& path,
                            std::optional<uint64_t> content_length, const ByteSource& source,
                            const PutCondition& condition = {});
  // A cluster-unique object id for new pieces (ClusterObjectId).
  Result<uint64_t> NewObjectId();
  Result<meta::FileRecord> StatFile(const std::string& ns, const std::string& path);
  // Reads [offset, offset+length) of a file whose record the caller holds.
  Status ReadFile(const meta::FileRecord& record, uint64_t offset, uint64_t length,
                  const io::ByteSink& sink);
  Status DeleteFile(const std::string& ns, const std::string& path);
  Result<meta::Listing> ListFiles(const std::string& ns, const std::string& prefix,
                                  const std::string& marker, size_t limit);

  // Clones and snapshots (io/clone_store.h). Writes, so the commit gate is
  // asked first. A clone's target may not be in a namespace of the
  // cluster's own (_sstore, _snap): InvalidArgument.
  Result<io::CloneResult> CloneFile(const std::string& from_ns, const std::string& from_path,
                                    const std::string& to_ns, const std::string& to_path);
  Result<io::SnapshotInfo> CreateSnapshot(
      const std::string& name, const std::vector<std::pair<std::string, std::string>>& files);
  Result<std::vector<io::SnapshotInfo>> ListSnapshots();
  Result<std::vector<meta::FileRecord>> SnapshotFiles(const std::string& name);
  Result<uint64_t> DeleteSnapshot(const std::string& name);

  // Identity, protection and drives, as GET /v1/node shows them.
  nlohmann::json Info();
  // The record with every unit's placement, as GET /v1/stat shows it.
  static nlohmann::json StatJson(const meta::FileRecord& record);
  // `full`: Drive::Compact's full pass (every dead byte, the active
  // segment included).
  Result<store::CompactionStats> Compact(bool full = false);

  // Asked just before a file's record is committed; an error aborts the
  // write (its pieces are deleted) and is returned. A cluster node passes
  // its write gate, so a PUT that outlives the node's quorum fails.
  void SetCommitGate(std::function<Status()> gate);

  // Live settings: take effect for the next request / compaction pass.
  void SetMaxFileSize(uint64_t bytes);
  uint64_t max_file_size() const { return max_file_size_.load(); }
  void SetCompactInterval(int seconds);  // > 0; the compactor must have been started
  // The lnums of the drives that are up.
  std::vector<uint32_t> UpDriveLnums();
  // Other nodes' drives, by array id (io/routing_piece_store.h): new files
  // are placed over this node's and the peers' drives, and reads reach
  // units wherever they are. Without peers the node uses its own drives.
  // Nodes in `not_writable` (this one too) get no new data.
  void SetPeers(std::map<uint32_t, std::shared_ptr<io::PieceStore>> peers,
                std::set<uint32_t> not_writable = {});
  // The file records and the cluster's drives as this node reaches them:
  // what cluster jobs (FlexProtect) scan and rewrite.
  meta::MetadataStore& metadata() { return *metadata_; }
  io::PieceStore& pieces() { return *router_; }
  // The same, but deleting pieces only after NodeOptions::delete_grace: for
  // jobs that replace a file's content under a new object id (packing).
  io::PieceStore& pieces_deleted_after_grace() { return *deferred_; }
  // This node's own drives (what it serves to peers).
  io::LocalPieceStore& local_pieces() { return *pieces_; }

  const NodeState& state() const { return state_; }
  const NodeOptions& options() const { return options_; }

 private:
  StorageNode(NodeOptions options, NodeState state);
  Status OpenDrives();
  Status AskCommitGate();
  // PutFile's commit when there must be no file: nothing replaced, or
  // ConditionFailed.
  Result<std::optional<meta::FileRecord>> CreateIfAbsent(const meta::FileRecord& record);
  // PutFile's commit under If-Match: the replaced record, or ConditionFailed.
  Result<std::optional<meta::FileRecord>> ReplaceIfMatch(const meta::FileRecord& record,
                                                         const std::string& if_match);
  void CompactionLoop();
  void RepairPiece(const meta::FileRecord& record, const io::FileReader::Repair& repair);

  NodeOptions options_;
  NodeState state_;
  std::unique_ptr<io::LocalPieceStore> pieces_;
  std::unique_ptr<io::RoutingPieceStore> router_;           // over pieces_ and the peers
  std::unique_ptr<io::DeferredDeletePieceStore> deferred_;  // over router_
  std::unique_ptr<meta::MetadataStore> metadata_;

  std::mutex gate_mutex_;
  std::function<Status()> commit_gate_;  // guarded by gate_mutex_
  std::atomic<uint64_t> max_file_size_;
  std::atomic<int> compact_interval_seconds_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread compactor_;
};

}  // namespace tessera::node
