// meta::ShardPeer over the network: calls another node's MetaService
// (meta.proto). Each call has a deadline: short for a promise (a catch-up
// must not stall on a dead replica), longer for appends and copies, longest
// for a forwarded request (it may wait for the primary to catch up).
// Transport failures are Unavailable, except that a forwarded write that
// may have reached the primary (a deadline, a connection lost mid-call) is
// Indeterminate: it may have committed. SetAddress
// re-points the peer when the node restarts on another port. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "meta/shard_peer.h"
#include "rpc/meta.grpc.pb.h"

namespace tessera::rpc {

struct RemoteShardPeerOptions {
  std::chrono::milliseconds promise_deadline{1000};
  std::chrono::milliseconds append_deadline{3000};
  std::chrono::milliseconds copy_deadline{10000};
  std::chrono::milliseconds lead_deadline{15000};
};

class RemoteShardPeer final : public meta::ShardPeer {
 public:
  RemoteShardPeer(uint32_t node, const std::string& address, RemoteShardPeerOptions options = {});

  void SetAddress(const std::string& address);
  std::string address() const;

  Result<meta::ShardPosition> Promise(uint32_t shard, int64_t epoch) override;
  Status Append(uint32_t shard, int64_t epoch, meta::LogVersion prev,
                const std::vector<meta::ShardEntry>& entries) override;
  Result<std::vector<meta::ShardEntry>> EntriesAfter(uint32_t shard, meta::LogVersion after,
                                                     size_t max) override;
  Result<meta::RecordPage> ReadRecords(uint32_t shard, const std::string& after_ns,
                                       const std::string& after_path, size_t max) override;
  Status BeginInstall(uint32_t shard, int64_t epoch) override;
  Status AddInstall(uint32_t shard, int64_t epoch,
                    const std::vector<meta::FileRecord>& records) override;
  Status FinishInstall(uint32_t shard, int64_t epoch, meta::LogVersion applied) override;
  Result<meta::ShardReply> Lead(const meta::ShardRequest& request) override;

 private:
  std::shared_ptr<MetaService::Stub> Stub() const;
  Status Call(const char* what, std::chrono::milliseconds deadline,
              const std::function<grpc::Status(MetaService::Stub&, grpc::ClientContext*)>& rpc);

  const uint32_t node_;
  const RemoteShardPeerOptions options_;
  mutable std::mutex mu_;
  std::string address_;                      // guarded by mu_
  std::shared_ptr<MetaService::Stub> stub_;  // guarded by mu_
};

}  // namespace tessera::rpc
