// Another node's metadata service, as this node reaches it: the replica
// calls of its ShardReplicaStore (shard_replica_store.h) and Lead, a client
// request served by that node as the shard's primary. The RPC client
// (rpc/remote_shard_peer.h) implements it over the network. Implementations
// are thread-safe; a transport failure is Unavailable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "meta/shard_replica_store.h"
#include "meta/shard_request.h"

namespace tessera::meta {

class ShardPeer {
 public:
  virtual ~ShardPeer() = default;

  virtual Result<ShardPosition> Promise(uint32_t shard, int64_t epoch) = 0;
  virtual Status Append(uint32_t shard, int64_t epoch, LogVersion prev,
                        const std::vector<ShardEntry>& entries) = 0;
  virtual Result<std::vector<ShardEntry>> EntriesAfter(uint32_t shard, LogVersion after,
                                                       size_t max) = 0;
  virtual Result<RecordPage> ReadRecords(uint32_t shard, const std::string& after_ns,
                                         const std::string& after_path, size_t max) = 0;
  virtual Status BeginInstall(uint32_t shard, int64_t epoch) = 0;
  virtual Status AddInstall(uint32_t shard, int64_t epoch,
                            const std::vector<FileRecord>& records) = 0;
  virtual Status FinishInstall(uint32_t shard, int64_t epoch, LogVersion applied) = 0;

  virtual Result<ShardReply> Lead(const ShardRequest& request) = 0;
};

}  // namespace tessera::meta
