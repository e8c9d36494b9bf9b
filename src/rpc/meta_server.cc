#include "rpc/meta_server.h"

#include "rpc/meta_version.h"
#include "rpc/rpc_status.h"

namespace tessera::rpc {

grpc::Status MetaServer::Promise(grpc::ServerContext*, const PromiseRequest* request,
                                 PositionReply* reply) {
  Result<meta::ShardPosition> p = store_->replica().Promise(request->shard(), request->epoch());
  if (!p.ok()) return ToGrpcStatus(p.status());
  reply->set_promised_epoch(p->promised_epoch);
  ToProto(p->applied, reply->mutable_applied());
  reply->set_installing(p->installing);
  return grpc::Status::OK;
}

grpc::Status MetaServer::Append(grpc::ServerContext*, const AppendRequest* request, MetaEmpty*) {
  std::vector<meta::ShardEntry> entries;
  entries.reserve(request->entries_size());
  for (const std::string& bytes : request->entries()) {
    Result<meta::ShardEntry> e = meta::DecodeShardEntry(bytes);
    if (!e.ok()) return ToGrpcStatus(Status::InvalidArgument(e.status().message()));
    entries.push_back(std::move(e).value());
  }
  return ToGrpcStatus(store_->replica().Append(request->shard(), request->epoch(),
                                               FromProto(request->prev()), entries));
}

grpc::Status MetaServer::EntriesAfter(grpc::ServerContext*, const EntriesRequest* request,
                                      EntriesReply* reply) {
  Result<std::vector<meta::ShardEntry>> entries =
      store_->replica().EntriesAfter(request->shard(), FromProto(request->after()), request->max());
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  for (const meta::ShardEntry& e : *entries) reply->add_entries(meta::EncodeShardEntry(e));
  return grpc::Status::OK;
}

grpc::Status MetaServer::ReadRecords(grpc::ServerContext*, const RecordsRequest* request,
                                     RecordsReply* reply) {
  Result<meta::RecordPage> page = store_->replica().ReadRecords(
      request->shard(), request->after_ns(), request->after_path(), request->max());
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const meta::FileRecord& r : page->records) reply->add_records(meta::EncodeFileRecord(r));
  reply->set_done(page->done);
  return grpc::Status::OK;
}

grpc::Status MetaServer::Install(grpc::ServerContext*, const InstallRequest* request, MetaEmpty*) {
  meta::ShardReplicaStore& replica = store_->replica();
  switch (request->step()) {
    case InstallRequest::BEGIN:
      return ToGrpcStatus(replica.BeginInstall(request->shard(), request->epoch()));
    case InstallRequest::FINISH:
      return ToGrpcStatus(
          replica.FinishInstall(request->shard(), request->epoch(), FromProto(request->applied())));
    case InstallRequest::ADD: {
      std::vector<meta::FileRecord> records;
      for (const std::string& bytes : request->records()) {
        Result<meta::FileRecord> r = meta::DecodeFileRecord(bytes);
        if (!r.ok()) return ToGrpcStatus(Status::InvalidArgument(r.status().message()));
        records.push_back(std::move(r).value());
      }
      return ToGrpcStatus(replica.AddInstall(request->shard(), request->epoch(), records));
    }
    default:
      return ToGrpcStatus(Status::InvalidArgument("unknown install step"));
  }
}

grpc::Status MetaServer::Lead(grpc::ServerContext*, const LeadRequest* request, LeadReply* reply) {
  Result<meta::ShardRequest> decoded = meta::DecodeShardRequest(request->request());
  if (!decoded.ok()) return ToGrpcStatus(Status::InvalidArgument(decoded.status().message()));
  Result<meta::ShardReply> served = store_->Lead(*decoded);
  if (!served.ok()) return ToGrpcStatus(served.status());
  reply->set_reply(meta::EncodeShardReply(*served));
  return grpc::Status::OK;
}

}  // namespace tessera::rpc
