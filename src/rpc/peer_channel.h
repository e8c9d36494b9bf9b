// The gRPC channel one node opens to another's RPC address: insecure
// (loopback and cluster-internal networks) and sized for kMaxMessageBytes.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

namespace tessera::rpc {

std::shared_ptr<grpc::Channel> NewPeerChannel(const std::string& address);

}  // namespace tessera::rpc
