#include "store/segment_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/test_util.h"

namespace tessera::store {
namespace {

using tessera::testing::TempDir;
using testutil::PieceBytes;

// Appends whole records for `lengths` (piece ids {1, i}) and returns their offsets.
std::vector<uint64_t> WriteRecords(const SegmentFile& file, const std::vector<size_t>& lengths) {
  std::vector<uint64_t> offsets;
  uint64_t offset = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    PieceId id{1, static_cast<uint32_t>(i)};
    std::vector<uint8_t> payload = PieceBytes(id, lengths[i]);
    std::vector<uint8_t> prefix = EncodeRecordPrefix(id, payload);
    iovec iov[2] = {{prefix.data(), prefix.size()}, {payload.data(), payload.size()}};
    EXPECT_TRUE(file.WriteAt(offset, iov).ok());
    offsets.push_back(offset);
    offset += RecordSize(lengths[i]);
  }
  offsets.push_back(offset);
  return offsets;
}

TEST(SegmentFileTest, FileNames) {
  EXPECT_EQ(SegmentFile::FileName(42), "00000042.seg");
  EXPECT_EQ(SegmentFile::ParseFileName("00000042.seg"), 42u);
  EXPECT_EQ(SegmentFile::ParseFileName("0000042.seg"), std::nullopt);
  EXPECT_EQ(SegmentFile::ParseFileName("0000004x.seg"), std::nullopt);
  EXPECT_EQ(SegmentFile::ParseFileName("00000042.seg.tmp"), std::nullopt);
}

TEST(SegmentFileTest, CreateRefusesAnExistingFile) {
  TempDir dir;
  ASSERT_TRUE(SegmentFile::Create(dir.path(), 1).ok());
  EXPECT_FALSE(SegmentFile::Create(dir.path(), 1).ok());
  EXPECT_TRUE(SegmentFile::Open(dir.path(), 1).ok());
  EXPECT_EQ(SegmentFile::Open(dir.path(), 2).status().code(), StatusCode::kNotFound);
}

TEST(SegmentFileTest, ReadRecordVerifiesIdLengthAndBlocks) {
  TempDir dir;
  auto file = SegmentFile::Create(dir.path(), 1).value();
  auto offsets = WriteRecords(*file, {100, 0, 20000});
  std::vector<uint8_t> prefix, payload;
  ASSERT_TRUE(ReadRecord(*file, offsets[2], {1, 2}, 20000, &prefix, &payload).ok());
  EXPECT_EQ(payload, PieceBytes({1, 2}, 20000));
  ASSERT_TRUE(ReadRecord(*file, offsets[1], {1, 1}, 0, &prefix, &payload).ok());
  EXPECT_TRUE(payload.empty());

  Status st = ReadRecord(*file, offsets[0], {1, 9}, 100, &prefix, &payload);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("index expects piece"), std::string::npos) << st.message();
  // Past the end of the file: a short read, not bytes.
  st = ReadRecord(*file, offsets[3], {1, 3}, 10, &prefix, &payload);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);

  testutil::XorByteAt(file->path(), offsets[2] + RecordPrefixSize(20000) + 8192 * 2 + 1);
  st = ReadRecord(*file, offsets[2], {1, 2}, 20000, &prefix, &payload);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("block 2 of 3"), std::string::npos) << st.message();
}

TEST(SegmentFileTest, ScanStopsAtATornRecord) {
  TempDir dir;
  auto file = SegmentFile::Create(dir.path(), 1).value();
  auto offsets = WriteRecords(*file, {10, 9000, 50000});
  ASSERT_TRUE(file->Truncate(offsets[2] + 1000).ok());
  std::vector<uint64_t> seen;
  auto scan = ScanSegment(*file, 0, offsets[2] + 1000,
                          [&](const ScannedRecord& r) { seen.push_back(r.offset); });
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->valid_end, offsets[2]);
  EXPECT_NE(scan->stop_reason.find("torn"), std::string::npos) << scan->stop_reason;
  EXPECT_EQ(seen, (std::vector<uint64_t>{offsets[0], offsets[1]}));

  // A header cut short is torn too.
  ASSERT_TRUE(file->Truncate(offsets[2] + 20).ok());
  scan = ScanSegment(*file, offsets[1], offsets[2] + 20, [](const ScannedRecord&) {});
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->valid_end, offsets[2]);
}

TEST(SegmentFileTest, ScanKeepsFramingPastABadPayloadBlock) {
  TempDir dir;
  auto file = SegmentFile::Create(dir.path(), 1).value();
  auto offsets = WriteRecords(*file, {10, 9000, 50});
  testutil::XorByteAt(file->path(), offsets[1] + RecordPrefixSize(9000) + 8500);
  std::vector<std::pair<uint64_t, bool>> seen;
  auto scan = ScanSegment(*file, 0, offsets[3], [&](const ScannedRecord& r) {
    seen.emplace_back(r.offset, r.payload_ok);
    if (!r.payload_ok) {
      EXPECT_NE(r.payload_error.find("block 1 of 2"), std::string::npos);
    }
  });
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->valid_end, offsets[3]);
  EXPECT_TRUE(scan->stop_reason.empty());
  EXPECT_EQ(seen, (std::vector<std::pair<uint64_t, bool>>{
                      {offsets[0], true}, {offsets[1], false}, {offsets[2], true}}));
}

TEST(SegmentFileTest, ScanStopsAtADamagedHeader) {
  TempDir dir;
  auto file = SegmentFile::Create(dir.path(), 1).value();
  auto offsets = WriteRecords(*file, {10, 20, 30});
  testutil::XorByteAt(file->path(), offsets[1] + 26);  // inside the length field
  int seen = 0;
  auto scan = ScanSegment(*file, 0, offsets[3], [&](const ScannedRecord&) { ++seen; });
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->valid_end, offsets[1]);
  EXPECT_EQ(seen, 1);
}

TEST(SegmentFileTest, WritesAndReadsMoreIovecsThanOneSyscallTakes) {
  TempDir dir;
  auto file = SegmentFile::Create(dir.path(), 1).value();
  std::vector<uint8_t> data(3000 * 3);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  std::vector<iovec> iov;
  for (size_t i = 0; i < 3000; ++i) iov.push_back({data.data() + 3 * i, 3});
  ASSERT_TRUE(file->WriteAt(5, iov).ok());
  EXPECT_EQ(file->Size().value(), 5 + data.size());
  std::vector<uint8_t> back(data.size());
  std::vector<iovec> riov;
  for (size_t i = 0; i < 3000; ++i) riov.push_back({back.data() + 3 * i, 3});
  EXPECT_EQ(file->ReadAt(5, riov).value(), data.size());
  EXPECT_EQ(back, data);
}

}  // namespace
}  // namespace tessera::store
