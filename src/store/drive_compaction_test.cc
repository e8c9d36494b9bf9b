#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "store/drive.h"
#include "store/piece_record.h"
#include "store/test_util.h"

namespace tessera::store {
namespace {

using testutil::OpenOrDie;
using testutil::PieceBytes;
using testutil::TempDir;

constexpr uint32_t kPieces = 80;
constexpr size_t kLength = 32000;  // 80 of them: about 2.5 segments of 1 MiB

DriveOptions CompactionOptions() {
  DriveOptions o = testutil::TestOptions(1 << 20);
  o.compact_dead_ratio = 0.4;
  return o;
}

PieceId Id(uint32_t i) { return PieceId{77, i}; }

// Writes kPieces pieces, deletes the even ones, and syncs.
void FillAndDeleteHalf(Drive& drive) {
  for (uint32_t i = 0; i < kPieces; ++i) {
    ASSERT_TRUE(drive.Append(Id(i), PieceBytes(Id(i), kLength)).ok());
  }
  for (uint32_t i = 0; i < kPieces; i += 2) ASSERT_TRUE(drive.Delete(Id(i)).ok());
  ASSERT_TRUE(drive.Sync().ok());
}

void ExpectOnlyOddPieces(Drive& drive) {
  for (uint32_t i = 0; i < kPieces; ++i) {
    auto got = drive.Read(Id(i));
    if (i % 2 == 0) {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << i;
    } else {
      ASSERT_TRUE(got.ok()) << i << ": " << got.status().ToString();
      EXPECT_EQ(*got, PieceBytes(Id(i), kLength)) << i;
    }
  }
  EXPECT_EQ(drive.ListPieces().size(), kPieces / 2);
}

uint64_t SumOfSegmentFiles(const std::string& path) {
  uint64_t total = 0;
  for (const auto& [id, size] : testutil::SegmentSizes(path)) total += size;
  return total;
}

TEST(DriveCompactionTest, ReclaimsDeadSpaceAndKeepsLivePieces) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path(), CompactionOptions());
  FillAndDeleteHalf(*drive);
  const uint64_t files_before = SumOfSegmentFiles(dir.path());
  const uint64_t allocated_before = testutil::SegmentAllocatedBytes(dir.path());
  const size_t segments_before = testutil::SegmentSizes(dir.path()).size();
  ASSERT_EQ(segments_before, 3u);

  auto stats = drive->Compact();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  // Segments 1 and 2 are sealed and half dead; 3 is the active one.
  EXPECT_EQ(stats->segments_removed, 2u);
  EXPECT_GT(stats->pieces_moved, 0u);
  EXPECT_EQ(stats->bytes_moved, stats->pieces_moved * RecordSize(kLength));
  EXPECT_GT(stats->bytes_reclaimed, 0u);

  const uint64_t files_after = SumOfSegmentFiles(dir.path());
  const uint64_t allocated_after = testutil::SegmentAllocatedBytes(dir.path());
  EXPECT_EQ(files_before - files_after, stats->bytes_reclaimed);
  EXPECT_LT(allocated_after, allocated_before);
  std::printf("compaction: segment files %llu -> %llu bytes, allocated %llu -> %llu bytes\n",
              static_cast<unsigned long long>(files_before),
              static_cast<unsigned long long>(files_after),
              static_cast<unsigned long long>(allocated_before),
              static_cast<unsigned long long>(allocated_after));
  DriveUsage u = drive->Usage();
  EXPECT_EQ(u.segment_bytes, files_after);
  EXPECT_EQ(u.live_bytes, uint64_t{kPieces / 2} * kLength);
  EXPECT_EQ(u.segment_count, testutil::SegmentSizes(dir.path()).size());
  ExpectOnlyOddPieces(*drive);

  // A second pass finds nothing above the ratio.
  auto again = drive->Compact();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->segments_removed, 0u);

  drive.reset();
  drive = OpenOrDie(dir.path(), CompactionOptions());
  ExpectOnlyOddPieces(*drive);
  EXPECT_EQ(drive->Usage().live_bytes, uint64_t{kPieces / 2} * kLength);
  EXPECT_EQ(drive->Usage().segment_bytes, files_after);
}

TEST(DriveCompactionTest, NothingToDoOnAFreshDrive) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path(), CompactionOptions());
  for (uint32_t i = 0; i < kPieces; ++i) {
    ASSERT_TRUE(drive->Append(Id(i), PieceBytes(Id(i), kLength)).ok());
  }
  auto stats = drive->Compact();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->segments_removed, 0u);
  EXPECT_EQ(stats->bytes_moved, 0u);
}

TEST(DriveCompactionTest, FullyDeadSegmentsAreRemovedWithoutCopying) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path(), CompactionOptions());
  for (uint32_t i = 0; i < kPieces; ++i) {
    ASSERT_TRUE(drive->Append(Id(i), PieceBytes(Id(i), kLength)).ok());
  }
  for (uint32_t i = 0; i < kPieces; ++i) ASSERT_TRUE(drive->Delete(Id(i)).ok());
  auto stats = drive->Compact();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->segments_removed, 2u);
  EXPECT_EQ(stats->bytes_moved, 0u);
  EXPECT_EQ(testutil::SegmentSizes(dir.path()).size(), 1u);
  EXPECT_EQ(drive->Usage().live_bytes, 0u);
}

TEST(DriveCompactionTest, ReadersNeverSeeAnErrorWhileCompactionRuns) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path(), CompactionOptions());
  FillAndDeleteHalf(*drive);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0}, errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(t);
      // Keep reading until compaction is over and every reader has done some.
      while (!done.load() || reads.load() < 400) {
        uint32_t i = 1 + 2 * (rng() % (kPieces / 2));
        auto got = drive->Read(Id(i));
        if (!got.ok() || *got != PieceBytes(Id(i), kLength)) ++errors;
        ++reads;
      }
    });
  }
  uint64_t removed = 0;
  for (int pass = 0; pass < 3; ++pass) {
    auto stats = drive->Compact();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    removed += stats->segments_removed;
    // Fresh dead space for the next pass: delete and re-add a few pieces.
    for (uint32_t i = 0; i < kPieces; i += 2) {
      if (pass % 2 == 0) {
        ASSERT_TRUE(drive->Append(Id(i), PieceBytes(Id(i), kLength)).ok());
      } else {
        ASSERT_TRUE(drive->Delete(Id(i)).ok());
      }
    }
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(removed, 0u);
  EXPECT_EQ(errors.load(), 0u) << "of " << reads.load() << " reads";
}

TEST(DriveCompactionTest, DeletesRacingCompactionWin) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path(), CompactionOptions());
  FillAndDeleteHalf(*drive);
  std::thread deleter([&] {
    for (uint32_t i = 1; i < kPieces; i += 4) EXPECT_TRUE(drive->Delete(Id(i)).ok());
  });
  auto stats = drive->Compact();
  deleter.join();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  auto check = [&](Drive& d) {
    uint64_t live = 0;
    for (uint32_t i = 0; i < kPieces; ++i) {
      auto got = d.Read(Id(i));
      if (i % 4 == 3) {
        ASSERT_TRUE(got.ok()) << i;
        EXPECT_EQ(*got, PieceBytes(Id(i), kLength));
        live += kLength;
      } else {
        EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << i;
      }
    }
    EXPECT_EQ(d.Usage().live_bytes, live);
    EXPECT_EQ(d.Usage().piece_count, kPieces / 4);
  };
  check(*drive);
  ASSERT_TRUE(drive->Sync().ok());
  drive.reset();
  drive = OpenOrDie(dir.path(), CompactionOptions());
  check(*drive);
  // Everything left dead is reclaimable.
  ASSERT_TRUE(drive->Compact().ok());
}

}  // namespace
}  // namespace tessera::store
