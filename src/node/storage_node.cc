#include "node/storage_node.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "common/object_name.h"
#include "common/thread_name.h"
#include "io/file_writer.h"
#include "io/piece_map.h"
#include "io/piece_repair.h"
#include "io/shadow_store.h"
#include "meta/rocksdb_metadata_store.h"

namespace tessera::node {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Commits an If-Match PUT tries while only the placement of the content moves.
constexpr int kIfMatchAttempts = 5;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsFormattedDrive(const std::string& path) {
  std::error_code ec;
  return fs::exists(path + "/identity.json", ec);
}

}  // namespace

uint64_t ClusterObjectId(uint32_t array_id, uint64_t local_id) {
  return (static_cast<uint64_t>(array_id) << kObjectIdNodeShift) | local_id;
}

StorageNode::StorageNode(NodeOptions options, NodeState state)
    : options_(std::move(options)),
      state_(std::move(state)),
      max_file_size_(options_.max_file_size),
      compact_interval_seconds_(options_.compact_interval_seconds) {}

void StorageNode::SetMaxFileSize(uint64_t bytes) { max_file_size_.store(bytes); }

void StorageNode::SetCommitGate(std::function<Status()> gate) {
  std::lock_guard<std::mutex> lock(gate_mutex_);
  commit_gate_ = std::move(gate);
}

void StorageNode::SetCompactInterval(int seconds) {
  compact_interval_seconds_.store(seconds);
  stop_cv_.notify_all();  // the compactor waits out the new interval from now
}

void StorageNode::SetPeers(std::map<uint32_t, std::shared_ptr<io::PieceStore>> peers,
                           std::set<uint32_t> not_writable) {
  router_->SetPeers(std::move(peers), std::move(not_writable));
}

std::vector<uint32_t> StorageNode::UpDriveLnums() {
  std::vector<uint32_t> out;
  for (const io::DriveStatus& d : pieces_->Drives()) {
    if (d.up) out.push_back(d.lnum);
  }
  return out;
}

StorageNode::~StorageNode() {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (compactor_.joinable()) compactor_.join();
}

Result<std::unique_ptr<StorageNode>> StorageNode::Open(
    const NodeOptions& options, std::unique_ptr<meta::MetadataStore> metadata) {
  if (options.drive_paths.empty())
    return Status::InvalidArgument("a node needs at least one drive");
  std::error_code ec;
  fs::create_directories(options.state_dir, ec);
  if (ec)
    return Status::IOError("creating state directory " + options.state_dir + ": " + ec.message());
  Result<NodeState> loaded = NodeState::Load(options.state_dir);
  NodeState state;
  if (loaded.ok()) {
    state = std::move(loaded).value();
  } else if (loaded.status().code() == StatusCode::kNotFound) {
    state = NodeState::New();
    spdlog::info("new node: cluster {} array id {}", state.cluster_guid, state.array_id);
  } else {
    return loaded.status();
  }
  auto node = std::unique_ptr<StorageNode>(new StorageNode(options, std::move(state)));
  RETURN_IF_ERROR(node->OpenDrives());
  if (metadata == nullptr) {
    ASSIGN_OR_RETURN(metadata, meta::RocksDbMetadataStore::Open(options.state_dir + "/meta"));
  }
  node->metadata_ = std::move(metadata);
  if (options.compact_interval_seconds > 0) {
    node->compactor_ = std::thread([n = node.get()] {
      SetThreadName("compactor");
      n->CompactionLoop();
    });
  }
  return node;
}

Status StorageNode::OpenDrives() {
  pieces_ = std::make_unique<io::LocalPieceStore>(state_.array_id);
  router_ = std::make_unique<io::RoutingPieceStore>(state_.array_id, pieces_.get());
  deferred_ = std::make_unique<io::DeferredDeletePieceStore>(
      router_.get(), options_.delete_grace, options_.state_dir + "/pending-deletes");
  std::set<uint32_t> opened, refused;
  for (const std::string& given : options_.drive_paths) {
    std::string path = fs::absolute(given).lexically_normal().string();
    bool existing = IsFormattedDrive(path);
    store::DriveIdentity fresh;
    fresh.cluster_guid = state_.cluster_guid;
    fresh.array_id = state_.array_id;
    fresh.lnum = state_.next_lnum;
    Result<std::unique_ptr<store::Drive>> drive = store::Drive::Open(
        path, state_.cluster_guid, state_.array_id, fresh, options_.drive_options);
    if (!drive.ok()) {
      spdlog::error("refusing drive {}: {}", path, drive.status().message());
      // Keep the lnum this path had, if any, visible as down with the reason.
      for (auto& [lnum, known] : state_.drive_paths) {
        if (known != path) continue;
        pieces_->AddMissingDrive(lnum, path, drive.status().message());
        refused.insert(lnum);
      }
      continue;
    }
    uint32_t lnum = (*drive)->identity().lnum;
    if (!existing) {
      ++state_.next_lnum;
      for (auto& [old_lnum, known] : state_.drive_paths) {
        if (known == path && old_lnum != lnum) {
          spdlog::warn("drive lnum {} at {} is gone; a new drive lnum {} takes its place", old_lnum,
                       path, lnum);
        }
      }
      spdlog::info("formatted new drive {} as lnum {} (serial {})", path, lnum,
                   (*drive)->identity().serial);
    }
    state_.drive_paths[lnum] = path;
    opened.insert(lnum);
    pieces_->AddDrive(std::move(drive).value());
  }
  for (auto& [lnum, path] : state_.drive_paths) {
    if (opened.count(lnum) || refused.count(lnum)) continue;  // refused: said why above
    bool replaced = false;
    for (auto& [other, other_path] : state_.drive_paths) {
      if (other != lnum && other_path == path && opened.count(other)) replaced = true;
    }
    std::string reason = replaced ? "replaced by a new drive at " + path
                                  : "not found at " + path + " (removed or not given)";
    spdlog::warn("drive lnum {} is down: {}", lnum, reason);
    pieces_->AddMissingDrive(lnum, path, reason);
  }
  return state_.Save(options_.state_dir);
}

Result<PutResult> StorageNode::PutFile(const std::string& ns, const std::string& path,
                                       std::optional<uint64_t> content_length,
                                       const ByteSource& source, const PutCondition& condition) {
  RETURN_IF_ERROR(ValidateNamespace(ns));
  RETURN_IF_ERROR(ValidatePath(path));
  const uint64_t max_file_size = this->max_file_size();
  if (content_length && *content_length > max_file_size) {
    return Status::TooLarge("file of " + std::to_string(*content_length) +
                            " bytes exceeds the node's maximum file size of " +
                            std::to_string(max_file_size) + " bytes");
  }
  ASSIGN_OR_RETURN(const uint64_t object_id, NewObjectId());
  io::FileWriter writer(*router_, options_.protection, object_id);
  uint64_t received = 0;
  Status status = source([&](std::span<const uint8_t> bytes) {
    received += bytes.size();
    if (received > max_file_size) {
      return Status::TooLarge("file exceeds the node's maximum file size of " +
                              std::to_string(max_file_size) + " bytes");
    }
    return writer.Write(bytes);
  });
  if (status.ok() && content_length && received != *content_length) {
    status = Status::InvalidArgument("body ended after " + std::to_string(received) + " of " +
                                     std::to_string(*content_length) + " bytes");
  }
  Result<io::WrittenFile> written = status.ok() ? writer.Finish() : Result<io::WrittenFile>(status);
  if (!written.ok()) {
    writer.Abort();
    return written.status();
  }
  meta::FileRecord record =
      written->Record(ns, path, object_id, options_.protection.ToString(), NowNs());
  // Asked again at the commit: a long upload that began while the node was
  // writable must not commit after it stopped being so.
  if (Status s = AskCommitGate(); !s.ok()) {
    writer.Abort();
    return s;
  }
  Result<std::optional<meta::FileRecord>> previous =
      condition.if_absent  ? CreateIfAbsent(record)
      : condition.if_match ? ReplaceIfMatch(record, *condition.if_match)
                           : metadata_->Put(record);
  if (!previous.ok()) {
    // An indeterminate commit may yet stand: its pieces must stay.
    if (previous.status().code() != StatusCode::kIndeterminate) writer.Abort();
    return previous.status();
  }
  PutResult result;
  result.created = !previous->has_value();
  if (previous->has_value()) {
    record.created_ns = (*previous)->created_ns;
    io::DeleteFilePieces(*deferred_, **previous);
  }
  result.record = std::move(record);
  return result;
}

Result<std::optional<meta::FileRecord>> StorageNode::CreateIfAbsent(
    const meta::FileRecord& record) {
  ASSIGN_OR_RETURN(bool created, metadata_->ReplacePlacement(record, meta::kNoObject));
  if (!created) {
    return Status::ConditionFailed(record.ns + "/" + record.path + " exists (If-None-Match: *)");
  }
  return std::optional<meta::FileRecord>();
}

Result<std::optional<meta::FileRecord>> StorageNode::ReplaceIfMatch(const meta::FileRecord& record,
                                                                    const std::string& if_match) {
  const std::string what = record.ns + "/" + record.path;
  // A clone or packing may move the content to a new object id meanwhile;
  // it is still the content If-Match names, so the replacement goes on.
  for (int attempt = 0; attempt < kIfMatchAttempts; ++attempt) {
    Result<meta::FileRecord> current = metadata_->Get(record.ns, record.path);
    if (current.status().code() == StatusCode::kNotFound) {
      return Status::ConditionFailed(what + " does not exist (If-Match " + if_match + ")");
    }
    RETURN_IF_ERROR(current.status());
    if (if_match != "*" && current->sha256 != if_match) {
      return Status::ConditionFailed(what + " has changed: its ETag is now \"" + current->sha256 +
                                     "\", not \"" + if_match + "\"");
    }
    // The object id pins the content read above: a write in between fails this.
    meta::FileRecord replacement = record;
    replacement.created_ns = current->created_ns;
    ASSIGN_OR_RETURN(bool replaced, metadata_->ReplacePlacement(replacement, current->object_id));
    if (replaced) return std::optional<meta::FileRecord>(std::move(current).value());
  }
  // The ETag held every time: contention, not a failed condition.
  return Status::Unavailable(what + " kept moving while it was being written; try again");
}

Status StorageNode::AskCommitGate() {
  std::function<Status()> gate;
  {
    std::lock_guard<std::mutex> lock(gate_mutex_);
    gate = commit_gate_;
  }
  return gate ? gate() : Status::Ok();
}

Result<io::CloneResult> StorageNode::CloneFile(const std::string& from_ns,
                                               const std::string& from_path,
                                               const std::string& to_ns,
                                               const std::string& to_path) {
  RETURN_IF_ERROR(ValidateNamespace(from_ns));
  RETURN_IF_ERROR(ValidatePath(from_path));
  RETURN_IF_ERROR(ValidateNamespace(to_ns));
  RETURN_IF_ERROR(ValidatePath(to_path));
  if (to_ns == io::kShadowStoreNamespace || to_ns == io::kSnapshotNamespace) {
    return Status::InvalidArgument("cannot clone into " + to_ns +
                                   ": that namespace is the cluster's own");
  }
  RETURN_IF_ERROR(AskCommitGate());
  return io::CloneFile(
      *deferred_, *metadata_, from_ns, from_path, to_ns, to_path, [this] { return NewObjectId(); },
      NowNs());
}

Result<io::SnapshotInfo> StorageNode::CreateSnapshot(
    const std::string& name, const std::vector<std::pair<std::string, std::string>>& files) {
  RETURN_IF_ERROR(AskCommitGate());
  return io::CreateSnapshot(
      *metadata_, name, files, [this] { return NewObjectId(); }, NowNs());
}

Result<std::vector<io::SnapshotInfo>> StorageNode::ListSnapshots() {
  return io::ListSnapshots(*metadata_);
}

Result<std::vector<meta::FileRecord>> StorageNode::SnapshotFiles(const std::string& name) {
  RETURN_IF_ERROR(io::ValidateSnapshotName(name));
  return io::SnapshotFiles(*metadata_, name);
}

Result<uint64_t> StorageNode::DeleteSnapshot(const std::string& name) {
  RETURN_IF_ERROR(io::ValidateSnapshotName(name));
  RETURN_IF_ERROR(AskCommitGate());
  return io::DeleteSnapshot(*metadata_, name);
}

Result<uint64_t> StorageNode::NewObjectId() {
  ASSIGN_OR_RETURN(uint64_t local_id, metadata_->NewObjectId());
  return ClusterObjectId(state_.array_id, local_id);
}

Result<meta::FileRecord> StorageNode::StatFile(const std::string& ns, const std::string& path) {
  RETURN_IF_ERROR(ValidateNamespace(ns));
  RETURN_IF_ERROR(ValidatePath(path));
  return metadata_->Get(ns, path);
}

Status StorageNode::ReadFile(const meta::FileRecord& record, uint64_t offset, uint64_t length,
                             const io::ByteSink& sink) {
  if (record.is_packed()) {
    return io::ReadFileContent(*router_, *metadata_, record, offset, length, sink);
  }
  io::FileReader reader(*router_, record);
  Status s = reader.Read(offset, length, sink);
  if (reader.degraded_units() > 0) {
    spdlog::warn("read {}/{}: rebuilt {} unit(s) from redundancy", record.ns, record.path,
                 reader.degraded_units());
  }
  for (const io::FileReader::Repair& repair : reader.TakeRepairs()) RepairPiece(record, repair);
  return s;
}

// Read repair: a piece that failed its checksums gets the bytes the read
// rebuilt for it (io/piece_repair.h).
void StorageNode::RepairPiece(const meta::FileRecord& record,
                              const io::FileReader::Repair& repair) {
  const std::string where = record.ns + "/" + record.path + ": " + io::DescribePiece(repair.piece);
  Result<bool> repaired =
      io::RewritePiece(*router_, *metadata_, record, repair.piece, repair.bytes);
  if (!repaired.ok()) {
    spdlog::warn("{}: failed its checksums; rewriting it failed: {}", where,
                 repaired.status().ToString());
  } else if (*repaired) {
    spdlog::warn("{}: failed its checksums; rewritten from redundancy", where);
  }
}

Status StorageNode::DeleteFile(const std::string& ns, const std::string& path) {
  RETURN_IF_ERROR(ValidateNamespace(ns));
  RETURN_IF_ERROR(ValidatePath(path));
  ASSIGN_OR_RETURN(meta::FileRecord record, metadata_->Delete(ns, path));
  io::DeleteFilePieces(*deferred_, record);
  return Status::Ok();
}

Result<meta::Listing> StorageNode::ListFiles(const std::string& ns, const std::string& prefix,
                                             const std::string& marker, size_t limit) {
  RETURN_IF_ERROR(ValidateNamespace(ns));
  RETURN_IF_ERROR(ValidatePrefix(prefix));
  return metadata_->List(ns, prefix, marker, limit);
}

json StorageNode::Info() {
  json drives = json::array();
  for (const io::DriveStatus& d : pieces_->Drives()) {
    json drive = {{"lnum", d.lnum}, {"path", d.path}, {"status", d.up ? "up" : "down"}};
    if (d.up) {
      drive["serial"] = d.identity.serial;
      drive["wwn"] = d.identity.wwn;
      drive["segment_bytes"] = d.usage.segment_bytes;
      drive["live_bytes"] = d.usage.live_bytes;
      drive["pieces"] = d.usage.piece_count;
      drive["segments"] = d.usage.segment_count;
      drive["fs_free_bytes"] = d.usage.fs_free_bytes;
      drive["fs_total_bytes"] = d.usage.fs_total_bytes;
    } else {
      drive["reason"] = d.reason;
    }
    drives.push_back(drive);
  }
  return {{"cluster_guid", state_.cluster_guid},
          {"array_id", state_.array_id},
          {"protection", options_.protection.ToString()},
          {"drives", drives}};
}

json StorageNode::StatJson(const meta::FileRecord& record) {
  json j = meta::ToJson(record);
  json units = json::array();
  for (const io::PieceInfo& p : io::PiecesOf(record)) {
    units.push_back({{"stripe", p.stripe},
                     {"unit", p.unit},
                     {"role", io::PieceRoleName(p.role)},
                     {"drive", std::to_string(p.drive.node) + ":" + std::to_string(p.drive.lnum)},
                     {"length", p.length}});
  }
  j["units"] = std::move(units);
  j["packing_complete"] = record.packing_complete() ? "complete" : "incomplete";
  if (record.packed) {
    j["container"]["sin_text"] = io::FormatSin(record.packed->sin);
    j["container"]["chunk"] = io::ChunkOf(record.packed->offset);
  }
  j["physical_bytes"] = io::PhysicalBytes(record);
  return j;
}

Result<store::CompactionStats> StorageNode::Compact(bool full) { return pieces_->CompactAll(full); }

void StorageNode::CompactionLoop() {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::seconds(compact_interval_seconds_.load()));
    if (stopping_) break;
    lock.unlock();
    Result<store::CompactionStats> stats = pieces_->CompactAll();
    if (!stats.ok()) {
      spdlog::error("compaction: {}", stats.status().ToString());
    } else if (stats->segments_removed > 0) {
      spdlog::info("compaction: removed {} segment(s), moved {} piece(s), reclaimed {} bytes",
                   stats->segments_removed, stats->pieces_moved, stats->bytes_reclaimed);
    }
    lock.lock();
  }
}

}  // namespace tessera::node
