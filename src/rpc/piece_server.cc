#include "rpc/piece_server.h"

#include <algorithm>

#include "rpc/rpc_status.h"

namespace tessera::rpc {

PieceServer::PieceServer(uint32_t node, io::LocalPieceStore* store,
                         std::function<int64_t()> current_epoch)
    : node_(node), store_(store), current_epoch_(std::move(current_epoch)) {
  for (const io::DriveStatus& drive : store_->Drives()) known_lnums_.insert(drive.lnum);
}

Status PieceServer::CheckEpoch(uint32_t sender, uint64_t epoch) const {
  int64_t current = current_epoch_();
  // An epoch past int64 range cannot be stale; compare in the unsigned domain
  // only when the current one is non-negative.
  if (current > 0 && epoch < static_cast<uint64_t>(current)) {
    return Status::FailedPrecondition("stale group epoch " + std::to_string(epoch) + " < " +
                                      std::to_string(current) + " (from node " +
                                      std::to_string(sender) + ")");
  }
  return Status::Ok();
}

Status PieceServer::CheckLnum(uint32_t lnum) const {
  if (known_lnums_.count(lnum) == 0) {
    // Unavailable, as a drive this node has but is down: the pieces there
    // cannot be reached, which is not to say they are gone.
    return Status::Unavailable("drive " + std::to_string(node_) + ":" + std::to_string(lnum) +
                               " is unknown to node " + std::to_string(node_));
  }
  return Status::Ok();
}

namespace {

void AddFailure(uint32_t lnum, const store::PieceId& id, const Status& status,
                google::protobuf::RepeatedPtrField<StoreFailure>* failures) {
  StoreFailure* failure = failures->Add();
  failure->set_lnum(lnum);
  failure->set_object(id.object);
  failure->set_index(id.index);
  failure->set_code(static_cast<int32_t>(status.code()));
  failure->set_message(status.message());
}

}  // namespace

Status PieceServer::DoStore(const StoreRequest& request, StoreReply* reply) {
  RETURN_IF_ERROR(CheckEpoch(request.sender(), request.epoch()));
  // Validate the whole batch first: a bad lnum at the end must not leave the
  // pieces before it half-stored.
  for (const Piece& piece : request.pieces()) RETURN_IF_ERROR(CheckLnum(piece.lnum()));
  for (uint32_t lnum : request.sync_lnums()) RETURN_IF_ERROR(CheckLnum(lnum));

  std::vector<meta::DriveRef> touched;
  auto touch = [&](uint32_t lnum) {
    meta::DriveRef ref{node_, lnum};
    if (std::find(touched.begin(), touched.end(), ref) == touched.end()) touched.push_back(ref);
  };
  for (const Piece& piece : request.pieces()) {
    const std::string& data = piece.data();
    store::PieceId id{piece.object(), piece.index()};
    Status appended = store_->Append({node_, piece.lnum()}, id,
                                     {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
    if (!appended.ok()) {
      AddFailure(piece.lnum(), id, appended, reply->mutable_failed_pieces());
      continue;
    }
    touch(piece.lnum());
  }
  if (!request.sync()) return Status::Ok();
  for (uint32_t lnum : request.sync_lnums()) touch(lnum);
  std::vector<Status> synced = store_->SyncEach(touched);
  for (size_t i = 0; i < touched.size(); ++i) {
    if (!synced[i].ok()) AddFailure(touched[i].lnum, {}, synced[i], reply->mutable_failed_syncs());
  }
  return Status::Ok();
}

grpc::Status PieceServer::Store(grpc::ServerContext*, const StoreRequest* request,
                                StoreReply* reply) {
  return ToGrpcStatus(DoStore(*request, reply));
}

grpc::Status PieceServer::Fetch(grpc::ServerContext*, const FetchRequest* request,
                                FetchReply* reply) {
  Status status = CheckEpoch(request->sender(), request->epoch());
  if (status.ok()) status = CheckLnum(request->piece().lnum());
  if (!status.ok()) return ToGrpcStatus(status);
  Result<std::vector<uint8_t>> bytes = store_->Read(
      {node_, request->piece().lnum()}, {request->piece().object(), request->piece().index()});
  if (!bytes.ok()) return ToGrpcStatus(bytes.status());
  reply->set_data(bytes->data(), bytes->size());
  return grpc::Status::OK;
}

Status PieceServer::DoDelete(const DeleteRequest& request) {
  RETURN_IF_ERROR(CheckEpoch(request.sender(), request.epoch()));
  for (const PieceRef& piece : request.pieces()) RETURN_IF_ERROR(CheckLnum(piece.lnum()));
  for (const PieceRef& piece : request.pieces()) {
    RETURN_IF_ERROR(store_->Delete({node_, piece.lnum()}, {piece.object(), piece.index()}));
  }
  return Status::Ok();
}

grpc::Status PieceServer::Delete(grpc::ServerContext*, const DeleteRequest* request, DeleteReply*) {
  return ToGrpcStatus(DoDelete(*request));
}

grpc::Status PieceServer::Drives(grpc::ServerContext*, const DrivesRequest* request,
                                 DrivesReply* reply) {
  Status status = CheckEpoch(request->sender(), request->epoch());
  if (!status.ok()) return ToGrpcStatus(status);
  for (const layout::DriveSlot& slot : store_->WritableTopology().drives) {
    if (slot.node != node_) continue;
    DriveSpace* drive = reply->add_drives();
    drive->set_lnum(slot.lnum);
    drive->set_free_bytes(slot.free_bytes);
  }
  return grpc::Status::OK;
}

}  // namespace tessera::rpc
