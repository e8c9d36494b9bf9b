// ContainerPacker over real drives and a real metadata database.
#include "jobs/container_packer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "io/io_test_util.h"
#include "io/piece_map.h"
#include "jobs/container_inventory.h"
#include "meta/rocksdb_metadata_store.h"
#include "tests/support/temp_dir.h"

namespace tessera::jobs {
namespace {

class ContainerPackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pieces_ = io::test_util::OpenTestDrives(dir_.path(), 6);
    ASSERT_NE(pieces_, nullptr);
    auto metadata = meta::RocksDbMetadataStore::Open(dir_.Sub("meta"));
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
  }

  // Stores a native file ns/path under +2 and returns its record.
  meta::FileRecord PutNative(const std::string& path, size_t size, uint64_t seed) {
    std::vector<uint8_t> content = io::test_util::RandomBytes(size, seed);
    uint64_t id = next_id_++;
    io::FileWriter writer(*pieces_, Policy("+2"), id);
    EXPECT_TRUE(writer.Write(content).ok());
    auto written = writer.Finish();
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    meta::FileRecord r = io::test_util::RecordFor(*written, "+2", id);
    r.ns = "archive";
    r.path = path;
    EXPECT_TRUE(metadata_->Put(r).ok());
    contents_[path] = content;
    return r;
  }

  static layout::ProtectionPolicy Policy(const std::string& text) {
    return *layout::ProtectionPolicy::Parse(text);
  }

  ContainerPacker MakePacker(uint64_t max_size = 1ull << 30,
                             std::optional<OpenContainer> append_to = std::nullopt) {
    return ContainerPacker(
        *pieces_, *metadata_, {Policy("+2"), max_size, append_to},
        [this]() -> Result<uint64_t> { return next_id_++; },
        [this](const meta::FileRecord& f, MoveOutcome o, const Status&) { outcomes_[f.path] = o; });
  }

  std::vector<uint8_t> ReadBack(const std::string& path) {
    auto record = metadata_->Get("archive", path);
    EXPECT_TRUE(record.ok()) << path;
    std::vector<uint8_t> out;
    Status s = io::ReadFileContent(*pieces_, *metadata_, *record, 0, record->size,
                                   [&](std::span<const uint8_t> b) {
                                     out.insert(out.end(), b.begin(), b.end());
                                     return Status::Ok();
                                   });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<io::LocalPieceStore> pieces_;
  std::unique_ptr<meta::RocksDbMetadataStore> metadata_;
  std::atomic<uint64_t> next_id_{100};
  std::map<std::string, std::vector<uint8_t>> contents_;
  std::map<std::string, MoveOutcome> outcomes_;
};

TEST_F(ContainerPackerTest, PacksFilesIntoOneChunkAndFreesTheirPieces) {
  std::vector<meta::FileRecord> natives;
  for (int i = 0; i < 20; ++i) {
    natives.push_back(PutNative("d/f" + std::to_string(i), 1000 + i * 37000, i));
  }
  {
    ContainerPacker packer = MakePacker();
    for (meta::FileRecord f : natives) {
      f.packing_policy = f.packing_target = meta::PackingPlace::kContainer;
      ASSERT_TRUE(packer.Add(f).ok());
    }
    ASSERT_TRUE(packer.Flush().ok());
    EXPECT_EQ(packer.chunks_written(), 1u);
  }
  for (const meta::FileRecord& f : natives) {
    EXPECT_EQ(outcomes_[f.path], MoveOutcome::kMoved) << f.path;
    auto now = metadata_->Get("archive", f.path);
    ASSERT_TRUE(now.ok());
    EXPECT_TRUE(now->is_packed());
    EXPECT_TRUE(now->packing_complete());
    EXPECT_NE(now->object_id, f.object_id);
    EXPECT_EQ(ReadBack(f.path), contents_[f.path]) << f.path;
    for (const io::PieceInfo& p : io::PiecesOf(f)) {
      EXPECT_FALSE(pieces_->Read(p.drive, p.id).ok()) << "native piece of " << f.path << " kept";
    }
  }
  Result<ContainerInventory> inv = ContainerInventory::Take(*metadata_);
  ASSERT_TRUE(inv.ok());
  ASSERT_EQ(inv->containers().size(), 1u);
  const ContainerUsage& c = inv->containers().begin()->second;
  EXPECT_EQ(c.refs, 20u);
  EXPECT_EQ(c.lsize, c.filesize);
  EXPECT_EQ(c.chunks.at(0).record.geometry.kind, layout::Geometry::Kind::kStripe);
  EXPECT_GT(c.efficiency(), 0.99 * c.chunks.at(0).max_efficiency());
}

TEST_F(ContainerPackerTest, AFileRewrittenWhilePackingIsLeftAlone) {
  meta::FileRecord a = PutNative("a", 50000, 1);
  meta::FileRecord b = PutNative("b", 60000, 2);
  ContainerPacker packer = MakePacker();
  ASSERT_TRUE(packer.Add(a).ok());
  ASSERT_TRUE(packer.Add(b).ok());
  meta::FileRecord b2 = PutNative("b", 7000, 3);  // a client rewrites b meanwhile
  ASSERT_TRUE(packer.Flush().ok());
  EXPECT_EQ(outcomes_["a"], MoveOutcome::kMoved);
  EXPECT_EQ(outcomes_["b"], MoveOutcome::kRaced);
  auto now = metadata_->Get("archive", "b");
  ASSERT_TRUE(now.ok());
  EXPECT_FALSE(now->is_packed());
  EXPECT_EQ(now->object_id, b2.object_id);
  EXPECT_EQ(ReadBack("b"), contents_["b"]);
  EXPECT_EQ(ReadBack("a"), contents_["a"]);
}

TEST_F(ContainerPackerTest, AFileThatFailsItsChecksumIsNotPacked) {
  meta::FileRecord a = PutNative("a", 50000, 1);
  a.crc32c ^= 1;  // what the packer is told no longer matches the bytes
  ContainerPacker packer = MakePacker();
  ASSERT_TRUE(packer.Add(a).ok());
  ASSERT_TRUE(packer.Flush().ok());
  EXPECT_EQ(outcomes_["a"], MoveOutcome::kUnreadable);
  EXPECT_EQ(packer.chunks_written(), 0u);
  EXPECT_FALSE(metadata_->Get("archive", "a")->is_packed());
}

TEST_F(ContainerPackerTest, FillsContainersUpToTheirMaximumThenOpensAnother) {
  for (int i = 0; i < 10; ++i) PutNative("f" + std::to_string(i), 300 * 1024, i);
  {
    ContainerPacker packer = MakePacker(/*max_size=*/1024 * 1024);  // 3 files fit
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(packer.Add(*metadata_->Get("archive", "f" + std::to_string(i))).ok());
    }
    ASSERT_TRUE(packer.Flush().ok());
  }
  Result<ContainerInventory> inv = ContainerInventory::Take(*metadata_);
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->containers().size(), 4u);
  for (const auto& [sin, c] : inv->containers()) EXPECT_LE(c.filesize, 1024u * 1024);
  for (int i = 0; i < 10; ++i) {
    std::string path = "f" + std::to_string(i);
    EXPECT_EQ(ReadBack(path), contents_[path]);
  }
}

TEST_F(ContainerPackerTest, RepackingMovesPackedFilesAndLeavesHoles) {
  for (int i = 0; i < 4; ++i) PutNative("f" + std::to_string(i), 200 * 1024, i);
  {
    ContainerPacker packer = MakePacker();
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(packer.Add(*metadata_->Get("archive", "f" + std::to_string(i))).ok());
    }
    ASSERT_TRUE(packer.Flush().ok());
  }
  {
    ContainerPacker packer = MakePacker();
    ASSERT_TRUE(packer.Add(*metadata_->Get("archive", "f1")).ok());
    ASSERT_TRUE(packer.Flush().ok());
  }
  Result<ContainerInventory> inv = ContainerInventory::Take(*metadata_);
  ASSERT_TRUE(inv.ok());
  ASSERT_EQ(inv->containers().size(), 2u);
  uint64_t refs = 0;
  for (const auto& [sin, c] : inv->containers()) refs += c.refs;
  EXPECT_EQ(refs, 4u);
  for (int i = 0; i < 4; ++i) {
    std::string path = "f" + std::to_string(i);
    EXPECT_EQ(ReadBack(path), contents_[path]);
  }
}

TEST_F(ContainerPackerTest, AppendsChunksToAnOpenContainer) {
  PutNative("a", 100000, 1);
  PutNative("b", 100000, 2);
  {
    ContainerPacker packer = MakePacker(1ull << 30, OpenContainer{0x77, 3, 5000});
    ASSERT_TRUE(packer.Add(*metadata_->Get("archive", "a")).ok());
    ASSERT_TRUE(packer.Add(*metadata_->Get("archive", "b")).ok());
    ASSERT_TRUE(packer.Flush().ok());
  }
  auto a = metadata_->Get("archive", "a");
  ASSERT_TRUE(a->is_packed());
  EXPECT_EQ(a->packed->sin, 0x77u);
  EXPECT_EQ(a->packed->offset, io::ChunkBase(3));
  EXPECT_EQ(metadata_->Get("archive", "b")->packed->offset, io::ChunkBase(3) + 100000);
  EXPECT_TRUE(
      metadata_->Get(std::string(io::kShadowStoreNamespace), io::ChunkPath({0x77, 3})).ok());
  EXPECT_EQ(ReadBack("b"), contents_["b"]);
}

}  // namespace
}  // namespace tessera::jobs
