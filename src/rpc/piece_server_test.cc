// PieceServer through a raw gRPC stub: what the wire sees, without the
// client's batching in between.
#include "rpc/piece_server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "rpc/rpc_test_node.h"

namespace tessera::rpc {
namespace {

using testing::TestNode;

constexpr uint32_t kNode = 3;

class PieceServerTest : public ::testing::Test {
 protected:
  PieceServerTest()
      : stub_(PieceService::NewStub(
            grpc::CreateChannel(node_.address(), grpc::InsecureChannelCredentials()))) {}

  grpc::Status Store(const StoreRequest& request, StoreReply* reply = nullptr) {
    grpc::ClientContext context;
    StoreReply ignored;
    return stub_->Store(&context, request, reply != nullptr ? reply : &ignored);
  }

  static StoreRequest Batch(uint64_t epoch, std::vector<uint32_t> lnums) {
    StoreRequest request;
    request.set_sender(1);
    request.set_epoch(epoch);
    uint32_t index = 0;
    for (uint32_t lnum : lnums) {
      Piece* piece = request.add_pieces();
      piece->set_lnum(lnum);
      piece->set_object(40);
      piece->set_index(index++);
      piece->set_data("piece " + std::to_string(index));
    }
    return request;
  }

  TestNode node_{kNode, 2};
  std::unique_ptr<PieceService::Stub> stub_;
};

TEST_F(PieceServerTest, AnUnknownDriveAnywhereInABatchStoresNothing) {
  grpc::Status status = Store(Batch(7, {0, 1, 9}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("3:9"), std::string::npos) << status.error_message();
  EXPECT_EQ(node_.store().Read({kNode, 0}, {40, 0}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(node_.store().Read({kNode, 1}, {40, 1}).status().code(), StatusCode::kNotFound);
}

TEST_F(PieceServerTest, StaleEpochStoresNothingAndNamesBothEpochs) {
  node_.epoch = 12;
  StoreRequest request = Batch(11, {0, 1});
  request.set_sync(true);
  grpc::Status status = Store(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("stale group epoch 11 < 12"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(node_.store().Read({kNode, 0}, {40, 0}).status().code(), StatusCode::kNotFound);
  // The same batch at the current epoch goes through.
  request.set_epoch(12);
  ASSERT_TRUE(Store(request).ok());
  auto back = node_.store().Read({kNode, 1}, {40, 1});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(std::string(back->begin(), back->end()), "piece 2");
}

// A batch carries many writers' pieces: a piece the drive refuses is listed
// in the reply, and the pieces after it are still stored and synced.
TEST_F(PieceServerTest, ARefusedPieceIsReportedAndTheRestOfTheBatchIsStored) {
  ASSERT_TRUE(Store(Batch(7, {0})).ok());  // (40, 0) on drive 0
  StoreRequest request = Batch(7, {0, 1, 0});
  request.set_sync(true);
  request.mutable_pieces(2)->set_index(5);
  StoreReply reply;
  grpc::Status status = Store(request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(reply.failed_pieces_size(), 1);
  const StoreFailure& failure = reply.failed_pieces(0);
  EXPECT_EQ(failure.lnum(), 0u);
  EXPECT_EQ(failure.object(), 40u);
  EXPECT_EQ(failure.index(), 0u);
  EXPECT_EQ(failure.code(), static_cast<int32_t>(StatusCode::kAlreadyExists));
  EXPECT_NE(failure.message().find("already exists"), std::string::npos) << failure.message();
  EXPECT_EQ(reply.failed_syncs_size(), 0);
  auto first = node_.store().Read({kNode, 0}, {40, 0});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(std::string(first->begin(), first->end()), "piece 1");  // not replaced
  EXPECT_TRUE(node_.store().Read({kNode, 1}, {40, 1}).ok());
  EXPECT_TRUE(node_.store().Read({kNode, 0}, {40, 5}).ok());
}

TEST_F(PieceServerTest, AnEmptyBatchIsFineAndMaySync) {
  StoreRequest request = Batch(7, {});
  EXPECT_TRUE(Store(request).ok());
  request.set_sync(true);
  request.add_sync_lnums(0);
  request.add_sync_lnums(1);
  EXPECT_TRUE(Store(request).ok());
  request.add_sync_lnums(5);
  EXPECT_EQ(Store(request).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(PieceServerTest, DeleteForgetsPiecesAndToleratesAbsentOnes) {
  ASSERT_TRUE(Store(Batch(7, {0, 1})).ok());
  DeleteRequest request;
  request.set_epoch(7);
  for (uint32_t index : {0u, 1u, 2u}) {  // piece 2 was never stored
    PieceRef* piece = request.add_pieces();
    piece->set_lnum(index % 2);
    piece->set_object(40);
    piece->set_index(index);
  }
  grpc::ClientContext context;
  DeleteReply reply;
  ASSERT_TRUE(stub_->Delete(&context, request, &reply).ok());
  EXPECT_EQ(node_.store().Read({kNode, 0}, {40, 0}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(node_.store().Read({kNode, 1}, {40, 1}).status().code(), StatusCode::kNotFound);
}

// The server keeps the threads a burst of calls needed: a second burst right
// after runs on them instead of starting threads of its own (gRPC's default
// ends and starts threads for most calls under concurrency).
TEST_F(PieceServerTest, ABurstOfCallsRunsOnTheThreadsOfTheLastOne) {
  std::mutex mu;
  std::set<std::string> ours;  // callers and the sampler: not the server's
  auto threads_now = [] {
    std::set<std::string> ids;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      ids.insert(task.path().filename().string());
    }
    return ids;
  };
  auto burst = [&] {
    std::vector<std::thread> callers;
    for (int c = 0; c < 16; ++c) {
      callers.emplace_back([&] {
        {
          std::lock_guard lock(mu);
          ours.insert(std::to_string(::gettid()));
        }
        for (int i = 0; i < 30; ++i) {
          DrivesRequest request;
          request.set_sender(1);
          request.set_epoch(7);
          DrivesReply reply;
          grpc::ClientContext context;
          EXPECT_TRUE(stub_->Drives(&context, request, &reply).ok());
        }
      });
    }
    for (auto& t : callers) t.join();
  };
  burst();
  const std::set<std::string> before = threads_now();
  std::set<std::string> seen;
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    {
      std::lock_guard lock(mu);
      ours.insert(std::to_string(::gettid()));
    }
    while (!done) {
      for (const std::string& id : threads_now()) seen.insert(id);
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  burst();
  done = true;
  sampler.join();
  int started = 0;
  for (const std::string& id : seen) started += before.count(id) == 0 && ours.count(id) == 0;
  // A few may start as the load shifts; the default starts about a hundred.
  EXPECT_LE(started, 16) << "server threads started during a second burst of 480 calls";
}

}  // namespace
}  // namespace tessera::rpc
