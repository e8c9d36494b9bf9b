// io::PieceStore for the drives of ONE other node, reached over PieceService.
//
// Every call carries this node's array id (options.sender) and the epoch
// function's current value; each RPC has a deadline (options.deadline, 10 s
// by default) so a dead or hung node is Unavailable, never a hang. Drive refs
// naming another node are InvalidArgument.
//
// Append/Sync batching and durability contract. Many writers (FileWriters on
// different threads) share one RemotePieceStore, and the PieceStore interface
// does not say which writer is calling, so there is ONE pending batch per
// store, shared by all writers:
//   - Append copies the piece into the pending batch and returns OK. When the
//     batch would pass options.flush_bytes (4 MiB), the appending thread first
//     sends the pending batch as Store(sync=false). So buffered_bytes() never
//     exceeds flush_bytes (except for a single larger piece) whatever a file's
//     size; each thread sending holds at most one more batch in flight.
//   - Sync(drives) is group commit: callers that arrive while a sync is in
//     flight form the next group, and one of them, once that sync is
//     answered, takes the pending batch (whoever appended it), waits until
//     every batch taken before it has been answered, then sends it as one
//     Store(sync=true) naming the union of the group's drives. The node
//     appends and then syncs, so on OK every piece appended to those drives
//     before any of the group called Sync, by any writer, is durable. One
//     round trip and one flush per drive serve the whole group.
//   - A piece the node could not store, or a drive it could not sync, is
//     reported on its own (StoreReply): only those pieces count as lost, and
//     only Syncs covering those drives fail, with the node's error code. A
//     batch whose call fails as a whole (unreachable node, stale epoch) loses
//     every piece in it, possibly of several writers. The Append or Sync that
//     sent it returns the error; every later Sync covering a drive with a
//     lost piece fails too, naming the first lost piece. So a
//     Sync never returns OK while a piece appended before it is not durable,
//     and no writer's pieces vanish silently because another writer's call
//     failed.
//   - A lost piece is forgotten when it is Deleted (or Forgotten, which the
//     router does while the node is not a member): a writer whose Append or
//     Sync failed must Delete what it appended (FileWriter::Abort does).
//     Until then other writers' Syncs on that drive fail too; they are false
//     alarms on the safe side, and they end when the failed writer aborts.
//     Delete also drops the piece from the pending batch if still there, and
//     waits for batches already in flight to land, so a deleted piece is
//     neither stored after its Delete nor marked lost afterwards.
// Why no client-streaming Store: batches are bounded at 4 MiB and sent one
// after another per writer, so a multi-GiB file is a sequence of unary calls
// whose per-call cost (one round trip per 4 MiB) is small next to moving
// the 4 MiB; a unary call also gives each batch its own deadline and its own
// clear failure, which the lost-piece accounting above relies on.
//
// Read is Fetch (checksums verified on the serving node). Delete sends one
// Delete; NotFound and Unavailable are OK there as the interface says.
// WritableTopology is the node's Drives reply, cached for a second; on error
// it is empty (the node takes no new pieces) and the error is logged.
//
// Thread-safe.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "io/piece_store.h"
#include "rpc/piece.grpc.pb.h"

namespace tessera::rpc {

struct RemotePieceStoreOptions {
  uint32_t sender = 0;  // this node's array id, sent with every request
  std::chrono::milliseconds deadline{10000};
  // For Drives (WritableTopology), which every write asks: short, so a peer
  // that cannot be reached stalls writers for at most this long a second.
  std::chrono::milliseconds topology_deadline{1000};
  size_t flush_bytes = 4u << 20;
};

class RemotePieceStore final : public io::PieceStore {
 public:
  // `node` is the remote node's array id, `address` its "host:port".
  RemotePieceStore(uint32_t node, const std::string& address, std::function<int64_t()> epoch,
                   RemotePieceStoreOptions options = {});
  ~RemotePieceStore() override;

  layout::Topology WritableTopology() override;
  Status Append(const meta::DriveRef& drive, const store::PieceId& id,
                std::span<const uint8_t> bytes) override;
  Status Sync(const std::vector<meta::DriveRef>& drives) override;
  Result<std::vector<uint8_t>> Read(const meta::DriveRef& drive, const store::PieceId& id) override;
  Status Delete(const meta::DriveRef& drive, const store::PieceId& id) override;
  void Forget(const meta::DriveRef& drive, const store::PieceId& id) override;

  // Points the store at the node's new address (it restarted on another
  // port). Pending pieces go to the new address with the next batch; a
  // batch in flight to the old one fails and its pieces count as lost, so
  // no Sync returns OK without them. Thread-safe.
  void SetAddress(const std::string& address);
  std::string address() const;

  // Bytes appended and not yet sent, and the most that ever were.
  size_t buffered_bytes() const;
  size_t max_buffered_bytes() const;
  // Sync calls so far, and the Store(sync=true) round trips that served them.
  uint64_t sync_calls() const;
  uint64_t sync_rounds() const;

 private:
  struct PendingPiece {
    uint32_t lnum = 0;
    store::PieceId id;
    std::string data;
  };
  struct Batch {
    uint64_t seq = 0;
    std::vector<PendingPiece> pieces;
  };
  // Sync callers served by one Store(sync=true).
  struct SyncGroup {
    std::set<uint32_t> lnums;
    bool done = false;
    Status status;                            // of the call as a whole
    std::map<uint32_t, Status> failed_syncs;  // lnum -> why it did not sync
  };

  Status CheckNode(const meta::DriveRef& drive) const;
  std::shared_ptr<PieceService::Stub> Stub() const;
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  std::unique_ptr<grpc::ClientContext> NewContext(std::chrono::milliseconds deadline) const;
  // Moves the pending pieces into a batch that counts as in flight. Locked.
  Batch TakePending();
  Status Send(Batch& batch, bool sync, const std::set<uint32_t>& sync_lnums, StoreReply* reply);
  // Ends a batch's flight; records as lost every piece of a failed call, or
  // the pieces the reply lists and those on drives that did not sync. Locked.
  void Finish(const Batch& batch, const Status& status, const StoreReply& reply);
  // Delete and Forget: the piece leaves the pending batch and the lost
  // pieces, once batches in flight that may carry it have landed.
  void Drop(uint32_t lnum, const store::PieceId& id);
  Status Wrap(const grpc::Status& status, const char* call) const;

  const uint32_t node_;
  mutable std::mutex stub_mutex_;
  std::string address_;  // guarded by stub_mutex_
  const std::function<int64_t()> epoch_;
  const RemotePieceStoreOptions options_;
  std::shared_ptr<PieceService::Stub> stub_;  // guarded by stub_mutex_; calls use a copy

  mutable std::mutex mutex_;
  std::condition_variable landed_cv_;  // a batch in flight was answered
  std::vector<PendingPiece> pending_;
  size_t pending_bytes_ = 0;
  size_t max_pending_bytes_ = 0;
  uint64_t next_seq_ = 0;
  std::set<uint64_t> in_flight_;
  std::shared_ptr<SyncGroup> open_group_;  // collecting Sync callers, not yet sent
  bool sync_sending_ = false;              // a group's Store(sync=true) is in flight
  uint64_t sync_calls_ = 0;
  uint64_t sync_rounds_ = 0;
  // (lnum, piece) -> why it was lost, until the piece is deleted.
  std::map<std::pair<uint32_t, store::PieceId>, Status> lost_;

  std::mutex topology_mutex_;
  layout::Topology topology_;
  std::chrono::steady_clock::time_point topology_time_;
  bool topology_valid_ = false;
};

}  // namespace tessera::rpc
