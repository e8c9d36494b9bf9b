// FileWriter and FileReader over real drives in a temp directory.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "common/units.h"
#include "io/file_reader.h"
#include "io/file_writer.h"
#include "io/io_test_util.h"
#include "io/local_piece_store.h"
#include "io/piece_map.h"
#include "tests/support/json_variants.h"
#include "tests/support/temp_dir.h"

namespace tessera::io {
namespace {

constexpr uint32_t kNode = 1;

using test_util::RandomBytes;
using test_util::ReadAll;

class FileIoTest : public ::testing::Test {
 protected:
  // Opens drives 0..count-1 except those in `skip`, which are registered missing.
  std::unique_ptr<LocalPieceStore> OpenStore(int count, std::set<uint32_t> skip = {}) {
    auto store = std::make_unique<LocalPieceStore>(kNode);
    for (uint32_t lnum = 0; lnum < static_cast<uint32_t>(count); ++lnum) {
      std::string path = dir_.Sub("d" + std::to_string(lnum));
      if (skip.count(lnum)) {
        store->AddMissingDrive(lnum, path, "removed by the test");
        continue;
      }
      store::DriveIdentity id;
      id.cluster_guid = "test-cluster";
      id.array_id = kNode;
      id.lnum = lnum;
      auto drive = store::Drive::Open(path, "test-cluster", kNode, id);
      EXPECT_TRUE(drive.ok()) << drive.status().ToString();
      store->AddDrive(std::move(drive).value());
    }
    return store;
  }

  meta::FileRecord Write(PieceStore& store, const std::string& policy_text,
                         const std::vector<uint8_t>& content, uint64_t object_id,
                         size_t chunk = 65536) {
    auto policy = layout::ProtectionPolicy::Parse(policy_text);
    EXPECT_TRUE(policy.ok());
    FileWriter writer(store, *policy, object_id);
    for (size_t off = 0; off < content.size(); off += chunk) {
      size_t n = std::min(chunk, content.size() - off);
      EXPECT_TRUE(writer.Write({content.data() + off, n}).ok());
    }
    auto written = writer.Finish();
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return test_util::RecordFor(*written, policy_text, object_id);
  }

  testing::TempDir dir_;
};

TEST_F(FileIoTest, RoundTripsEverySizeClass) {
  auto store = OpenStore(4);
  const uint64_t sizes[] = {0,
                            1,
                            8191,
                            8192,
                            8193,
                            kStripeUnitSize - 1,
                            kStripeUnitSize,
                            kStripeUnitSize + 1,
                            2 * kStripeUnitSize,
                            5 * kMiB + 3};
  uint64_t object = 1;
  for (uint64_t size : sizes) {
    auto content = RandomBytes(size, size);
    auto record = Write(*store, "+2", content, object++);
    if (size < kStripeUnitSize) {
      EXPECT_EQ(record.geometry.kind, layout::Geometry::Kind::kMirror) << size;
      EXPECT_EQ(record.geometry.copies, 3);
    } else {
      EXPECT_EQ(record.geometry.kind, layout::Geometry::Kind::kStripe) << size;
      EXPECT_EQ(record.geometry.data_units, 2);
      EXPECT_EQ(record.geometry.parity_units, 2);
    }
    auto back = ReadAll(*store, record);
    ASSERT_TRUE(back.ok()) << size << ": " << back.status().ToString();
    EXPECT_EQ(*back, content) << size;
  }
}

TEST_F(FileIoTest, SyncEachGivesEveryDriveItsOwnOutcome) {
  auto store = OpenStore(3, {1});
  std::vector<uint8_t> bytes(100, 7);
  ASSERT_TRUE(store->Append({kNode, 0}, {9, 0}, bytes).ok());
  ASSERT_TRUE(store->Append({kNode, 2}, {9, 2}, bytes).ok());
  std::vector<Status> synced = store->SyncEach({{kNode, 2}, {kNode, 1}, {kNode, 0}});
  ASSERT_EQ(synced.size(), 3u);
  EXPECT_TRUE(synced[0].ok()) << synced[0].ToString();
  EXPECT_EQ(synced[1].code(), StatusCode::kUnavailable);
  EXPECT_NE(synced[1].message().find("removed by the test"), std::string::npos);
  EXPECT_TRUE(synced[2].ok()) << synced[2].ToString();
  // Sync is the first failure of the same.
  EXPECT_EQ(store->Sync({{kNode, 0}, {kNode, 1}}).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(store->Sync({{kNode, 0}, {kNode, 2}}).ok());
}

TEST_F(FileIoTest, ChecksumsCoverTheContent) {
  auto store = OpenStore(4);
  std::vector<uint8_t> content = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  auto record = Write(*store, "+1", content, 9);
  EXPECT_EQ(record.crc32c, 0xE3069283u);
  EXPECT_EQ(record.sha256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
}

TEST_F(FileIoTest, RangeReadsMatchTheContent) {
  auto store = OpenStore(4);
  auto content = RandomBytes(3 * kMiB + 77, 5);
  auto record = Write(*store, "+2", content, 11, 1000);
  FileReader reader(*store, record);
  for (auto [offset, length] : std::vector<std::pair<uint64_t, uint64_t>>{
           {0, 1}, {131071, 2}, {262143, 300000}, {content.size() - 1, 1}, {1000, 0}}) {
    std::vector<uint8_t> out;
    ASSERT_TRUE(reader
                    .Read(offset, length,
                          [&](std::span<const uint8_t> b) {
                            out.insert(out.end(), b.begin(), b.end());
                            return Status::Ok();
                          })
                    .ok());
    EXPECT_EQ(out,
              std::vector<uint8_t>(content.begin() + offset, content.begin() + offset + length));
  }
  EXPECT_EQ(reader.Read(content.size(), 1, [](auto) { return Status::Ok(); }).code(),
            StatusCode::kInvalidArgument);
}

// Counts the pieces read through it; forwards everything to the drives.
class CountingStore final : public PieceStore {
 public:
  explicit CountingStore(PieceStore& base) : base_(base) {}
  layout::Topology WritableTopology() override { return base_.WritableTopology(); }
  Status Append(const meta::DriveRef& d, const store::PieceId& id,
                std::span<const uint8_t> bytes) override {
    return base_.Append(d, id, bytes);
  }
  Status Sync(const std::vector<meta::DriveRef>& drives) override { return base_.Sync(drives); }
  Result<std::vector<uint8_t>> Read(const meta::DriveRef& d, const store::PieceId& id) override {
    ++reads;
    return base_.Read(d, id);
  }
  Status Delete(const meta::DriveRef& d, const store::PieceId& id) override {
    return base_.Delete(d, id);
  }
  int reads = 0;

 private:
  PieceStore& base_;
};

TEST_F(FileIoTest, ASmallRangeReadsOnlyTheUnitsItCoversUnlessOneIsLost) {
  auto drives = OpenStore(6);
  CountingStore store(*drives);
  auto content = RandomBytes(5 * kMiB, 8);
  auto record = Write(store, "+2", content, 12);  // 4+2: stripes of 4 x 128 KiB
  ASSERT_EQ(record.geometry.data_units, 4);
  auto read = [&](uint64_t offset, uint64_t length) {
    std::vector<uint8_t> out;
    FileReader reader(store, record);
    EXPECT_TRUE(reader
                    .Read(offset, length,
                          [&](std::span<const uint8_t> b) {
                            out.insert(out.end(), b.begin(), b.end());
                            return Status::Ok();
                          })
                    .ok());
    EXPECT_EQ(out,
              std::vector<uint8_t>(content.begin() + offset, content.begin() + offset + length));
  };
  store.reads = 0;
  read(200000, 1000);  // inside data unit 1 of stripe 0
  EXPECT_EQ(store.reads, 1);
  store.reads = 0;
  read(131000, 2000);  // across units 0 and 1
  EXPECT_EQ(store.reads, 2);
  // Lose the unit the range needs: the stripe is rebuilt from the others.
  for (const PieceInfo& p : PiecesOfStripe(record, 0)) {
    if (p.unit == 1) {
      ASSERT_TRUE(drives->Delete(p.drive, p.id).ok());
    }
  }
  store.reads = 0;
  read(200000, 1000);
  EXPECT_GE(store.reads, 1 + 4);
}

TEST_F(FileIoTest, SurvivesLosingUpToParityDrives) {
  std::vector<std::vector<uint8_t>> contents;
  std::vector<meta::FileRecord> records;
  {
    auto store = OpenStore(4);
    uint64_t object = 100;
    for (uint64_t size : {uint64_t{100}, kStripeUnitSize + 5, 4 * kMiB + 1}) {
      contents.push_back(RandomBytes(size, object));
      records.push_back(Write(*store, "+2", contents.back(), object++));
    }
  }
  for (uint32_t a = 0; a < 4; ++a) {
    for (uint32_t b = a + 1; b < 4; ++b) {
      auto store = OpenStore(4, {a, b});
      for (size_t i = 0; i < records.size(); ++i) {
        uint64_t degraded = 0;
        auto back = ReadAll(*store, records[i], &degraded);
        ASSERT_TRUE(back.ok()) << "lost " << a << "," << b << ": " << back.status().ToString();
        EXPECT_EQ(*back, contents[i]);
      }
    }
  }
  auto store = OpenStore(4, {0, 1, 2});
  auto back = ReadAll(*store, records[2]);
  EXPECT_EQ(back.status().code(), StatusCode::kUnavailable) << back.status().ToString();
}

TEST_F(FileIoTest, RebuildsCorruptUnits) {
  auto store = OpenStore(4);
  auto content = RandomBytes(2 * kMiB, 3);
  auto record = Write(*store, "+2", content, 42);
  store.reset();
  // Flip one byte in the middle of every segment on drive 0: its units fail their CRCs.
  for (auto& entry : std::filesystem::recursive_directory_iterator(dir_.Sub("d0"))) {
    if (entry.path().extension() != ".seg") continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    auto size = static_cast<std::streamoff>(f.tellg());
    if (size < 1000) continue;
    for (std::streamoff pos = 500; pos < size; pos += 65536) {
      f.seekg(pos);
      char c;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x40);
      f.seekp(pos);
      f.write(&c, 1);
    }
  }
  store = OpenStore(4);
  uint64_t degraded = 0;
  auto back = ReadAll(*store, record, &degraded);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, content);
  EXPECT_GT(degraded, 0u) << "the corrupt units must have been rebuilt, not read";
}

TEST_F(FileIoTest, MirrorPolicyMirrorsLargeFiles) {
  auto store = OpenStore(4);
  auto content = RandomBytes(1 * kMiB + 9, 8);
  auto record = Write(*store, "3x", content, 50);
  EXPECT_EQ(record.geometry.kind, layout::Geometry::Kind::kMirror);
  EXPECT_EQ(record.geometry.copies, 3);
  EXPECT_EQ(PiecesOf(record).size(), 9u * 3u);
  auto back = ReadAll(*store, record);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, content);
}

TEST_F(FileIoTest, AbortAndDeleteFreePieces) {
  auto store = OpenStore(4);
  auto policy = layout::ProtectionPolicy::Parse("+2");
  ASSERT_TRUE(policy.ok());
  {
    FileWriter writer(*store, *policy, 60);
    auto content = RandomBytes(3 * kMiB, 1);
    ASSERT_TRUE(writer.Write(content).ok());
    writer.Abort();
  }
  auto content = RandomBytes(600 * kKiB, 2);
  auto record = Write(*store, "+2", content, 61);
  uint64_t pieces = 0;
  for (auto& d : store->Drives()) pieces += d.usage.piece_count;
  EXPECT_EQ(pieces, PiecesOf(record).size()) << "the aborted upload left pieces behind";
  DeleteFilePieces(*store, record);
  pieces = 0;
  for (auto& d : store->Drives()) pieces += d.usage.piece_count;
  EXPECT_EQ(pieces, 0u);
}

// A drive that fails while the node runs is shown down with why, new files
// go to the other drives, and compaction goes on on them.
TEST_F(FileIoTest, AFailedDriveIsShownDownAndTakesNoNewPieces) {
  auto store = OpenStore(4);
  // Files on every drive, then deleted: dead bytes for compaction.
  for (uint64_t object = 1; object <= 8; ++object) {
    DeleteFilePieces(*store, Write(*store, "+2", RandomBytes(20 * kKiB, object), object));
  }
  std::filesystem::remove_all(dir_.Sub("d1") + "/segments");
  // Until a write reaches it, the drive does not know.
  auto policy = layout::ProtectionPolicy::Parse("+3");
  ASSERT_TRUE(policy.ok());
  {
    FileWriter writer(*store, *policy, 20);  // 4 mirrors: one is on drive 1
    ASSERT_TRUE(writer.Write(RandomBytes(1000, 20)).ok());
    EXPECT_FALSE(writer.Finish().ok());
    writer.Abort();
  }
  bool shown = false;
  for (const DriveStatus& d : store->Drives()) {
    if (d.lnum != 1) continue;
    shown = true;
    EXPECT_FALSE(d.up);
    EXPECT_NE(d.reason.find("failed earlier and takes no writes"), std::string::npos) << d.reason;
  }
  EXPECT_TRUE(shown);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the topology is cached 1 s
  for (uint64_t object = 30; object < 50; ++object) {
    meta::FileRecord r = Write(*store, "+2", RandomBytes(3000, object), object);
    for (const meta::DriveRef& d : r.drives) EXPECT_NE(d.lnum, 1u) << object;
  }
  // One failed drive does not keep the others from compacting.
  const auto before = store->Drives();
  Result<store::CompactionStats> compacted = store->CompactAll(/*full=*/true);
  EXPECT_FALSE(compacted.ok());
  EXPECT_NE(compacted.status().message().find("failed earlier"), std::string::npos);
  const auto after = store->Drives();
  for (size_t i = 0; i < after.size(); ++i) {
    if (after[i].lnum == 1) continue;
    EXPECT_LT(after[i].usage.segment_bytes, before[i].usage.segment_bytes) << after[i].lnum;
  }
}

// A file record is read from RocksDB and received from peers: whatever it
// says, reading the file it names fails with an error or returns bytes,
// and never takes the node down (a zero-width stripe once divided by zero).
TEST_F(FileIoTest, AnyRecordThatDecodesCanBeReadWithoutCrashing) {
  auto store = OpenStore(4);
  const std::vector<uint8_t> content = RandomBytes(300 * kKiB + 5, 21);
  uint64_t object_id = 500;
  for (const char* policy : {"+2", "+1", "3x"}) {
    const meta::FileRecord record = Write(*store, policy, content, ++object_id);
    size_t variants = 0, decoded = 0, read_back = 0;
    for (const nlohmann::json& doc : testing::OneValueChanged(meta::ToJson(record))) {
      ++variants;
      Result<meta::FileRecord> changed = meta::DecodeFileRecord(doc.dump());
      if (!changed.ok()) {
        EXPECT_EQ(changed.status().code(), StatusCode::kCorruption) << doc.dump();
        continue;
      }
      ++decoded;
      // Bounded: a record may claim any size.
      const uint64_t length = std::min<uint64_t>(changed->size, content.size() + kMiB);
      FileReader reader(*store, *changed);
      Status st = reader.Read(0, length, [](std::span<const uint8_t>) { return Status::Ok(); });
      if (st.ok()) ++read_back;
    }
    EXPECT_GT(variants, 300u) << policy;
    EXPECT_GT(decoded, 0u) << policy;  // harmless changes (e.g. a path) still decode
    EXPECT_GT(read_back, 0u) << policy;
  }
}

}  // namespace
}  // namespace tessera::io
