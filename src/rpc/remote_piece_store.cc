#include "rpc/remote_piece_store.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "rpc/peer_channel.h"
#include "rpc/rpc_server.h"
#include "rpc/rpc_status.h"

namespace tessera::rpc {
namespace {

std::string DriveName(uint32_t node, uint32_t lnum) {
  return std::to_string(node) + ":" + std::to_string(lnum);
}

Status NotSynced(uint32_t node, const StoreFailure& failure) {
  return StatusFromWire(failure.code(), "drive " + DriveName(node, failure.lnum()) +
                                            " did not sync: " + failure.message());
}

}  // namespace

RemotePieceStore::RemotePieceStore(uint32_t node, const std::string& address,
                                   std::function<int64_t()> epoch, RemotePieceStoreOptions options)
    : node_(node), epoch_(std::move(epoch)), options_(options) {
  SetAddress(address);
}

void RemotePieceStore::SetAddress(const std::string& address) {
  std::lock_guard<std::mutex> lock(stub_mutex_);
  if (stub_ && address == address_) return;
  stub_ = std::shared_ptr<PieceService::Stub>(PieceService::NewStub(NewPeerChannel(address)));
  address_ = address;
}

std::string RemotePieceStore::address() const {
  std::lock_guard<std::mutex> lock(stub_mutex_);
  return address_;
}

std::shared_ptr<PieceService::Stub> RemotePieceStore::Stub() const {
  std::lock_guard<std::mutex> lock(stub_mutex_);
  return stub_;
}

RemotePieceStore::~RemotePieceStore() = default;

Status RemotePieceStore::CheckNode(const meta::DriveRef& drive) const {
  if (drive.node != node_) {
    return Status::InvalidArgument("drive " + DriveName(drive.node, drive.lnum) +
                                   " is not on node " + std::to_string(node_) + " (" + address() +
                                   ")");
  }
  return Status::Ok();
}

std::unique_ptr<grpc::ClientContext> RemotePieceStore::NewContext() const {
  return NewContext(options_.deadline);
}

std::unique_ptr<grpc::ClientContext> RemotePieceStore::NewContext(
    std::chrono::milliseconds deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + deadline);
  return context;
}

Status RemotePieceStore::Wrap(const grpc::Status& status, const char* call) const {
  if (status.ok()) return Status::Ok();
  Status s = FromGrpcStatus(status);
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    s = Status::Unavailable("deadline of " + std::to_string(options_.deadline.count()) +
                            " ms exceeded: " + status.error_message());
  }
  return s.WithContext(std::string(call) + " on node " + std::to_string(node_) + " at " +
                       address());
}

RemotePieceStore::Batch RemotePieceStore::TakePending() {
  Batch batch;
  batch.seq = ++next_seq_;
  batch.pieces = std::move(pending_);
  pending_.clear();
  pending_bytes_ = 0;
  in_flight_.insert(batch.seq);
  return batch;
}

Status RemotePieceStore::Send(Batch& batch, bool sync, const std::set<uint32_t>& sync_lnums,
                              StoreReply* reply) try {
  StoreRequest request;
  request.set_sender(options_.sender);
  request.set_epoch(static_cast<uint64_t>(epoch_()));
  request.set_sync(sync);
  for (PendingPiece& piece : batch.pieces) {
    Piece* out = request.add_pieces();
    out->set_lnum(piece.lnum);
    out->set_object(piece.id.object);
    out->set_index(piece.id.index);
    // The batch is not needed once sent; Finish only needs the names.
    out->set_data(std::move(piece.data));
  }
  for (uint32_t lnum : sync_lnums) request.add_sync_lnums(lnum);
  auto context = NewContext();
  return Wrap(Stub()->Store(context.get(), request, reply), "Store");
} catch (const std::exception& e) {
  // A batch whose send throws must still be finished by its caller, or every
  // later Sync and Delete would wait for it forever.
  return Status::Internal(std::string("Store on node ") + std::to_string(node_) + ": " + e.what());
}

void RemotePieceStore::Finish(const Batch& batch, const Status& status, const StoreReply& reply) {
  in_flight_.erase(batch.seq);
  if (!status.ok()) {
    for (const PendingPiece& piece : batch.pieces) {
      lost_.emplace(std::make_pair(piece.lnum, piece.id),
                    Status::Unavailable("piece " + piece.id.ToString() + " for drive " +
                                        DriveName(node_, piece.lnum) +
                                        " was lost when a batch failed: " + status.ToString()));
    }
  }
  for (const StoreFailure& failure : reply.failed_pieces()) {
    store::PieceId id{failure.object(), failure.index()};
    lost_.emplace(std::make_pair(failure.lnum(), id),
                  StatusFromWire(failure.code(), "piece " + id.ToString() + " for drive " +
                                                     DriveName(node_, failure.lnum()) +
                                                     " was not stored: " + failure.message()));
  }
  // A piece on a drive that did not sync may be gone after a crash, whoever
  // syncs that drive next.
  for (const StoreFailure& failure : reply.failed_syncs()) {
    for (const PendingPiece& piece : batch.pieces) {
      if (piece.lnum != failure.lnum()) continue;
      lost_.emplace(std::make_pair(piece.lnum, piece.id), NotSynced(node_, failure));
    }
  }
  landed_cv_.notify_all();
}

Status RemotePieceStore::Append(const meta::DriveRef& drive, const store::PieceId& id,
                                std::span<const uint8_t> bytes) {
  RETURN_IF_ERROR(CheckNode(drive));
  std::unique_lock<std::mutex> lock(mutex_);
  // A loop, not an if: while this thread sends, others refill the batch.
  while (pending_bytes_ > 0 && pending_bytes_ + bytes.size() > options_.flush_bytes) {
    Batch batch = TakePending();
    lock.unlock();
    StoreReply reply;
    Status status = Send(batch, /*sync=*/false, {}, &reply);
    lock.lock();
    Finish(batch, status, reply);
    // Pieces the node refused are now lost; their writers' Syncs report them.
    if (!status.ok()) return status;
  }
  pending_.push_back(
      {drive.lnum, id, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size())});
  pending_bytes_ += bytes.size();
  max_pending_bytes_ = std::max(max_pending_bytes_, pending_bytes_);
  return Status::Ok();
}

Status RemotePieceStore::Sync(const std::vector<meta::DriveRef>& drives) {
  for (const meta::DriveRef& drive : drives) RETURN_IF_ERROR(CheckNode(drive));
  std::unique_lock<std::mutex> lock(mutex_);
  ++sync_calls_;
  if (!open_group_) open_group_ = std::make_shared<SyncGroup>();
  std::shared_ptr<SyncGroup> group = open_group_;
  for (const meta::DriveRef& drive : drives) group->lnums.insert(drive.lnum);
  // Someone else leads the group, or this caller does once no sync is in flight.
  landed_cv_.wait(lock, [&] { return group->done || (!sync_sending_ && open_group_ == group); });
  if (!group->done) {
    open_group_.reset();
    sync_sending_ = true;
    ++sync_rounds_;
    Batch batch = TakePending();
    // A batch taken earlier may hold pieces appended before this Sync; the
    // node must have them before it syncs, or they would miss this sync.
    landed_cv_.wait(lock, [&] { return *in_flight_.begin() == batch.seq; });
    lock.unlock();
    // Unlocked: the group is no longer open, so its drives stay as they are.
    StoreReply reply;
    Status status = Send(batch, /*sync=*/true, group->lnums, &reply);
    lock.lock();
    group->status = status;
    for (const StoreFailure& failure : reply.failed_syncs()) {
      group->failed_syncs.emplace(failure.lnum(), NotSynced(node_, failure));
    }
    group->done = true;
    sync_sending_ = false;
    Finish(batch, status, reply);  // wakes the group and the next one's callers
  }
  if (!group->status.ok()) return group->status;
  for (const meta::DriveRef& drive : drives) {
    auto failed = group->failed_syncs.find(drive.lnum);
    if (failed != group->failed_syncs.end()) return failed->second;
    auto it = lost_.lower_bound({drive.lnum, store::PieceId{}});
    if (it != lost_.end() && it->first.first == drive.lnum) return it->second;
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> RemotePieceStore::Read(const meta::DriveRef& drive,
                                                    const store::PieceId& id) {
  RETURN_IF_ERROR(CheckNode(drive));
  FetchRequest request;
  request.set_sender(options_.sender);
  request.set_epoch(static_cast<uint64_t>(epoch_()));
  request.mutable_piece()->set_lnum(drive.lnum);
  request.mutable_piece()->set_object(id.object);
  request.mutable_piece()->set_index(id.index);
  FetchReply reply;
  auto context = NewContext();
  RETURN_IF_ERROR(Wrap(Stub()->Fetch(context.get(), request, &reply), "Fetch"));
  const std::string& data = reply.data();
  return std::vector<uint8_t>(data.begin(), data.end());
}

void RemotePieceStore::Forget(const meta::DriveRef& drive, const store::PieceId& id) {
  if (CheckNode(drive).ok()) Drop(drive.lnum, id);
}

void RemotePieceStore::Drop(uint32_t lnum, const store::PieceId& id) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const PendingPiece& p) { return p.lnum == lnum && p.id == id; });
  if (it != pending_.end()) {
    pending_bytes_ -= it->data.size();
    pending_.erase(it);
  }
  // A batch in flight may carry the piece: let it land first, so the node
  // does not store it after the Delete, and a failure does not mark it lost
  // after the caller has given it up.
  uint64_t horizon = next_seq_;
  landed_cv_.wait(lock, [&] { return in_flight_.empty() || *in_flight_.begin() > horizon; });
  lost_.erase({lnum, id});
}

Status RemotePieceStore::Delete(const meta::DriveRef& drive, const store::PieceId& id) {
  RETURN_IF_ERROR(CheckNode(drive));
  Drop(drive.lnum, id);
  DeleteRequest request;
  request.set_sender(options_.sender);
  request.set_epoch(static_cast<uint64_t>(epoch_()));
  PieceRef* piece = request.add_pieces();
  piece->set_lnum(drive.lnum);
  piece->set_object(id.object);
  piece->set_index(id.index);
  DeleteReply reply;
  auto context = NewContext();
  Status status = Wrap(Stub()->Delete(context.get(), request, &reply), "Delete");
  if (status.code() == StatusCode::kNotFound || status.code() == StatusCode::kUnavailable) {
    return Status::Ok();
  }
  return status;
}

layout::Topology RemotePieceStore::WritableTopology() {
  std::lock_guard<std::mutex> lock(topology_mutex_);
  auto now = std::chrono::steady_clock::now();
  if (topology_valid_ && now - topology_time_ < std::chrono::seconds(1)) return topology_;
  DrivesRequest request;
  request.set_sender(options_.sender);
  request.set_epoch(static_cast<uint64_t>(epoch_()));
  DrivesReply reply;
  auto context = NewContext(options_.topology_deadline);
  Status status = Wrap(Stub()->Drives(context.get(), request, &reply), "Drives");
  layout::Topology fresh;
  if (status.ok()) {
    for (const DriveSpace& drive : reply.drives()) {
      fresh.drives.push_back({node_, drive.lnum(), drive.free_bytes()});
    }
  } else {
    // An unreachable node takes no new pieces; asking again at most once a
    // second keeps a dead node from costing every writer a round trip.
    spdlog::warn("{}; node {} takes no new pieces", status.ToString(), node_);
  }
  topology_ = std::move(fresh);
  topology_time_ = now;
  topology_valid_ = true;
  return topology_;
}

size_t RemotePieceStore::buffered_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pending_bytes_;
}

size_t RemotePieceStore::max_buffered_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return max_pending_bytes_;
}

uint64_t RemotePieceStore::sync_calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sync_calls_;
}

uint64_t RemotePieceStore::sync_rounds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sync_rounds_;
}

}  // namespace tessera::rpc
