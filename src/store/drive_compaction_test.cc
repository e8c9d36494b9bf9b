#include <gtest/gtest.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string_view>
#include <thread>

#include "store/drive.h"
#include "store/drive_testing.h"
#include "store/piece_record.h"
#include "store/test_util.h"

namespace tessera::store {
namespace {

using tessera::testing::TempDir;
using testutil::OpenOrDie;
using testutil::PieceBytes;

namespace fs = std::filesystem;

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

// On a filesystem too full to move anything, the segments with nothing
// live still go: removing them needs no room. Needs a small tmpfs (root).
TEST(DriveCompactionTest, AFullDriveStillDropsSegmentsWithNothingLive) {
  TempDir dir;
  const std::string fs_path = dir.Sub("fs");
  fs::create_directories(fs_path);
  if (::mount("tmpfs", fs_path.c_str(), "tmpfs", 0, "size=8m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{fs_path};
  DriveOptions options = CompactionOptions();
  options.reserved_bytes = 0;
  auto drive = OpenOrDie(fs_path + "/d0", options);
  // Two segments of pieces, all but one deleted, the drive synced and sealed.
  for (uint32_t i = 0; i < 64; ++i) {
    ASSERT_TRUE(drive->Append(Id(i), PieceBytes(Id(i), kLength)).ok()) << i;
  }
  for (uint32_t i = 1; i < 64; ++i) ASSERT_TRUE(drive->Delete(Id(i)).ok());
  ASSERT_TRUE(drive->Sync().ok());
  const size_t segments_before = testutil::SegmentSizes(fs_path + "/d0").size();
  ASSERT_GE(segments_before, 2u);
  // Fill the filesystem to its last byte.
  {
    std::ofstream junk(fs_path + "/junk", std::ios::binary);
    std::string block(64 * 1024, 'x');
    while (junk.write(block.data(), block.size())) {
    }
  }
  auto full = drive->Compact(/*full=*/true);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_GT(full->segments_removed, 0u);
  EXPECT_LT(testutil::SegmentSizes(fs_path + "/d0").size(), segments_before);
  EXPECT_EQ(*drive->Read(Id(0)), PieceBytes(Id(0), kLength));
}

// The active segment holds nothing live: a full pass removes it, and the
// next append must start a new one.
TEST(DriveCompactionTest, AFullPassThatRemovesTheActiveSegmentLeavesTheDriveWritable) {
  TempDir dir;
  auto drive = OpenOrDie(dir.path(), CompactionOptions());
  ASSERT_TRUE(drive->Append(Id(1), PieceBytes(Id(1), kLength)).ok());
  ASSERT_TRUE(drive->Sync().ok());
  ASSERT_TRUE(drive->Delete(Id(1)).ok());
  auto full = drive->Compact(/*full=*/true);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->segments_removed, 1u);
  EXPECT_TRUE(testutil::SegmentSizes(dir.path()).empty());
  for (uint32_t i = 2; i < 5; ++i) {
    ASSERT_TRUE(drive->Append(Id(i), PieceBytes(Id(i), kLength)).ok()) << i;
  }
  ASSERT_TRUE(drive->Sync().ok());
  EXPECT_EQ(*drive->Read(Id(3)), PieceBytes(Id(3), kLength));
  drive.reset();
  drive = OpenOrDie(dir.path(), CompactionOptions());
  EXPECT_EQ(drive->ListPieces().size(), 3u);
  EXPECT_EQ(drive->Read(Id(1)).status().code(), StatusCode::kNotFound);
}

TEST(DriveCompactionTest, AFullPassTakesEveryDeadByteTheActiveSegmentsToo) {
  TempDir dir;
  DriveOptions options = CompactionOptions();
  options.compact_dead_ratio = 0.9;  // a normal pass leaves half-dead segments alone
  auto drive = OpenOrDie(dir.path(), options);
  FillAndDeleteHalf(*drive);
  const uint64_t before = SumOfSegmentFiles(dir.path());
  auto normal = drive->Compact();
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(normal->bytes_reclaimed, 0u);

  auto full = drive->Compact(/*full=*/true);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_GT(full->bytes_reclaimed, 0u);
  const uint64_t after = SumOfSegmentFiles(dir.path());
  // Every dead byte went: what is left is the live half plus record headers.
  EXPECT_LT(after, before * 6 / 10) << before << " -> " << after;
  EXPECT_LE(after, uint64_t{kPieces / 2} * RecordSize(kLength) + 4096);
  ExpectOnlyOddPieces(*drive);
  // New pieces still go in, and the drive reopens with everything.
  ASSERT_TRUE(drive->Append(Id(1000), PieceBytes(Id(1000), kLength)).ok());
  ASSERT_TRUE(drive->Sync().ok());
  drive.reset();
  drive = OpenOrDie(dir.path(), options);
  EXPECT_EQ(drive->ListPieces().size(), kPieces / 2 + 1);
  EXPECT_EQ(*drive->Read(Id(1000)), PieceBytes(Id(1000), kLength));
  EXPECT_EQ(*drive->Read(Id(kPieces - 1)), PieceBytes(Id(kPieces - 1), kLength));
  EXPECT_EQ(drive->Read(Id(0)).status().code(), StatusCode::kNotFound);
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

// What a crash anywhere in a compaction raced by deletes may leave. At every
// point the compaction reaches (drive_testing.h), the test first keeps two
// images of the drive as a crash there could leave it, then deletes one more
// live piece of a segment being compacted. Each image has the segment files
// as they are (every byte written reached the disk) and either the index as
// of the last synced index write (a power loss took every unsynced WAL write)
// or the index as it is (a process crash). In every image, after recovery and
// after another compaction and reopen: a piece whose Delete the image's index
// holds stays deleted, a piece never deleted is there and intact, and a piece
// deleted later is either there intact or gone.
TEST(DriveCompactionTest, CrashAnywhereInACompactionRacedByDeletes) {
  TempDir dir;
  const std::string live = dir.Sub("live");
  auto drive = OpenOrDie(live, CompactionOptions());
  FillAndDeleteHalf(*drive);
  ASSERT_EQ(testutil::SegmentSizes(live).size(), 3u);
  // Odd pieces of segment 1 (pieces 0..32) and segment 2 (33..65), in turn.
  std::vector<uint32_t> to_delete;
  for (uint32_t a = 1, b = 33; a < 33 || b < 66; a += 2, b += 2) {
    if (a < 33) to_delete.push_back(a);
    if (b < 66) to_delete.push_back(b);
  }
  size_t deleted = 0;  // to_delete[0, deleted) are deleted

  struct Image {
    std::string path;
    std::string what;
    size_t deletes_in_index = 0;
  };
  std::vector<Image> images;
  // Taken with nothing in flight: a valid crash state to start from.
  std::string synced_index = dir.Sub("index-0");
  fs::copy(live + "/index", synced_index, fs::copy_options::recursive);
  size_t synced_deletes = 0;
  int events = 0;
  std::vector<std::string> points;
  test_hooks::SetDriveHook([&](std::string_view point, uint32_t segment) {
    const std::string name =
        std::to_string(++events) + "-" + std::string(point) + "-" + std::to_string(segment);
    points.push_back(name);
    if (point == "index.synced") {
      synced_index = dir.Sub("index-" + name);
      fs::copy(live + "/index", synced_index, fs::copy_options::recursive);
      synced_deletes = deleted;
    }
    for (bool power_loss : {true, false}) {
      Image image{dir.Sub("image-" + name + (power_loss ? "-power" : "-process")),
                  name + (power_loss ? ", power loss" : ", process crash"),
                  power_loss ? synced_deletes : deleted};
      fs::copy(live, image.path, fs::copy_options::recursive);
      if (power_loss) {
        fs::remove_all(image.path + "/index");
        fs::copy(synced_index, image.path + "/index", fs::copy_options::recursive);
      }
      images.push_back(std::move(image));
    }
    if (deleted < to_delete.size()) {
      EXPECT_TRUE(drive->Delete(Id(to_delete[deleted])).ok()) << name;
      ++deleted;
    }
  });
  auto stats = drive->Compact();
  test_hooks::SetDriveHook(nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->segments_removed, 2u);
  ASSERT_GE(deleted, 6u);
  std::string trace;
  for (const std::string& p : points) trace += " " + p;
  SCOPED_TRACE("points:" + trace);

  enum class Want { kLive, kGone, kEither };
  auto wants = [&](size_t deletes_in_index) {
    std::vector<Want> want(kPieces, Want::kLive);
    for (uint32_t i = 0; i < kPieces; i += 2) want[i] = Want::kGone;
    for (size_t j = 0; j < deleted; ++j) {
      want[to_delete[j]] = j < deletes_in_index ? Want::kGone : Want::kEither;
    }
    return want;
  };
  // Checks `d` against `want`, then pins every kEither to what it found.
  auto check = [&](Drive& d, std::vector<Want>& want, const std::string& what) {
    uint64_t present = 0;
    for (uint32_t i = 0; i < kPieces; ++i) {
      auto got = d.Read(Id(i));
      if (got.ok()) {
        EXPECT_NE(want[i], Want::kGone) << what << ": deleted piece " << i << " is back";
        EXPECT_EQ(*got, PieceBytes(Id(i), kLength)) << what << ": piece " << i;
        want[i] = Want::kLive;
        ++present;
      } else {
        EXPECT_EQ(got.status().code(), StatusCode::kNotFound)
            << what << ": " << i << ": " << got.status().ToString();
        EXPECT_NE(want[i], Want::kLive) << what << ": live piece " << i << " is lost";
        want[i] = Want::kGone;
      }
    }
    EXPECT_EQ(d.ListPieces().size(), present) << what;
    EXPECT_EQ(d.Usage().piece_count, present) << what;
    EXPECT_EQ(d.Usage().live_bytes, present * kLength) << what;
  };

  std::vector<Want> want = wants(deleted);
  check(*drive, want, "live drive");
  drive.reset();
  drive = OpenOrDie(live, CompactionOptions());
  check(*drive, want, "live drive reopened");

  for (const Image& image : images) {
    std::vector<Want> want = wants(image.deletes_in_index);
    auto d = OpenOrDie(image.path, CompactionOptions());
    ASSERT_NE(d, nullptr) << image.what;
    check(*d, want, image.what);
    auto again = d->Compact();
    ASSERT_TRUE(again.ok()) << image.what << ": " << again.status().ToString();
    d.reset();
    d = OpenOrDie(image.path, CompactionOptions());
    ASSERT_NE(d, nullptr) << image.what;
    check(*d, want, image.what + ", compacted and reopened");
  }
}

}  // namespace
}  // namespace tessera::store
