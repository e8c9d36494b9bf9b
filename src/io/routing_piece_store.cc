#include "io/routing_piece_store.h"

#include <functional>

#include "common/parallel.h"

namespace tessera::io {

RoutingPieceStore::RoutingPieceStore(uint32_t self, PieceStore* local)
    : self_(self), local_(local, [](PieceStore*) {}) {}

void RoutingPieceStore::SetPeers(std::map<uint32_t, std::shared_ptr<PieceStore>> peers,
                                 std::set<uint32_t> not_writable) {
  peers.erase(self_);
  std::lock_guard<std::mutex> lock(mu_);
  not_writable_ = std::move(not_writable);
  for (auto& [node, store] : peers_) {
    if (!peers.count(node)) departed_[node] = std::move(store);
  }
  for (const auto& [node, store] : peers) departed_.erase(node);
  peers_ = std::move(peers);
}

std::shared_ptr<PieceStore> RoutingPieceStore::StoreFor(uint32_t node) {
  if (node == self_) return local_;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(node);
  return it == peers_.end() ? nullptr : it->second;
}

Status RoutingPieceStore::NoRoute(uint32_t node) const {
  return Status::Unavailable("node " + std::to_string(node) + " is not a live member");
}

layout::Topology RoutingPieceStore::WritableTopology() {
  std::vector<std::shared_ptr<PieceStore>> stores;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!not_writable_.count(self_)) stores.push_back(local_);
    for (const auto& [node, store] : peers_) {
      if (!not_writable_.count(node)) stores.push_back(store);
    }
  }
  layout::Topology all;
  for (const auto& store : stores) {
    layout::Topology part = store->WritableTopology();
    all.drives.insert(all.drives.end(), part.drives.begin(), part.drives.end());
  }
  return all;
}

Status RoutingPieceStore::Append(const meta::DriveRef& drive, const store::PieceId& id,
                                 std::span<const uint8_t> bytes) {
  std::shared_ptr<PieceStore> store = StoreFor(drive.node);
  if (!store) return NoRoute(drive.node);
  return store->Append(drive, id, bytes);
}

Status RoutingPieceStore::Sync(const std::vector<meta::DriveRef>& drives) {
  std::map<uint32_t, std::vector<meta::DriveRef>> by_node;
  for (const meta::DriveRef& d : drives) by_node[d.node].push_back(d);
  std::vector<std::function<Status()>> syncs;
  for (auto& [node, refs] : by_node) {
    std::shared_ptr<PieceStore> store = StoreFor(node);
    if (!store) return NoRoute(node);
    syncs.push_back([store, refs = std::move(refs)] { return store->Sync(refs); });
  }
  return RunInParallel(std::move(syncs));
}

Result<std::vector<uint8_t>> RoutingPieceStore::Read(const meta::DriveRef& drive,
                                                     const store::PieceId& id) {
  std::shared_ptr<PieceStore> store = StoreFor(drive.node);
  if (!store) return NoRoute(drive.node);
  return store->Read(drive, id);
}

Status RoutingPieceStore::Delete(const meta::DriveRef& drive, const store::PieceId& id) {
  std::shared_ptr<PieceStore> store = StoreFor(drive.node);
  if (store) return store->Delete(drive, id);
  std::shared_ptr<PieceStore> departed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = departed_.find(drive.node); it != departed_.end()) departed = it->second;
  }
  if (departed) departed->Forget(drive, id);
  return Status::Ok();  // the contract: down drives are not errors here
}

}  // namespace tessera::io
