// A gRPC server on one TCP address serving one or more services.
//
// Start("127.0.0.1:0", ...) picks a free port and port() reports it, so tests
// and local clusters never race for fixed ports. Messages up to
// kMaxMessageBytes are accepted: a Store batch (4 MiB by default) plus
// headroom for a caller that sends one larger piece. The services are
// borrowed and must outlive the server. Shutdown() (also run by the destructor) stops
// accepting calls, cancels calls still running after a short grace period and
// returns when none is left; it is idempotent. Thread-safe.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace tessera::rpc {

inline constexpr int kMaxMessageBytes = 64 << 20;

class RpcServer {
 public:
  // `address` is HOST:PORT, port 0 for any free one. InvalidArgument if it
  // is not; Unavailable if it cannot be bound.
  static Result<std::unique_ptr<RpcServer>> Start(const std::string& address,
                                                  const std::vector<grpc::Service*>& services);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  int port() const { return port_; }
  // "host:port" with the port actually bound.
  const std::string& address() const { return address_; }
  void Shutdown();

 private:
  RpcServer(std::unique_ptr<grpc::Server> server, int port, std::string address);

  std::mutex mutex_;
  std::unique_ptr<grpc::Server> server_;
  const int port_;
  const std::string address_;
};

}  // namespace tessera::rpc
