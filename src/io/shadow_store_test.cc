// Container naming and reading packed files through their chunk, over real
// drives and a real metadata database in a temp directory.
#include "io/shadow_store.h"

#include <gtest/gtest.h>

#include "io/file_writer.h"
#include "io/io_test_util.h"
#include "io/local_piece_store.h"
#include "io/piece_map.h"
#include "meta/rocksdb_metadata_store.h"
#include "tests/support/temp_dir.h"

namespace tessera::io {
namespace {

TEST(ShadowStoreNamesTest, SinIsFourGroupsOfHex) {
  EXPECT_EQ(FormatSin(0x000100000000002aull), "0001:0000:0000:002a");
  EXPECT_EQ(FormatSin(0), "0000:0000:0000:0000");
  EXPECT_EQ(FormatSin(~0ull), "ffff:ffff:ffff:ffff");
}

TEST(ShadowStoreNamesTest, ChunkPathsRoundTrip) {
  for (uint64_t sin : {0ull, 1ull, 0x000100000000002aull, ~0ull}) {
    for (uint32_t chunk : {0u, 1u, 9u, kMaxContainerChunks - 1}) {
      std::string path = ChunkPath({sin, chunk});
      EXPECT_EQ(path.rfind(ContainerPrefix(sin), 0), 0u) << path;
      Result<ChunkName> back = ParseChunkPath(path);
      ASSERT_TRUE(back.ok()) << path << ": " << back.status().ToString();
      EXPECT_EQ(*back, (ChunkName{sin, chunk}));
    }
  }
  EXPECT_EQ(ChunkPath({0x2a, 3}), "000000000000002a/0003");
}

TEST(ShadowStoreNamesTest, RejectsOtherPaths) {
  for (std::string_view bad :
       {"", "000000000000002a", "000000000000002a/", "000000000000002a/003",
        "000000000000002a/00033", "000000000000002A/0003", "00000000000g002a/0003",
        "000000000000002a_0003", "000000000000002a/0032", "000000000000002a/-001"}) {
    EXPECT_EQ(ParseChunkPath(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ShadowStoreNamesTest, OffsetsMapToChunks) {
  EXPECT_EQ(ChunkOf(0), 0u);
  EXPECT_EQ(ChunkOf(kContainerChunkSize - 1), 0u);
  EXPECT_EQ(ChunkOf(kContainerChunkSize), 1u);
  EXPECT_EQ(ChunkBase(3), 3 * kContainerChunkSize);
}

class ReadPackedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pieces_ = test_util::OpenTestDrives(dir_.path(), 4);
    ASSERT_NE(pieces_, nullptr);
    auto metadata = meta::RocksDbMetadataStore::Open(dir_.Sub("meta"));
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
  }

  // Stores `content` as chunk `name` and returns its record.
  meta::FileRecord PutChunk(const ChunkName& name, const std::vector<uint8_t>& content) {
    auto policy = layout::ProtectionPolicy::Parse("+1");
    FileWriter writer(*pieces_, *policy, 1000 + name.chunk);
    EXPECT_TRUE(writer.Write(content).ok());
    auto written = writer.Finish();
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    meta::FileRecord chunk = test_util::RecordFor(*written, "+1", 1000 + name.chunk);
    chunk.ns = std::string(kShadowStoreNamespace);
    chunk.path = ChunkPath(name);
    EXPECT_TRUE(metadata_->Put(chunk).ok());
    return chunk;
  }

  Result<std::vector<uint8_t>> Read(const meta::FileRecord& record, uint64_t offset,
                                    uint64_t length) {
    std::vector<uint8_t> out;
    Status s = ReadPackedFile(*pieces_, *metadata_, record, offset, length,
                              [&](std::span<const uint8_t> b) {
                                out.insert(out.end(), b.begin(), b.end());
                                return Status::Ok();
                              });
    if (!s.ok()) return s;
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<LocalPieceStore> pieces_;
  std::unique_ptr<meta::RocksDbMetadataStore> metadata_;
};

TEST_F(ReadPackedFileTest, ReadsTheExtentFromItsChunk) {
  std::vector<uint8_t> chunk_bytes = test_util::RandomBytes(600 * 1024, 7);
  PutChunk({0x2a, 2}, chunk_bytes);
  meta::FileRecord file;
  file.ns = "archive";
  file.path = "a/b.dcm";
  file.size = 300 * 1024;
  file.packed = meta::ContainerExtent{0x2a, ChunkBase(2) + 200 * 1024};
  EXPECT_EQ(PhysicalBytes(file), 0u) << "a packed file has no pieces of its own";

  Result<std::vector<uint8_t>> whole = Read(file, 0, file.size);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, std::vector<uint8_t>(chunk_bytes.begin() + 200 * 1024,
                                         chunk_bytes.begin() + 500 * 1024));
  Result<std::vector<uint8_t>> part = Read(file, 1000, 5000);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(*part, std::vector<uint8_t>(chunk_bytes.begin() + 200 * 1024 + 1000,
                                        chunk_bytes.begin() + 200 * 1024 + 6000));
  EXPECT_EQ(Read(file, 1, file.size).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ReadPackedFileTest, MissingChunkOrShortChunkIsAClearError) {
  meta::FileRecord file;
  file.ns = "archive";
  file.path = "x";
  file.size = 10;
  file.packed = meta::ContainerExtent{0x77, 0};
  Status gone = Read(file, 0, 10).status();
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
  EXPECT_NE(gone.message().find("0000:0000:0000:0077 chunk 0"), std::string::npos)
      << gone.ToString();

  PutChunk({0x77, 0}, test_util::RandomBytes(4096, 1));
  file.packed->offset = 4090;
  EXPECT_EQ(Read(file, 0, 10).status().code(), StatusCode::kCorruption);
}

TEST_F(ReadPackedFileTest, AFileMovedSinceItsRecordWasFetchedIsReadAtItsNewPlace) {
  std::vector<uint8_t> content = test_util::RandomBytes(50000, 3);
  auto policy = layout::ProtectionPolicy::Parse("+1");
  FileWriter writer(*pieces_, *policy, 500);
  ASSERT_TRUE(writer.Write(content).ok());
  auto written = writer.Finish();
  ASSERT_TRUE(written.ok());
  meta::FileRecord native = test_util::RecordFor(*written, "+1", 500);
  native.ns = "archive";
  native.path = "moved";
  ASSERT_TRUE(metadata_->Put(native).ok());

  meta::FileRecord stale = native;  // as it was while packed in a chunk since freed
  stale.object_id = 400;
  stale.geometry = {};
  stale.drives.clear();
  stale.packed = meta::ContainerExtent{0x99, 0};
  std::vector<uint8_t> out;
  auto collect = [&](std::span<const uint8_t> b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::Ok();
  };
  ASSERT_TRUE(ReadFileContent(*pieces_, *metadata_, stale, 0, stale.size, collect).ok());
  EXPECT_EQ(out, content);

  stale.sha256 = std::string(64, '0');  // the file was rewritten: other content
  out.clear();
  EXPECT_EQ(ReadFileContent(*pieces_, *metadata_, stale, 0, stale.size, collect).code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace tessera::io
