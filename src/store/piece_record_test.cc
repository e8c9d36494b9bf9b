#include "store/piece_record.h"

#include <gtest/gtest.h>

#include "common/coding.h"
#include "common/crc32c.h"
#include "store/test_util.h"

namespace tessera::store {
namespace {

using testutil::PieceBytes;

TEST(PieceRecordTest, SizesFollowTheBlockCount) {
  EXPECT_EQ(RecordSize(0), 32u);
  EXPECT_EQ(RecordSize(1), 32u + 4 + 1);
  EXPECT_EQ(RecordSize(8192), 32u + 4 + 8192);
  EXPECT_EQ(RecordSize(8193), 32u + 8 + 8193);
  EXPECT_EQ(RecordPrefixSize(131072), 32u + 4 * 16);
}

TEST(PieceRecordTest, EncodesTheDocumentedLayout) {
  const PieceId id{0x0102030405060708ull, 9};
  const std::vector<uint8_t> payload = PieceBytes(id, 8193);
  const std::vector<uint8_t> prefix = EncodeRecordPrefix(id, payload);
  ASSERT_EQ(prefix.size(), 40u);
  EXPECT_EQ(std::string(prefix.begin(), prefix.begin() + 4), "TSP1");
  EXPECT_EQ(GetLE64(&prefix[8]), id.object);
  EXPECT_EQ(prefix[8], 0x08);  // little-endian
  EXPECT_EQ(GetLE32(&prefix[16]), 9u);
  EXPECT_EQ(GetLE32(&prefix[20]), 0u);
  EXPECT_EQ(GetLE64(&prefix[24]), 8193u);
  EXPECT_EQ(GetLE32(&prefix[32]), Crc32c(payload.data(), 8192));
  EXPECT_EQ(GetLE32(&prefix[36]), Crc32c(payload.data() + 8192, 1));
  // header_crc: CRC32C of the header with the field zeroed, then the CRC array.
  std::vector<uint8_t> zeroed = prefix;
  PutLE32(&zeroed[4], 0);
  EXPECT_EQ(GetLE32(&prefix[4]), Crc32c(zeroed));

  RecordHeader header;
  ASSERT_TRUE(DecodeRecordHeader(prefix, &header).ok());
  EXPECT_EQ(header.id, id);
  EXPECT_EQ(header.length, 8193u);
  EXPECT_TRUE(VerifyRecordPrefix(prefix).ok());
  EXPECT_TRUE(VerifyRecordPayload(prefix, payload).ok());
}

TEST(PieceRecordTest, EmptyPieceHasNoBlocks) {
  const std::vector<uint8_t> prefix = EncodeRecordPrefix(PieceId{1, 0}, {});
  ASSERT_EQ(prefix.size(), kRecordHeaderSize);
  EXPECT_TRUE(VerifyRecordPrefix(prefix).ok());
  EXPECT_TRUE(VerifyRecordPayload(prefix, {}).ok());
}

TEST(PieceRecordTest, HeaderCrcCoversEveryHeaderByteAndTheCrcArray) {
  const PieceId id{42, 1};
  const std::vector<uint8_t> payload = PieceBytes(id, 20000);
  const std::vector<uint8_t> prefix = EncodeRecordPrefix(id, payload);
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (i >= 4 && i < 8) continue;  // the CRC itself
    std::vector<uint8_t> bad = prefix;
    bad[i] ^= 0x01;
    EXPECT_FALSE(VerifyRecordPrefix(bad).ok()) << "byte " << i;
  }
}

TEST(PieceRecordTest, PayloadDamageNamesTheBlock) {
  const PieceId id{42, 2};
  std::vector<uint8_t> payload = PieceBytes(id, 3 * 8192 + 100);
  const std::vector<uint8_t> prefix = EncodeRecordPrefix(id, payload);
  payload[2 * 8192 + 5] ^= 0x80;
  Status st = VerifyRecordPayload(prefix, payload);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("block 2 of 4"), std::string::npos) << st.message();
}

TEST(PieceRecordTest, DecodeRejectsMagicFlagsAndLength) {
  std::vector<uint8_t> prefix = EncodeRecordPrefix(PieceId{1, 1}, PieceBytes({1, 1}, 10));
  RecordHeader header;
  std::vector<uint8_t> bad = prefix;
  bad[0] = 'X';
  EXPECT_EQ(DecodeRecordHeader(bad, &header).code(), StatusCode::kCorruption);
  bad = prefix;
  PutLE32(&bad[20], 1);
  EXPECT_EQ(DecodeRecordHeader(bad, &header).code(), StatusCode::kCorruption);
  bad = prefix;
  PutLE64(&bad[24], kMaxPieceLength + 1);
  EXPECT_EQ(DecodeRecordHeader(bad, &header).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeRecordHeader({prefix.data(), 31}, &header).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera::store
