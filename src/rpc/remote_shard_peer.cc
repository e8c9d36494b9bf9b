#include "rpc/remote_shard_peer.h"

#include <grpcpp/client_context.h>

#include "rpc/meta_version.h"
#include "rpc/peer_channel.h"
#include "rpc/rpc_status.h"

namespace tessera::rpc {
namespace {

bool IsWrite(meta::ShardRequest::Op op) {
  return op == meta::ShardRequest::Op::kPut || op == meta::ShardRequest::Op::kDelete ||
         op == meta::ShardRequest::Op::kReplacePlacement;
}

}  // namespace

RemoteShardPeer::RemoteShardPeer(uint32_t node, const std::string& address,
                                 RemoteShardPeerOptions options)
    : node_(node), options_(options) {
  SetAddress(address);
}

void RemoteShardPeer::SetAddress(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stub_ && address == address_) return;
  stub_ = std::shared_ptr<MetaService::Stub>(MetaService::NewStub(NewPeerChannel(address)));
  address_ = address;
}

std::string RemoteShardPeer::address() const {
  std::lock_guard<std::mutex> lock(mu_);
  return address_;
}

std::shared_ptr<MetaService::Stub> RemoteShardPeer::Stub() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stub_;
}

Status RemoteShardPeer::Call(
    const char* what, std::chrono::milliseconds deadline,
    const std::function<grpc::Status(MetaService::Stub&, grpc::ClientContext*)>& rpc) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  Status s = FromGrpcStatus(rpc(*Stub(), &context));
  if (s.ok()) return s;
  return Status(s.code(), "node " + std::to_string(node_) + " " + what + ": " + s.message());
}

Result<meta::ShardPosition> RemoteShardPeer::Promise(uint32_t shard, int64_t epoch) {
  PromiseRequest request;
  request.set_shard(shard);
  request.set_epoch(epoch);
  PositionReply reply;
  RETURN_IF_ERROR(Call("promise", options_.promise_deadline, [&](auto& stub, auto* context) {
    return stub.Promise(context, request, &reply);
  }));
  meta::ShardPosition p;
  p.promised_epoch = reply.promised_epoch();
  p.applied = FromProto(reply.applied());
  p.installing = reply.installing();
  return p;
}

Status RemoteShardPeer::Append(uint32_t shard, int64_t epoch, meta::LogVersion prev,
                               const std::vector<meta::ShardEntry>& entries) {
  AppendRequest request;
  request.set_shard(shard);
  request.set_epoch(epoch);
  ToProto(prev, request.mutable_prev());
  for (const meta::ShardEntry& e : entries) request.add_entries(meta::EncodeShardEntry(e));
  MetaEmpty reply;
  return Call("append", options_.append_deadline,
              [&](auto& stub, auto* context) { return stub.Append(context, request, &reply); });
}

Result<std::vector<meta::ShardEntry>> RemoteShardPeer::EntriesAfter(uint32_t shard,
                                                                    meta::LogVersion after,
                                                                    size_t max) {
  EntriesRequest request;
  request.set_shard(shard);
  ToProto(after, request.mutable_after());
  request.set_max(static_cast<uint32_t>(max));
  EntriesReply reply;
  RETURN_IF_ERROR(Call("log", options_.copy_deadline, [&](auto& stub, auto* context) {
    return stub.EntriesAfter(context, request, &reply);
  }));
  std::vector<meta::ShardEntry> out;
  for (const std::string& bytes : reply.entries()) {
    ASSIGN_OR_RETURN(meta::ShardEntry e, meta::DecodeShardEntry(bytes));
    out.push_back(std::move(e));
  }
  return out;
}

Result<meta::RecordPage> RemoteShardPeer::ReadRecords(uint32_t shard, const std::string& after_ns,
                                                      const std::string& after_path, size_t max) {
  RecordsRequest request;
  request.set_shard(shard);
  request.set_after_ns(after_ns);
  request.set_after_path(after_path);
  request.set_max(static_cast<uint32_t>(max));
  RecordsReply reply;
  RETURN_IF_ERROR(Call("records", options_.copy_deadline, [&](auto& stub, auto* context) {
    return stub.ReadRecords(context, request, &reply);
  }));
  meta::RecordPage page;
  page.done = reply.done();
  for (const std::string& bytes : reply.records()) {
    ASSIGN_OR_RETURN(meta::FileRecord r, meta::DecodeFileRecord(bytes));
    page.records.push_back(std::move(r));
  }
  return page;
}

Status RemoteShardPeer::BeginInstall(uint32_t shard, int64_t epoch) {
  InstallRequest request;
  request.set_shard(shard);
  request.set_epoch(epoch);
  request.set_step(InstallRequest::BEGIN);
  MetaEmpty reply;
  return Call("copy", options_.copy_deadline,
              [&](auto& stub, auto* context) { return stub.Install(context, request, &reply); });
}

Status RemoteShardPeer::AddInstall(uint32_t shard, int64_t epoch,
                                   const std::vector<meta::FileRecord>& records) {
  InstallRequest request;
  request.set_shard(shard);
  request.set_epoch(epoch);
  request.set_step(InstallRequest::ADD);
  for (const meta::FileRecord& r : records) request.add_records(meta::EncodeFileRecord(r));
  MetaEmpty reply;
  return Call("copy", options_.copy_deadline,
              [&](auto& stub, auto* context) { return stub.Install(context, request, &reply); });
}

Status RemoteShardPeer::FinishInstall(uint32_t shard, int64_t epoch, meta::LogVersion applied) {
  InstallRequest request;
  request.set_shard(shard);
  request.set_epoch(epoch);
  request.set_step(InstallRequest::FINISH);
  ToProto(applied, request.mutable_applied());
  MetaEmpty reply;
  return Call("copy", options_.copy_deadline,
              [&](auto& stub, auto* context) { return stub.Install(context, request, &reply); });
}

Result<meta::ShardReply> RemoteShardPeer::Lead(const meta::ShardRequest& request) {
  LeadRequest wire;
  wire.set_request(meta::EncodeShardRequest(request));
  LeadReply reply;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.lead_deadline);
  grpc::Status status = Stub()->Lead(&context, wire, &reply);
  if (!status.ok()) {
    Status s = FromGrpcStatus(status);
    // The primary's own refusals are definite. A transport failure on a
    // write is too when no connection was made; any other (a deadline, a
    // connection lost mid-call) may have let the write through.
    bool from_primary = status.error_details().rfind("tessera:", 0) == 0;
    bool never_sent = status.error_code() == grpc::StatusCode::UNAVAILABLE &&
                      (status.error_message().find("failed to connect") != std::string::npos ||
                       status.error_message().find("Connection refused") != std::string::npos);
    if (IsWrite(request.op) && !from_primary && !never_sent) {
      s = Status::Indeterminate(s.message());
    }
    return Status(s.code(), "primary node " + std::to_string(node_) + ": " + s.message());
  }
  return meta::DecodeShardReply(reply.reply());
}

}  // namespace tessera::rpc
