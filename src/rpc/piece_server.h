// Serves this node's drives to other nodes: the PieceService of piece.proto
// over a borrowed io::LocalPieceStore.
//
// Epoch rule: a request whose epoch is older than current_epoch() is refused
// with FailedPrecondition "stale group epoch X < Y" before any drive is
// touched, so a node cut off from the group cannot write through a peer that
// has moved on. A newer epoch is accepted: the peer learned of the group
// change first and this node will catch up.
//
// Validation: a piece naming an lnum this node never had is Unavailable naming
// it; an empty batch is OK (a Store with sync and sync_lnums only syncs).
// Store appends pieces in order. A piece that fails to append, or a drive
// whose sync fails, is listed in the reply (failed_pieces, failed_syncs) and
// the rest of the batch goes on, so one writer's failing drive does not fail
// the writers sharing its batch; the call fails as a whole only for request
// errors (epoch, unknown lnum), checked before any piece is appended.
// Errors cross the wire through rpc_status.h.
//
// Thread-safe: gRPC calls handlers concurrently; the store and the epoch
// function must be too. Both are borrowed and must outlive the server. Drives
// are not added to the store while the server runs.
#pragma once

#include <functional>
#include <set>

#include "io/local_piece_store.h"
#include "rpc/piece.grpc.pb.h"

namespace tessera::rpc {

class PieceServer final : public PieceService::Service {
 public:
  // `node` is the array id the store's drives belong to.
  PieceServer(uint32_t node, io::LocalPieceStore* store, std::function<int64_t()> current_epoch);

  grpc::Status Store(grpc::ServerContext* context, const StoreRequest* request,
                     StoreReply* reply) override;
  grpc::Status Fetch(grpc::ServerContext* context, const FetchRequest* request,
                     FetchReply* reply) override;
  grpc::Status Delete(grpc::ServerContext* context, const DeleteRequest* request,
                      DeleteReply* reply) override;
  grpc::Status Drives(grpc::ServerContext* context, const DrivesRequest* request,
                      DrivesReply* reply) override;

 private:
  Status CheckEpoch(uint32_t sender, uint64_t epoch) const;
  Status CheckLnum(uint32_t lnum) const;
  Status DoStore(const StoreRequest& request, StoreReply* reply);
  Status DoDelete(const DeleteRequest& request);

  const uint32_t node_;
  io::LocalPieceStore* const store_;
  const std::function<int64_t()> current_epoch_;
  std::set<uint32_t> known_lnums_;  // up or missing; fixed at construction
};

}  // namespace tessera::rpc
