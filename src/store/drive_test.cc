#include "store/drive.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "store/piece_record.h"
#include "store/test_util.h"

namespace tessera::store {
namespace {

using tessera::testing::TempDir;
using testutil::OpenOrDie;
using testutil::PieceBytes;
using testutil::TestOptions;

TEST(DriveTest, RoundTripsEveryBoundaryLength) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  const std::vector<size_t> lengths = {0, 1, 8191, 8192, 8193, 131071, 131072, 131073, 1 << 20};
  for (size_t i = 0; i < lengths.size(); ++i) {
    PieceId id{100, static_cast<uint32_t>(i)};
    ASSERT_TRUE(drive->Append(id, PieceBytes(id, lengths[i])).ok()) << lengths[i];
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < lengths.size(); ++i) {
      PieceId id{100, static_cast<uint32_t>(i)};
      auto bytes = drive->Read(id);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      EXPECT_EQ(*bytes, PieceBytes(id, lengths[i])) << lengths[i];
      EXPECT_EQ(drive->PieceLength(id).value(), lengths[i]);
    }
    ASSERT_TRUE(drive->Sync().ok());
    drive.reset();
    drive = OpenOrDie(dir.path());  // the second pass reads after a clean reopen
  }
}

TEST(DriveTest, AlreadyExistsNotFoundAndDelete) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  const PieceId id{7, 0};
  ASSERT_TRUE(drive->Append(id, PieceBytes(id, 5000)).ok());
  EXPECT_EQ(drive->Append(id, PieceBytes(id, 10)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(drive->Read(id).value(), PieceBytes(id, 5000));

  EXPECT_EQ(drive->Read({7, 1}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(drive->PieceLength({7, 1}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(drive->Delete({7, 1}).code(), StatusCode::kNotFound);

  ASSERT_TRUE(drive->Delete(id).ok());
  EXPECT_EQ(drive->Read(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(drive->Delete(id).code(), StatusCode::kNotFound);
  EXPECT_EQ(drive->Usage().piece_count, 0u);
  EXPECT_EQ(drive->Usage().live_bytes, 0u);

  drive.reset();
  drive = OpenOrDie(dir.path());
  EXPECT_EQ(drive->Read(id).status().code(), StatusCode::kNotFound);
}

// A drive whose directory is removed under it refuses new pieces as a drive
// that is down (Unavailable, naming it), not as a missing file: a client
// once got 404 for its PUT.
TEST(DriveTest, ADriveWhoseDirectoryIsGoneIsUnavailable) {
  TempDir dir;
  const std::string path = dir.Sub("d0");
  auto drive = OpenOrDie(path);
  ASSERT_TRUE(drive->Append({1, 0}, PieceBytes({1, 0}, 100)).ok());
  std::filesystem::remove_all(path);
  Status refused = drive->Append({1, 1}, PieceBytes({1, 1}, 100));
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("drive " + path + " cannot be reached"), std::string::npos)
      << refused.ToString();
}

// Its segments directory gone, a drive can start no segment: it fails (no
// more writes, reads go on) and says so, as a drive, not a missing file.
TEST(DriveTest, ADriveThatCannotStartASegmentFailsAndSaysWhy) {
  TempDir dir;
  const std::string path = dir.Sub("d0");
  auto drive = OpenOrDie(path);
  EXPECT_TRUE(drive->failure().ok());
  EXPECT_GT(drive->Usage().writable_bytes, 0u);
  std::filesystem::remove_all(path + "/segments");
  Status refused = drive->Append({1, 1}, PieceBytes({1, 1}, 100));
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_NE(refused.message().find("the directory is gone"), std::string::npos)
      << refused.ToString();
  EXPECT_EQ(drive->failure().code(), StatusCode::kUnavailable);
  EXPECT_NE(drive->failure().message().find("failed earlier and takes no writes"),
            std::string::npos);
  EXPECT_EQ(drive->Usage().writable_bytes, 0u) << "placement must leave it out";
}

// A segment removed while it takes appends (its directory deleted): a Sync
// must not call the pieces in it durable, and the drive fails.
TEST(DriveTest, ASyncIntoARemovedSegmentFailsTheDrive) {
  TempDir dir;
  const std::string path = dir.Sub("d0");
  auto drive = OpenOrDie(path);
  ASSERT_TRUE(drive->Append({1, 0}, PieceBytes({1, 0}, 100)).ok());
  ASSERT_TRUE(drive->Sync().ok());
  std::filesystem::remove_all(path + "/segments");
  ASSERT_TRUE(drive->Append({1, 1}, PieceBytes({1, 1}, 100)).ok());
  Status sync = drive->Sync();
  EXPECT_EQ(sync.code(), StatusCode::kIOError) << sync.ToString();
  EXPECT_NE(sync.message().find("was removed from the drive"), std::string::npos)
      << sync.ToString();
  EXPECT_FALSE(drive->failure().ok());
  EXPECT_FALSE(drive->Append({1, 2}, PieceBytes({1, 2}, 100)).ok());
}

// The same when a full compaction runs in between (it seals the removed
// segment and tries to move its live piece): the Sync still must not call
// the piece durable.
TEST(DriveTest, ASealOfARemovedSegmentLeavesItsPiecesUnsynced) {
  TempDir dir;
  const std::string path = dir.Sub("d0");
  auto drive = OpenOrDie(path);
  ASSERT_TRUE(drive->Append({1, 0}, PieceBytes({1, 0}, 100)).ok());
  ASSERT_TRUE(drive->Sync().ok());
  ASSERT_TRUE(drive->Delete({1, 0}).ok());  // dead bytes: a full pass seals the segment
  std::filesystem::remove_all(path + "/segments");
  ASSERT_TRUE(drive->Append({1, 1}, PieceBytes({1, 1}, 100)).ok());
  (void)drive->Compact(/*full=*/true);
  EXPECT_FALSE(drive->Sync().ok());
  EXPECT_FALSE(drive->failure().ok());
}

// What a drive offers new pieces is its free space past the reserve.
TEST(DriveTest, WritableBytesLeaveOutTheReserve) {
  TempDir dir;
  DriveOptions options = TestOptions();
  options.reserved_bytes = 64ull << 20;
  auto drive = OpenOrDie(dir.path(), options);
  DriveUsage usage = drive->Usage();
  ASSERT_GT(usage.fs_free_bytes, options.reserved_bytes);
  // statvfs moves between the two calls; a few MiB of slack.
  EXPECT_NEAR(static_cast<double>(usage.writable_bytes),
              static_cast<double>(usage.fs_free_bytes - options.reserved_bytes), 8 << 20);
  options.reserved_bytes = usage.fs_free_bytes + (1ull << 30);
  drive.reset();
  drive = OpenOrDie(dir.path(), options);
  EXPECT_EQ(drive->Usage().writable_bytes, 0u);
}

TEST(DriveTest, ListsPiecesInIdOrder) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  std::vector<PieceId> ids = {{300, 1}, {2, 9}, {300, 0}, {0x1000, 2}, {2, 10}, {0xff, 0}};
  for (const PieceId& id : ids) ASSERT_TRUE(drive->Append(id, PieceBytes(id, 10)).ok());
  ASSERT_TRUE(drive->Delete({300, 0}).ok());
  std::vector<PieceId> expected = {{2, 9}, {2, 10}, {0xff, 0}, {300, 1}, {0x1000, 2}};
  EXPECT_EQ(drive->ListPieces(), expected);
}

TEST(DriveTest, UsageCountsPiecesAndBytes) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  ASSERT_TRUE(drive->Append({1, 0}, PieceBytes({1, 0}, 100)).ok());
  ASSERT_TRUE(drive->Append({1, 1}, PieceBytes({1, 1}, 20000)).ok());
  DriveUsage u = drive->Usage();
  EXPECT_EQ(u.piece_count, 2u);
  EXPECT_EQ(u.live_bytes, 20100u);
  EXPECT_EQ(u.segment_bytes, RecordSize(100) + RecordSize(20000));
  EXPECT_EQ(u.segment_count, 1u);
  EXPECT_GT(u.fs_total_bytes, 0u);
  EXPECT_GT(u.fs_free_bytes, 0u);
  ASSERT_TRUE(drive->Delete({1, 1}).ok());
  u = drive->Usage();
  EXPECT_EQ(u.live_bytes, 100u);
  EXPECT_EQ(u.segment_bytes, RecordSize(100) + RecordSize(20000));

  drive.reset();
  drive = OpenOrDie(dir.path());
  u = drive->Usage();
  EXPECT_EQ(u.piece_count, 1u);
  EXPECT_EQ(u.live_bytes, 100u);
}

TEST(DriveTest, RollsToNewSegmentsPastSegmentSize) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path(), TestOptions(100 * 1024));
  for (uint32_t i = 0; i < 40; ++i) {
    ASSERT_TRUE(drive->Append({9, i}, PieceBytes({9, i}, 30000)).ok());
  }
  // Sealed past 100 KiB: four 30000-byte records per segment.
  EXPECT_EQ(drive->Usage().segment_count, 10u);
  auto sizes = testutil::SegmentSizes(dir.path());
  EXPECT_EQ(sizes.size(), 10u);
  for (const auto& [id, size] : sizes) EXPECT_EQ(size, 4 * RecordSize(30000)) << id;
  drive.reset();
  drive = OpenOrDie(dir.path(), TestOptions(100 * 1024));
  for (uint32_t i = 0; i < 40; ++i)
    EXPECT_EQ(drive->Read({9, i}).value(), PieceBytes({9, i}, 30000));
  ASSERT_TRUE(drive->Append({9, 40}, PieceBytes({9, 40}, 10)).ok());
  EXPECT_EQ(testutil::SegmentSizes(dir.path()).size(), 11u);
}

TEST(DriveTest, PayloadCorruptionIsReportedWithItsBlock) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  ASSERT_TRUE(drive->Append({1, 0}, PieceBytes({1, 0}, 1000)).ok());
  ASSERT_TRUE(drive->Append({1, 1}, PieceBytes({1, 1}, 40000)).ok());
  ASSERT_TRUE(drive->Append({1, 2}, PieceBytes({1, 2}, 1000)).ok());
  const uint64_t second = RecordSize(1000);
  testutil::XorByteAt(testutil::SegmentPath(dir.path(), 1),
                      second + RecordPrefixSize(40000) + 3 * 8192 + 17);
  auto bad = drive->Read({1, 1});
  ASSERT_EQ(bad.status().code(), StatusCode::kCorruption);
  const std::string& msg = bad.status().message();
  EXPECT_NE(msg.find(dir.path()), std::string::npos) << msg;
  EXPECT_NE(msg.find("piece 0000000000000001.1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("segment 1 at offset " + std::to_string(second)), std::string::npos) << msg;
  EXPECT_NE(msg.find("block 3 of 5"), std::string::npos) << msg;
  EXPECT_EQ(drive->Read({1, 0}).value(), PieceBytes({1, 0}, 1000));
  EXPECT_EQ(drive->Read({1, 2}).value(), PieceBytes({1, 2}, 1000));
}

TEST(DriveTest, HeaderCorruptionIsReported) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  ASSERT_TRUE(drive->Append({1, 0}, PieceBytes({1, 0}, 1000)).ok());
  ASSERT_TRUE(drive->Append({1, 1}, PieceBytes({1, 1}, 1000)).ok());
  const std::string seg = testutil::SegmentPath(dir.path(), 1);
  // The reserved flags field, then the block CRC array: both under header_crc.
  testutil::XorByteAt(seg, RecordSize(1000) + 21);
  EXPECT_EQ(drive->Read({1, 1}).status().code(), StatusCode::kCorruption);
  testutil::XorByteAt(seg, RecordSize(1000) + 21);
  ASSERT_TRUE(drive->Read({1, 1}).ok());
  testutil::XorByteAt(seg, RecordSize(1000) + 33);
  auto bad = drive->Read({1, 1});
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find("header"), std::string::npos) << bad.status().message();
  EXPECT_EQ(drive->Read({1, 0}).value(), PieceBytes({1, 0}, 1000));
}

TEST(DriveTest, ConcurrentAppendsOfOneIdAdmitOne) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  for (uint32_t round = 0; round < 20; ++round) {
    std::atomic<int> ok{0}, exists{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        Status st = drive->Append({55, round}, PieceBytes({55, round}, 3000));
        if (st.ok()) ++ok;
        if (st.code() == StatusCode::kAlreadyExists) ++exists;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(exists.load(), 3);
  }
  EXPECT_EQ(drive->Usage().piece_count, 20u);
}

TEST(DriveTest, GroupCommitServesManyWritersWithFewFdatasyncs) {
  TempDir dir;
  // Small segments so that rolls and seals race with the group commit too.
  auto drive = OpenOrDie(dir.path(), TestOptions(1 << 20));
  constexpr int kThreads = 16, kPerThread = 200;
  std::atomic<int> failures{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        PieceId id{static_cast<uint64_t>(1000 + t), static_cast<uint32_t>(i)};
        if (!drive->Append(id, PieceBytes(id, 4096 + 97 * i)).ok()) ++failures;
        if (!drive->Sync().ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(failures.load(), 0);
  DriveUsage u = drive->Usage();
  EXPECT_EQ(u.sync_calls, uint64_t{kThreads * kPerThread});
  EXPECT_GT(u.sync_rounds, 0u);
  EXPECT_LT(u.sync_rounds, uint64_t{kThreads * kPerThread});
  std::printf(
      "group commit: %d Sync calls served by %llu fdatasync rounds (%.1f calls/round) "
      "in %.2fs\n",
      kThreads * kPerThread, static_cast<unsigned long long>(u.sync_rounds),
      double(kThreads * kPerThread) / double(u.sync_rounds), seconds);
  EXPECT_EQ(u.piece_count, uint64_t{kThreads * kPerThread});

  drive.reset();
  drive = OpenOrDie(dir.path(), TestOptions(1 << 20));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; i += 7) {
      PieceId id{static_cast<uint64_t>(1000 + t), static_cast<uint32_t>(i)};
      EXPECT_EQ(drive->Read(id).value(), PieceBytes(id, 4096 + 97 * i));
    }
  }
  EXPECT_EQ(drive->ListPieces().size(), size_t{kThreads * kPerThread});
}

TEST(DriveTest, SyncWithNothingAppendedReturns) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  EXPECT_TRUE(drive->Sync().ok());
  EXPECT_EQ(drive->Usage().sync_rounds, 0u);
}

TEST(DriveTest, NoSpaceBelowTheReserveIndexesNothing) {
  TempDir dir;
  DriveOptions options = TestOptions();
  {
    auto drive = OpenOrDie(dir.path(), options);
    options.reserved_bytes = drive->Usage().fs_free_bytes + (1ull << 30);
  }
  auto drive = OpenOrDie(dir.path(), options);
  Status st = drive->Append({1, 0}, PieceBytes({1, 0}, 100));
  EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.ToString();
  EXPECT_EQ(drive->Read({1, 0}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(drive->ListPieces().empty());
  EXPECT_EQ(drive->Usage().segment_bytes, 0u);
}

TEST(DriveTest, RejectsBadOptions) {
  TempDir dir;
  DriveOptions options = TestOptions();
  options.compact_dead_ratio = 0;
  EXPECT_EQ(
      Drive::Open(dir.path(), testutil::kCluster, testutil::kNode, {}, options).status().code(),
      StatusCode::kInvalidArgument);
  options = TestOptions(0);
  EXPECT_EQ(
      Drive::Open(dir.path(), testutil::kCluster, testutil::kNode, {}, options).status().code(),
      StatusCode::kInvalidArgument);
}

TEST(DriveTest, ASecondOpenOfTheSameDriveFails) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path());
  auto second = Drive::Open(dir.path(), testutil::kCluster, testutil::kNode, {}, TestOptions());
  EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace tessera::store
