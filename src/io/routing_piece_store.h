// RoutingPieceStore: the cluster's drives as one PieceStore.
//
// Each call goes to the store of the node its DriveRef names: this node's own
// (`local`) or a peer's (set with SetPeers, normally a RemotePieceStore per
// live member). WritableTopology is the union of the writable drives of
// every node not marked not-writable (SetPeers), so placement spreads a
// stripe's units over distinct nodes once there are several. Sync syncs each node's drives through
// that node's store, the nodes in parallel, and returns the first error. A DriveRef on a node that
// is neither this one nor a peer is Unavailable (reads then rebuild from other units).
//
// Threading: thread-safe; SetPeers may run while requests do (they keep the
// store they looked up alive). `local` is borrowed and must outlive this.
//
// A peer that leaves the group keeps its store here as departed: a Delete
// of one of its pieces then Forgets it there (no call to a node that is not
// a member), so that a writer which aborts while the peer is away does not
// leave pieces counted lost in the store that serves the peer when it
// returns.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "io/piece_store.h"

namespace tessera::io {

class RoutingPieceStore final : public PieceStore {
 public:
  RoutingPieceStore(uint32_t self, PieceStore* local);

  // `not_writable`: nodes (this one too) whose drives WritableTopology
  // leaves out, so placement puts no new data there; their pieces are
  // still read, deleted and written in place (repairs).
  void SetPeers(std::map<uint32_t, std::shared_ptr<PieceStore>> peers,
                std::set<uint32_t> not_writable = {});

  layout::Topology WritableTopology() override;
  Status Append(const meta::DriveRef& drive, const store::PieceId& id,
                std::span<const uint8_t> bytes) override;
  Status Sync(const std::vector<meta::DriveRef>& drives) override;
  Result<std::vector<uint8_t>> Read(const meta::DriveRef& drive, const store::PieceId& id) override;
  Status Delete(const meta::DriveRef& drive, const store::PieceId& id) override;
  bool IsLocal(const meta::DriveRef& drive) const override { return drive.node == self_; }

 private:
  // The store for `node`; nullptr when there is none.
  std::shared_ptr<PieceStore> StoreFor(uint32_t node);
  Status NoRoute(uint32_t node) const;

  uint32_t self_;
  std::shared_ptr<PieceStore> local_;  // non-owning (no-op deleter)
  std::mutex mu_;
  std::map<uint32_t, std::shared_ptr<PieceStore>> peers_;     // guarded by mu_
  std::map<uint32_t, std::shared_ptr<PieceStore>> departed_;  // guarded by mu_
  std::set<uint32_t> not_writable_;                           // guarded by mu_
};

}  // namespace tessera::io
