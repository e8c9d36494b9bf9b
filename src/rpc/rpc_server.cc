#include "rpc/rpc_server.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>

#include "common/host_port.h"

namespace tessera::rpc {
namespace {

constexpr int kMaxIdleThreads = 32;

}  // namespace

Result<std::unique_ptr<RpcServer>> RpcServer::Start(const std::string& address,
                                                    const std::vector<grpc::Service*>& services) {
  ASSIGN_OR_RETURN(HostPort requested,
                   ParseHostPort(address, "rpc address '" + address + "'", PortZero::kAnyFreePort));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // The sync server's default keeps at most 2 idle threads and lets one go
  // after 10 ms idle: under concurrent writes it then starts and ends threads
  // all the time, which cost more CPU than the calls. Keep the threads a
  // burst needed, and let an idle one go only after a second.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kMaxIdleThreads);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::CQ_TIMEOUT_MSEC, 1000);
  // gRPC binds with SO_REUSEPORT by default: a second node given the same
  // address would then share the port and take some of this one's calls.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Status::Unavailable("cannot serve rpc on " + address);
  }
  std::string bound = HostPort{requested.host, port}.ToString();
  return std::unique_ptr<RpcServer>(new RpcServer(std::move(server), port, std::move(bound)));
}

RpcServer::RpcServer(std::unique_ptr<grpc::Server> server, int port, std::string address)
    : server_(std::move(server)), port_(port), address_(std::move(address)) {}

RpcServer::~RpcServer() { Shutdown(); }

void RpcServer::Shutdown() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (server_ == nullptr) return;
  // Calls in flight get a moment to finish; after that they are cancelled, so
  // a stuck peer cannot hold a node's shutdown.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
}

}  // namespace tessera::rpc
