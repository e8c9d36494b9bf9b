// Serves this node's metadata shards to other nodes: the MetaService of
// meta.proto over a borrowed meta::ShardedMetadataStore (which must outlive
// the server). Replica calls go to its ShardReplicaStore, Lead to the store
// as the shard's primary; every check (epochs, order) is the store's. Bytes
// that do not decode are InvalidArgument. Thread-safe, as the store is.
#pragma once

#include "meta/sharded_metadata_store.h"
#include "rpc/meta.grpc.pb.h"

namespace tessera::rpc {

class MetaServer final : public MetaService::Service {
 public:
  explicit MetaServer(meta::ShardedMetadataStore* store) : store_(store) {}

  grpc::Status Promise(grpc::ServerContext*, const PromiseRequest* request,
                       PositionReply* reply) override;
  grpc::Status Append(grpc::ServerContext*, const AppendRequest* request,
                      MetaEmpty* reply) override;
  grpc::Status EntriesAfter(grpc::ServerContext*, const EntriesRequest* request,
                            EntriesReply* reply) override;
  grpc::Status ReadRecords(grpc::ServerContext*, const RecordsRequest* request,
                           RecordsReply* reply) override;
  grpc::Status Install(grpc::ServerContext*, const InstallRequest* request,
                       MetaEmpty* reply) override;
  grpc::Status Lead(grpc::ServerContext*, const LeadRequest* request, LeadReply* reply) override;

 private:
  meta::ShardedMetadataStore* const store_;
};

}  // namespace tessera::rpc
