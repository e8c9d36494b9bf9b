// RemotePieceStore against a real PieceServer on loopback over real drives.
#include "rpc/remote_piece_store.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/units.h"
#include "io/io_test_util.h"
#include "rpc/rpc_test_node.h"

namespace tessera::rpc {
namespace {

using io::test_util::RandomBytes;
using testing::TestNode;

constexpr uint32_t kNode = 2;

class RemotePieceStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<RemotePieceStore> Connect(RemotePieceStoreOptions options = {}) {
    options.sender = 1;
    return std::make_unique<RemotePieceStore>(
        kNode, node_.address(), [this] { return client_epoch_.load(); }, options);
  }

  TestNode node_{kNode, 3};
  std::atomic<int64_t> client_epoch_{7};
};

TEST_F(RemotePieceStoreTest, RoundTripsPiecesOfEverySize) {
  auto remote = Connect();
  std::vector<std::pair<store::PieceId, std::vector<uint8_t>>> pieces;
  uint32_t index = 0;
  for (size_t size : {size_t{0}, size_t{1}, 128 * kKiB, 128 * kKiB + 1}) {
    pieces.push_back({{1, index++}, RandomBytes(size, size)});
  }
  for (int i = 0; i < 1000; ++i) pieces.push_back({{2, index++}, RandomBytes(1 + i % 300, i)});
  for (auto& [id, bytes] : pieces) {
    ASSERT_TRUE(remote->Append({kNode, id.index % 3}, id, bytes).ok());
  }
  ASSERT_TRUE(remote->Sync({{kNode, 0}, {kNode, 1}, {kNode, 2}}).ok());
  for (auto& [id, bytes] : pieces) {
    auto back = remote->Read({kNode, id.index % 3}, id);
    ASSERT_TRUE(back.ok()) << id.ToString() << ": " << back.status().ToString();
    EXPECT_EQ(*back, bytes) << id.ToString();
  }
}

TEST_F(RemotePieceStoreTest, SyncMakesAppendedPiecesDurable) {
  auto remote = Connect();
  auto bytes = RandomBytes(100 * kKiB, 1);
  ASSERT_TRUE(remote->Append({kNode, 1}, {5, 0}, bytes).ok());
  ASSERT_TRUE(remote->Append({kNode, 2}, {5, 1}, bytes).ok());
  EXPECT_GT(remote->buffered_bytes(), 0u);  // small pieces wait for Sync
  ASSERT_TRUE(remote->Sync({{kNode, 1}, {kNode, 2}}).ok());
  EXPECT_EQ(remote->buffered_bytes(), 0u);
  remote.reset();
  // Reopen the drives from disk, as a restarted node would.
  node_.Stop();
  node_.Start();
  for (uint32_t i = 0; i < 2; ++i) {
    auto back = node_.store().Read({kNode, 1 + i}, {5, i});
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, bytes);
  }
}

TEST_F(RemotePieceStoreTest, StaleEpochIsRefusedAndChangesNothing) {
  auto remote = Connect();
  auto bytes = RandomBytes(1000, 2);
  ASSERT_TRUE(remote->Append({kNode, 0}, {6, 0}, bytes).ok());
  ASSERT_TRUE(remote->Sync({{kNode, 0}}).ok());

  node_.epoch = 9;
  client_epoch_ = 8;
  ASSERT_TRUE(remote->Append({kNode, 0}, {6, 1}, bytes).ok());
  Status sync = remote->Sync({{kNode, 0}});
  EXPECT_EQ(sync.code(), StatusCode::kFailedPrecondition) << sync.ToString();
  EXPECT_NE(sync.message().find("stale group epoch 8 < 9"), std::string::npos) << sync.ToString();
  EXPECT_EQ(remote->Read({kNode, 0}, {6, 0}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(remote->Delete({kNode, 0}, {6, 0}).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(remote->WritableTopology().drives.empty());

  // Nothing changed: the refused piece is absent, the deleted one still there.
  EXPECT_EQ(node_.store().Read({kNode, 0}, {6, 1}).status().code(), StatusCode::kNotFound);
  auto kept = node_.store().Read({kNode, 0}, {6, 0});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(*kept, bytes);

  // A newer epoch than the node's is accepted: the sender heard of it first.
  client_epoch_ = 10;
  EXPECT_TRUE(remote->Read({kNode, 0}, {6, 0}).ok());
}

// A drive the node does not know is Unavailable, not NotFound: its pieces
// cannot be reached, which does not make them gone.
TEST_F(RemotePieceStoreTest, NotFoundAndCorruptionKeepTheirCodes) {
  auto remote = Connect();
  EXPECT_EQ(remote->Read({kNode, 0}, {77, 0}).status().code(), StatusCode::kNotFound);
  auto unknown = remote->Read({kNode, 9}, {77, 0});
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unknown.status().message().find("2:9"), std::string::npos)
      << unknown.status().ToString();
  EXPECT_EQ(remote->Read({3, 0}, {77, 0}).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(remote->Append({kNode, 9}, {77, 1}, RandomBytes(10, 1)).ok());
  EXPECT_EQ(remote->Sync({{kNode, 9}}).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(remote->Delete({kNode, 9}, {77, 1}).ok());  // forgets the lost piece

  ASSERT_TRUE(remote->Append({kNode, 0}, {8, 0}, RandomBytes(128 * kKiB, 3)).ok());
  ASSERT_TRUE(remote->Sync({{kNode, 0}}).ok());
  node_.Stop();
  for (auto& entry : std::filesystem::recursive_directory_iterator(node_.DrivePath(0))) {
    if (entry.path().extension() != ".seg" || entry.file_size() < 1000) continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    for (std::streamoff pos = 500; pos < static_cast<std::streamoff>(entry.file_size());
         pos += 4096) {
      f.seekg(pos);
      char c;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x40);
      f.seekp(pos);
      f.write(&c, 1);
    }
  }
  node_.Start();
  remote = Connect();
  auto corrupt = remote->Read({kNode, 0}, {8, 0});
  EXPECT_EQ(corrupt.status().code(), StatusCode::kCorruption) << corrupt.status().ToString();
}

TEST_F(RemotePieceStoreTest, StoppedServerIsUnavailableWithinTheDeadline) {
  RemotePieceStoreOptions options;
  options.deadline = std::chrono::milliseconds(2000);
  auto remote = Connect(options);
  node_.Stop();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(remote->Read({kNode, 0}, {1, 0}).status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(remote->Append({kNode, 0}, {1, 0}, RandomBytes(10, 1)).ok());
  EXPECT_EQ(remote->Sync({{kNode, 0}}).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(remote->WritableTopology().drives.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
}

// A peer that accepts connections and never answers: only the deadline ends the call.
TEST_F(RemotePieceStoreTest, SilentPeerHitsTheDeadline) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  RemotePieceStoreOptions options;
  options.deadline = std::chrono::milliseconds(500);
  RemotePieceStore remote(
      kNode, "127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), [] { return 7; }, options);
  auto start = std::chrono::steady_clock::now();
  auto read = remote.Read({kNode, 0}, {1, 0});
  auto elapsed = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_EQ(read.status().code(), StatusCode::kUnavailable) << read.status().ToString();
  EXPECT_NE(read.status().message().find("deadline"), std::string::npos)
      << read.status().ToString();
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

TEST_F(RemotePieceStoreTest, ConcurrentWritersEachReadBackTheirOwnBytes) {
  RemotePieceStoreOptions options;
  options.flush_bytes = 1 * kMiB;  // many batches mixing writers
  auto remote = Connect(options);
  constexpr int kWriters = 8;
  constexpr int kPieces = 40;
  std::vector<std::thread> threads;
  std::vector<Status> results(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      std::vector<std::pair<uint32_t, std::vector<uint8_t>>> mine;
      for (int i = 0; i < kPieces; ++i) {
        uint32_t lnum = rng() % 3;
        mine.push_back({lnum, RandomBytes(rng() % (200 * kKiB), w * 1000 + i)});
        Status s =
            remote->Append({kNode, lnum}, {100u + w, static_cast<uint32_t>(i)}, mine.back().second);
        if (!s.ok()) {
          results[w] = s;
          return;
        }
      }
      Status s = remote->Sync({{kNode, 0}, {kNode, 1}, {kNode, 2}});
      if (!s.ok()) {
        results[w] = s;
        return;
      }
      for (int i = 0; i < kPieces; ++i) {
        auto back = remote->Read({kNode, mine[i].first}, {100u + w, static_cast<uint32_t>(i)});
        if (!back.ok()) {
          results[w] = back.status();
          return;
        }
        if (*back != mine[i].second) {
          results[w] = Status::Internal("piece " + std::to_string(i) + " differs");
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kWriters; ++w)
    EXPECT_TRUE(results[w].ok()) << w << ": " << results[w].ToString();
  EXPECT_LE(remote->max_buffered_bytes(), options.flush_bytes);
}

// Writers that sync while another sync is in flight share the next round
// trip, each still covered for its own drive.
TEST_F(RemotePieceStoreTest, ConcurrentSyncsShareRoundTrips) {
  auto remote = Connect();
  constexpr int kWriters = 16;
  constexpr int kFiles = 30;
  std::vector<std::thread> threads;
  std::vector<Status> results(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kFiles && results[w].ok(); ++i) {
        const meta::DriveRef drive{kNode, static_cast<uint32_t>(w % 3)};
        const store::PieceId id{200u + w, static_cast<uint32_t>(i)};
        results[w] = remote->Append(drive, id, RandomBytes(1000 + i, w * 100 + i));
        if (results[w].ok()) results[w] = remote->Sync({drive});
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kWriters; ++w) {
    ASSERT_TRUE(results[w].ok()) << w << ": " << results[w].ToString();
    for (int i = 0; i < kFiles; ++i) {
      auto back = node_.store().Read({kNode, static_cast<uint32_t>(w % 3)},
                                     {200u + w, static_cast<uint32_t>(i)});
      ASSERT_TRUE(back.ok()) << w << "/" << i << ": " << back.status().ToString();
      EXPECT_EQ(*back, RandomBytes(1000 + i, w * 100 + i));
    }
  }
  EXPECT_EQ(remote->sync_calls(), uint64_t{kWriters * kFiles});
  EXPECT_LT(remote->sync_rounds(), remote->sync_calls());
  std::printf("%llu Sync calls served by %llu round trips\n",
              static_cast<unsigned long long>(remote->sync_calls()),
              static_cast<unsigned long long>(remote->sync_rounds()));
}

// One writer's failed batch carried another writer's piece: the other
// writer's Sync must fail rather than report the lost piece durable.
TEST_F(RemotePieceStoreTest, AFailedBatchFailsTheSyncOfEveryWriterInIt) {
  RemotePieceStoreOptions options;
  options.flush_bytes = 1000;
  auto remote = Connect(options);
  auto bytes = RandomBytes(600, 4);
  ASSERT_TRUE(remote->Append({kNode, 0}, {20, 0}, bytes).ok());  // writer B, buffered
  node_.epoch = 8;                                               // the batch will be refused
  Status a = remote->Append({kNode, 1}, {21, 0}, bytes);         // writer A sends B's piece
  EXPECT_EQ(a.code(), StatusCode::kFailedPrecondition) << a.ToString();
  client_epoch_ = 8;
  Status b = remote->Sync({{kNode, 0}});
  EXPECT_EQ(b.code(), StatusCode::kUnavailable) << b.ToString();
  EXPECT_NE(b.message().find("lost"), std::string::npos) << b.ToString();
  EXPECT_EQ(node_.store().Read({kNode, 0}, {20, 0}).status().code(), StatusCode::kNotFound);
  // Drive 1 held none of the lost pieces.
  EXPECT_TRUE(remote->Sync({{kNode, 1}}).ok());
  // Once B gives its piece up (FileWriter::Abort), the drive syncs again.
  EXPECT_TRUE(remote->Delete({kNode, 0}, {20, 0}).ok());
  ASSERT_TRUE(remote->Append({kNode, 0}, {22, 0}, bytes).ok());
  EXPECT_TRUE(remote->Sync({{kNode, 0}}).ok());
  EXPECT_TRUE(node_.store().Read({kNode, 0}, {22, 0}).ok());

  // Forget (the router's Delete while the node is away) ends it the same way.
  ASSERT_TRUE(remote->Append({kNode, 0}, {23, 0}, bytes).ok());
  node_.epoch = 9;
  EXPECT_FALSE(remote->Append({kNode, 1}, {24, 0}, bytes).ok());
  client_epoch_ = 9;
  EXPECT_FALSE(remote->Sync({{kNode, 0}}).ok());
  remote->Forget({kNode, 0}, {23, 0});
  EXPECT_TRUE(remote->Sync({{kNode, 0}}).ok());
}

// Writers A and B share a batch; the node refuses A's piece (it already
// exists). Only A's Sync fails, with the node's code; B's piece is durable.
TEST_F(RemotePieceStoreTest, ARefusedPieceFailsOnlyTheSyncOfItsDrive) {
  auto remote = Connect();
  auto bytes = RandomBytes(600, 5);
  ASSERT_TRUE(remote->Append({kNode, 0}, {30, 0}, bytes).ok());
  ASSERT_TRUE(remote->Sync({{kNode, 0}}).ok());
  ASSERT_TRUE(remote->Append({kNode, 0}, {30, 0}, bytes).ok());  // A: refused by the node
  ASSERT_TRUE(remote->Append({kNode, 1}, {31, 0}, bytes).ok());  // B
  Status b = remote->Sync({{kNode, 1}});                         // sends A's piece too
  EXPECT_TRUE(b.ok()) << b.ToString();
  EXPECT_EQ(remote->sync_rounds(), 2u);
  EXPECT_TRUE(node_.store().Read({kNode, 1}, {31, 0}).ok());
  Status a = remote->Sync({{kNode, 0}});
  EXPECT_EQ(a.code(), StatusCode::kAlreadyExists) << a.ToString();
  EXPECT_NE(a.message().find("not stored"), std::string::npos) << a.ToString();
  // Once A gives its piece up, drive 0 syncs again.
  EXPECT_TRUE(remote->Delete({kNode, 0}, {30, 0}).ok());
  EXPECT_TRUE(remote->Sync({{kNode, 0}}).ok());
}

TEST_F(RemotePieceStoreTest, LargeStreamKeepsClientMemoryBounded) {
  auto remote = Connect();
  const size_t kPiece = 128 * kKiB;
  const size_t kCount = 200 * kMiB / kPiece;
  std::vector<uint8_t> piece = RandomBytes(kPiece, 5);
  for (uint32_t i = 0; i < kCount; ++i) {
    piece[0] = static_cast<uint8_t>(i);
    piece[1] = static_cast<uint8_t>(i >> 8);
    ASSERT_TRUE(remote->Append({kNode, i % 3}, {30, i}, piece).ok());
    ASSERT_LE(remote->buffered_bytes(), RemotePieceStoreOptions{}.flush_bytes);
  }
  EXPECT_LE(remote->max_buffered_bytes(), RemotePieceStoreOptions{}.flush_bytes);
  ASSERT_TRUE(remote->Sync({{kNode, 0}, {kNode, 1}, {kNode, 2}}).ok());
  for (uint32_t i : {0u, 1u, 777u, static_cast<uint32_t>(kCount - 1)}) {
    auto back = remote->Read({kNode, i % 3}, {30, i});
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    piece[0] = static_cast<uint8_t>(i);
    piece[1] = static_cast<uint8_t>(i >> 8);
    EXPECT_EQ(*back, piece) << i;
  }
}

TEST_F(RemotePieceStoreTest, WritableTopologyListsTheNodesDrives) {
  auto remote = Connect();
  layout::Topology topology = remote->WritableTopology();
  ASSERT_EQ(topology.drives.size(), 3u);
  for (uint32_t lnum = 0; lnum < 3; ++lnum) {
    EXPECT_EQ(topology.drives[lnum].node, kNode);
    EXPECT_EQ(topology.drives[lnum].lnum, lnum);
    EXPECT_GT(topology.drives[lnum].free_bytes, 0u);
  }
}

}  // namespace
}  // namespace tessera::rpc

namespace tessera::rpc {
namespace {

TEST_F(RemotePieceStoreTest, PendingPiecesFollowThePeerToItsNewAddress) {
  auto remote = Connect();
  auto bytes = RandomBytes(50 * kKiB, 3);
  ASSERT_TRUE(remote->Append({kNode, 0}, {9, 0}, bytes).ok());
  const std::string old_address = node_.address();
  // The peer restarts on another port before this writer syncs.
  node_.Stop();
  node_.Start();
  ASSERT_NE(node_.address(), old_address);
  remote->SetAddress(node_.address());
  EXPECT_EQ(remote->address(), node_.address());
  ASSERT_TRUE(remote->Sync({{kNode, 0}}).ok());
  auto back = node_.store().Read({kNode, 0}, {9, 0});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, bytes);
}

}  // namespace
}  // namespace tessera::rpc
