#include "rpc/rpc_status.h"

#include <gtest/gtest.h>

namespace tessera::rpc {
namespace {

TEST(RpcStatusTest, EveryCodeSurvivesTheWireWithItsMessage) {
  for (int c = 1; c <= static_cast<int>(kLastStatusCode); ++c) {
    Status original(static_cast<StatusCode>(c), "what went wrong " + std::to_string(c));
    grpc::Status wire = ToGrpcStatus(original);
    EXPECT_FALSE(wire.ok());
    Status back = FromGrpcStatus(wire);
    EXPECT_EQ(back.code(), original.code()) << original.ToString();
    EXPECT_EQ(back.message(), original.message());
  }
  EXPECT_TRUE(ToGrpcStatus(Status::Ok()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(RpcStatusTest, MapsToTheMatchingGrpcCodes) {
  EXPECT_EQ(ToGrpcCode(StatusCode::kNotFound), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcCode(StatusCode::kCorruption), grpc::StatusCode::DATA_LOSS);
  EXPECT_EQ(ToGrpcCode(StatusCode::kUnavailable), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcCode(StatusCode::kNoSpace), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcCode(StatusCode::kInvalidArgument), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcCode(StatusCode::kFailedPrecondition), grpc::StatusCode::FAILED_PRECONDITION);
}

// Statuses gRPC makes itself carry no tessera code: the gRPC code decides.
TEST(RpcStatusTest, MapsGrpcOwnStatuses) {
  auto from = [](grpc::StatusCode code) { return FromGrpcStatus(grpc::Status(code, "m")); };
  EXPECT_EQ(from(grpc::StatusCode::UNAVAILABLE).code(), StatusCode::kUnavailable);
  EXPECT_EQ(from(grpc::StatusCode::NOT_FOUND).code(), StatusCode::kNotFound);
  EXPECT_EQ(from(grpc::StatusCode::DATA_LOSS).code(), StatusCode::kCorruption);
  EXPECT_EQ(from(grpc::StatusCode::INVALID_ARGUMENT).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(from(grpc::StatusCode::FAILED_PRECONDITION).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(from(grpc::StatusCode::UNIMPLEMENTED).code(), StatusCode::kInternal);
  Status deadline = from(grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(deadline.code(), StatusCode::kUnavailable);
  EXPECT_NE(deadline.message().find("deadline"), std::string::npos) << deadline.ToString();
  EXPECT_NE(deadline.message().find("m"), std::string::npos);
  // Details that are not ours are ignored rather than trusted.
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "m", "tessera:99")).code(),
            StatusCode::kNotFound);
}

TEST(RpcStatusTest, StatusFromWireKeepsKnownCodesOnly) {
  for (int c = 1; c <= static_cast<int>(kLastStatusCode); ++c) {
    Status back = StatusFromWire(c, "why");
    EXPECT_EQ(static_cast<int>(back.code()), c);
    EXPECT_EQ(back.message(), "why");
  }
  for (int32_t bad : {0, -1, static_cast<int>(kLastStatusCode) + 1, 1 << 30}) {
    Status back = StatusFromWire(bad, "why");
    EXPECT_EQ(back.code(), StatusCode::kInternal) << bad;
    EXPECT_NE(back.message().find(std::to_string(bad)), std::string::npos) << back.ToString();
  }
}

}  // namespace
}  // namespace tessera::rpc
