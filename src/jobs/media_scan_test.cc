// MediaScan over real drives and a real metadata database: damage is made
// on disk (bytes flipped inside a segment file, pieces deleted); a store
// decorator adds what a single process cannot make for real (a down drive)
// and lets a client act in the middle of a scan.
#include "jobs/media_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>

#include "io/clone_store.h"
#include "io/io_test_util.h"
#include "io/piece_map.h"
#include "jobs/job_testing.h"
#include "meta/rocksdb_metadata_store.h"
#include "tests/support/segment_damage.h"
#include "tests/support/temp_dir.h"

namespace tessera::jobs {
namespace {

class FaultyStore final : public io::PieceStore {
 public:
  explicit FaultyStore(io::PieceStore& inner) : inner_(inner) {}

  std::set<uint32_t> down_lnums;            // reads answer Unavailable
  std::set<uint32_t> broken_lnums;          // reads answer Internal
  std::function<void()> before_first_read;  // run once

  layout::Topology WritableTopology() override { return inner_.WritableTopology(); }
  Status Append(const meta::DriveRef& drive, const store::PieceId& id,
                std::span<const uint8_t> bytes) override {
    ++appends;
    return inner_.Append(drive, id, bytes);
  }
  Status Sync(const std::vector<meta::DriveRef>& drives) override { return inner_.Sync(drives); }
  Result<std::vector<uint8_t>> Read(const meta::DriveRef& drive,
                                    const store::PieceId& id) override {
    // Reads of a stripe's pieces run in parallel.
    std::call_once(first_read_, [this] {
      if (before_first_read) before_first_read();
    });
    if (down_lnums.count(drive.lnum)) return Status::Unavailable("drive is down");
    if (broken_lnums.count(drive.lnum)) return Status::Internal("no thread to read on");
    return inner_.Read(drive, id);
  }
  Status Delete(const meta::DriveRef& drive, const store::PieceId& id) override {
    return inner_.Delete(drive, id);
  }

  std::atomic<int> appends{0};

 private:
  io::PieceStore& inner_;
  std::once_flag first_read_;
};

class MediaScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    drives_ = io::test_util::OpenTestDrives(dir_.path(), 6);
    ASSERT_NE(drives_, nullptr);
    auto metadata = meta::RocksDbMetadataStore::Open(dir_.Sub("meta"));
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
  }

  // A file under +2 on the six drives: 3 copies below 128 KiB, 4+2 stripes above.
  meta::FileRecord Put(const std::string& path, size_t size, uint64_t seed) {
    std::vector<uint8_t> content = io::test_util::RandomBytes(size, seed);
    const uint64_t id = next_id_++;
    io::FileWriter writer(*drives_, *layout::ProtectionPolicy::Parse("+2"), id);
    EXPECT_TRUE(writer.Write(content).ok());
    auto written = writer.Finish();
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    meta::FileRecord r = io::test_util::RecordFor(*written, "+2", id);
    r.path = path;
    EXPECT_TRUE(metadata_->Put(r).ok());
    return r;
  }

  // Each piece's bytes as the drives hold them now.
  std::vector<std::vector<uint8_t>> PieceBytes(const meta::FileRecord& r) {
    std::vector<std::vector<uint8_t>> out;
    for (const io::PieceInfo& p : io::PiecesOf(r)) {
      auto bytes = drives_->Read(p.drive, p.id);
      EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
      out.push_back(bytes.ok() ? *bytes : std::vector<uint8_t>{});
    }
    return out;
  }

  // Flips a byte of the piece on its drive, found by its bytes (each test
  // file has content of its own).
  void CorruptOnDisk(const io::PieceInfo& piece, const std::vector<uint8_t>& bytes) {
    const std::string_view pattern(reinterpret_cast<const char*>(bytes.data()),
                                   std::min<size_t>(bytes.size(), 256));
    ASSERT_TRUE(
        testing::FlipByteInSegments(dir_.path() + "/d" + std::to_string(piece.drive.lnum), pattern))
        << "piece " << piece.id.ToString() << " not found on drive " << piece.drive.lnum;
  }

  testing::TempDir dir_;
  std::unique_ptr<io::LocalPieceStore> drives_;
  std::unique_ptr<meta::RocksDbMetadataStore> metadata_;
  uint64_t next_id_ = 100;
};

// Every pattern of up to m = 2 bad units of a 4+2 stripe, data and parity,
// bytes flipped or the piece gone: each bad piece holds its bytes again
// and every other piece is as it was.
TEST_F(MediaScanTest, EveryPatternOfUpToTwoBadUnitsIsRepairedInPlace) {
  uint64_t seed = 1;
  for (int a = 0; a < 6; ++a) {
    for (int b = a; b < 6; ++b) {
      SCOPED_TRACE("units " + std::to_string(a) + "," + std::to_string(b));
      meta::FileRecord r = Put("f" + std::to_string(seed), 3 * 512 * 1024 + 1000, seed);
      ++seed;
      ASSERT_EQ(r.geometry.kind, layout::Geometry::Kind::kStripe);
      ASSERT_EQ(r.geometry.data_units, 4);
      const std::vector<io::PieceInfo> pieces = io::PiecesOf(r);
      const std::vector<std::vector<uint8_t>> before = PieceBytes(r);
      std::set<int> bad = {a, b};
      for (int unit : bad) {
        // The pair's first unit in the short last stripe (3), the other in stripe 0.
        const size_t index = (unit == a ? 18 : 0) + unit;
        if ((a + b) % 2 == 0) {
          CorruptOnDisk(pieces[index], before[index]);
          ASSERT_EQ(drives_->Read(pieces[index].drive, pieces[index].id).status().code(),
                    StatusCode::kCorruption);
        } else {
          ASSERT_TRUE(drives_->Delete(pieces[index].drive, pieces[index].id).ok());
        }
      }
      MediaScanResult result = ScanFile(*drives_, *metadata_, r);
      EXPECT_TRUE(result.problems.empty()) << result.problems.front();
      EXPECT_EQ(result.pieces_repaired, bad.size());
      EXPECT_EQ(result.pieces_scanned, pieces.size());
      EXPECT_FALSE(result.moved);
      EXPECT_EQ(PieceBytes(r), before);
    }
  }
}

TEST_F(MediaScanTest, MirrorCopiesAreRepairedFromTheGoodOne) {
  meta::FileRecord r = Put("small", 5000, 7);
  ASSERT_EQ(r.geometry.kind, layout::Geometry::Kind::kMirror);
  ASSERT_EQ(r.geometry.copies, 3);
  const std::vector<io::PieceInfo> pieces = io::PiecesOf(r);
  const std::vector<std::vector<uint8_t>> before = PieceBytes(r);
  CorruptOnDisk(pieces[0], before[0]);
  ASSERT_TRUE(drives_->Delete(pieces[2].drive, pieces[2].id).ok());

  MediaScanResult result = ScanFile(*drives_, *metadata_, r);
  EXPECT_TRUE(result.problems.empty()) << result.problems.front();
  EXPECT_EQ(result.pieces_repaired, 2u);
  ASSERT_EQ(result.repairs.size(), 2u);
  EXPECT_NE(result.repairs[0].find("Corruption"), std::string::npos) << result.repairs[0];
  EXPECT_NE(result.repairs[1].find("NotFound"), std::string::npos) << result.repairs[1];
  EXPECT_EQ(PieceBytes(r), before);
  // A second scan finds nothing left to do.
  EXPECT_EQ(ScanFile(*drives_, *metadata_, r).pieces_repaired, 0u);
}

TEST_F(MediaScanTest, AStripeWithMoreThanMBadUnitsIsReportedAndLeftAlone) {
  meta::FileRecord r = Put("lost", 600 * 1024, 8);
  const std::vector<io::PieceInfo> pieces = io::PiecesOf(r);
  const std::vector<std::vector<uint8_t>> before = PieceBytes(r);
  for (int unit : {0, 3, 5}) CorruptOnDisk(pieces[unit], before[unit]);
  FaultyStore store(*drives_);

  MediaScanResult result = ScanFile(store, *metadata_, r);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_NE(result.problems[0].find("stripe 0 cannot be rebuilt: 3 of 6 units are readable, 4 "
                                    "are needed"),
            std::string::npos)
      << result.problems[0];
  EXPECT_EQ(result.pieces_repaired, 0u);
  EXPECT_EQ(store.appends, 0);
}

// A down drive is FlexProtect's; a bad unit beside it is still repaired
// from the four good ones.
TEST_F(MediaScanTest, PiecesOnADownDriveAreCountedNotRewritten) {
  meta::FileRecord r = Put("degraded", 512 * 1024, 9);
  const std::vector<io::PieceInfo> pieces = io::PiecesOf(r);
  const std::vector<std::vector<uint8_t>> before = PieceBytes(r);
  FaultyStore store(*drives_);
  store.down_lnums = {pieces[1].drive.lnum};
  CorruptOnDisk(pieces[4], before[4]);

  MediaScanResult result = ScanFile(store, *metadata_, r);
  EXPECT_TRUE(result.problems.empty()) << result.problems.front();
  EXPECT_EQ(result.pieces_unavailable, 1u);
  EXPECT_EQ(result.pieces_repaired, 1u);
  EXPECT_EQ(store.appends, 1);
  EXPECT_EQ(PieceBytes(r), before);
}

// A client's rewrite between the scan's read and its repair wins: nothing
// of the old content is written back and nothing is reported.
TEST_F(MediaScanTest, AFileRewrittenDuringTheScanIsNotRepaired) {
  meta::FileRecord r = Put("busy", 5000, 10);
  const std::vector<io::PieceInfo> pieces = io::PiecesOf(r);
  ASSERT_TRUE(drives_->Delete(pieces[0].drive, pieces[0].id).ok());
  FaultyStore store(*drives_);
  store.before_first_read = [&] { Put("busy", 7000, 11); };

  MediaScanResult result = ScanFile(store, *metadata_, r);
  EXPECT_TRUE(result.moved);
  EXPECT_TRUE(result.problems.empty());
  EXPECT_EQ(result.pieces_repaired, 0u);
  EXPECT_EQ(store.appends, 0);
  EXPECT_EQ(drives_->Read(pieces[0].drive, pieces[0].id).status().code(), StatusCode::kNotFound);
}

// Nothing is written to a file whose content does not match its record:
// the bytes a rebuild would draw on may be the bad ones.
TEST_F(MediaScanTest, ContentThatDoesNotMatchItsRecordIsReportedAndNotWritten) {
  meta::FileRecord r = Put("mismatch", 300 * 1024, 12);
  r.crc32c ^= 1;
  ASSERT_TRUE(metadata_->Put(r).ok());
  const std::vector<io::PieceInfo> pieces = io::PiecesOf(r);
  ASSERT_TRUE(drives_->Delete(pieces[1].drive, pieces[1].id).ok());
  FaultyStore store(*drives_);
  MediaScanResult result = ScanFile(store, *metadata_, r);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_NE(result.problems[0].find("CRC32C"), std::string::npos) << result.problems[0];
  EXPECT_EQ(result.pieces_repaired, 0u);
  EXPECT_EQ(store.appends, 0);
}

// A stripe that down drives leave short of k good units cannot be checked
// now; that is not damage, and nothing is written.
TEST_F(MediaScanTest, AStripeShortOfGoodUnitsOnlyForDownDrivesIsUnchecked) {
  meta::FileRecord r = Put("away", 512 * 1024, 13);
  const std::vector<io::PieceInfo> pieces = io::PiecesOf(r);
  const std::vector<std::vector<uint8_t>> before = PieceBytes(r);
  CorruptOnDisk(pieces[0], before[0]);
  FaultyStore store(*drives_);
  store.down_lnums = {pieces[2].drive.lnum, pieces[4].drive.lnum};
  MediaScanResult result = ScanFile(store, *metadata_, r);
  EXPECT_TRUE(result.problems.empty()) << result.problems.front();
  EXPECT_TRUE(result.unchecked);
  EXPECT_EQ(result.pieces_unavailable, 2u);
  EXPECT_EQ(store.appends, 0);
}

// A clone taken while the scan runs hands the pieces to a clone store:
// the repair is still theirs to have, and is kept.
TEST_F(MediaScanTest, ARepairOfPiecesACloneTookOverIsKept) {
  meta::FileRecord r = Put("shared", 5000, 14);
  const std::vector<io::PieceInfo> pieces = io::PiecesOf(r);
  const std::vector<std::vector<uint8_t>> before = PieceBytes(r);
  ASSERT_TRUE(drives_->Delete(pieces[1].drive, pieces[1].id).ok());
  FaultyStore store(*drives_);
  store.before_first_read = [&] {
    auto cloned = io::CloneFile(
        *drives_, *metadata_, "ns", "shared", "ns", "copy",
        [this]() -> Result<uint64_t> { return next_id_++; }, 1);
    ASSERT_TRUE(cloned.ok()) << cloned.status().ToString();
  };
  MediaScanResult result = ScanFile(store, *metadata_, r);
  EXPECT_FALSE(result.moved);
  EXPECT_EQ(result.pieces_repaired, 1u);
  EXPECT_EQ(PieceBytes(r), before);
}

// A read that fails for another reason than damage or a down device is
// reported, not taken for either.
TEST_F(MediaScanTest, AReadThatFailsOtherwiseIsAProblem) {
  meta::FileRecord r = Put("odd", 512 * 1024, 16);
  FaultyStore store(*drives_);
  store.broken_lnums = {io::PiecesOf(r)[3].drive.lnum};
  MediaScanResult result = ScanFile(store, *metadata_, r);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_NE(result.problems[0].find("no thread to read on"), std::string::npos)
      << result.problems[0];
  EXPECT_EQ(result.pieces_unavailable, 0u);
  EXPECT_FALSE(result.unchecked);
  EXPECT_EQ(store.appends, 0);
}

TEST_F(MediaScanTest, PacingCanStopAScanBetweenStripes) {
  meta::FileRecord r = Put("long", 3 * 512 * 1024, 15);
  int calls = 0;
  MediaScanResult result = ScanFile(*drives_, *metadata_, r, [&] {
    return ++calls == 2 ? Status::Unavailable("paused") : Status::Ok();
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(result.stopped.code(), StatusCode::kUnavailable);
  EXPECT_EQ(result.pieces_scanned, 12u);  // two stripes of six
}

TEST_F(MediaScanTest, TheJobRepairsWhatItCanAndFailsOnWhatItCannot) {
  Put("a", 2000, 20);
  meta::FileRecord damaged = Put("b", 400 * 1024, 21);
  Put("c", 100, 22);
  const std::vector<io::PieceInfo> pieces = io::PiecesOf(damaged);
  const std::vector<std::vector<uint8_t>> before = PieceBytes(damaged);
  CorruptOnDisk(pieces[5], before[5]);  // a parity unit: no read would look at it

  MediaScanJob job(*drives_, *metadata_, [] { return std::string("high"); });
  CountingContext context;
  Status run = job.Run(context);
  ASSERT_TRUE(run.ok()) << run.ToString();
  EXPECT_EQ(context.counters["files_scanned"], 3u);
  EXPECT_EQ(context.counters["pieces_scanned"], 3u + 6u + 3u);
  EXPECT_EQ(context.counters["pieces_repaired"], 1u);
  EXPECT_EQ(context.counters.at("files_damaged"), 0u);  // set afresh by each run
  ASSERT_EQ(context.details.size(), 1u);
  EXPECT_NE(context.details[0].find("ns/b: piece"), std::string::npos) << context.details[0];
  EXPECT_EQ(PieceBytes(damaged), before);

  // Beyond repair: the job fails and says which file.
  for (int unit : {0, 1, 2}) CorruptOnDisk(pieces[unit], before[unit]);
  CountingContext second;
  Status failed = job.Run(second);
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable) << failed.ToString();
  EXPECT_EQ(second.counters["files_damaged"], 1u);
  EXPECT_EQ(second.counters["files_scanned"], 3u);
  ASSERT_FALSE(second.details.empty());
  EXPECT_NE(second.details.back().find("ns/b: stripe 0 cannot be rebuilt"), std::string::npos)
      << second.details.back();

  MediaScanJob bad_impact(*drives_, *metadata_, [] { return std::string("extreme"); });
  CountingContext third;
  EXPECT_EQ(bad_impact.Run(third).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::jobs
