#include "rpc/rpc_server.h"

#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "io/local_piece_store.h"
#include "rpc/peer_channel.h"
#include "rpc/piece_server.h"

namespace tessera::rpc {
namespace {

class RpcServerTest : public ::testing::Test {
 protected:
  io::LocalPieceStore store_{1};
  PieceServer service_{1, &store_, [] { return int64_t{0}; }};
};

TEST_F(RpcServerTest, AnyFreePortIsBoundAndServes) {
  Result<std::unique_ptr<RpcServer>> server = RpcServer::Start("127.0.0.1:0", {&service_});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  int port = (*server)->port();
  ASSERT_GT(port, 0);
  EXPECT_EQ((*server)->address(), "127.0.0.1:" + std::to_string(port));

  auto stub = PieceService::NewStub(NewPeerChannel((*server)->address()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  DrivesRequest request;
  request.set_sender(2);
  DrivesReply reply;
  grpc::Status status = stub->Drives(&context, request, &reply);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.drives_size(), 0);
}

TEST_F(RpcServerTest, APortInUseIsUnavailable) {
  Result<std::unique_ptr<RpcServer>> first = RpcServer::Start("127.0.0.1:0", {&service_});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  PieceServer other(1, &store_, [] { return int64_t{0}; });
  Result<std::unique_ptr<RpcServer>> second = RpcServer::Start((*first)->address(), {&other});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

TEST_F(RpcServerTest, AMalformedAddressIsRefusedWithoutBinding) {
  for (const char* address : {"127.0.0.1", "127.0.0.1:x", ":0", "127.0.0.1:70000", "a b:1"}) {
    SCOPED_TRACE(address);
    Result<std::unique_ptr<RpcServer>> server = RpcServer::Start(address, {&service_});
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(server.status().message().find(address), std::string::npos)
        << server.status().message();
  }
}

}  // namespace
}  // namespace tessera::rpc
