#include "store/piece_index.h"

#include <gtest/gtest.h>

#include "store/test_util.h"

namespace tessera::store {
namespace {

using tessera::testing::TempDir;

TEST(PieceIndexTest, PutGetDeleteInOneBatch) {
  TempDir dir;
  auto index = PieceIndex::Open(dir.Sub("index")).value();
  PieceIndex::Batch batch;
  batch.Put({5, 1}, {3, 4096, 131072});
  batch.Put({5, 2}, {3, 8192, 1});
  batch.SetWatermark(3, 9000);
  ASSERT_TRUE(index->Write(&batch, false).ok());
  EXPECT_EQ(index->Get({5, 1}).value(), (PieceLocation{3, 4096, 131072}));
  EXPECT_EQ(index->Get({5, 3}).value(), std::nullopt);

  PieceIndex::Batch del;
  del.Delete({5, 1});
  ASSERT_TRUE(index->Write(&del, true).ok());
  EXPECT_EQ(index->Get({5, 1}).value(), std::nullopt);
  EXPECT_EQ(index->Get({5, 2}).value(), (PieceLocation{3, 8192, 1}));
}

TEST(PieceIndexTest, AnIndexInUseIsRefusedAsSuch) {
  TempDir dir;
  auto first = PieceIndex::Open(dir.Sub("index"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = PieceIndex::Open(dir.Sub("index"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("is in use by another process"), std::string::npos)
      << second.status().message();
  first->reset();
  EXPECT_TRUE(PieceIndex::Open(dir.Sub("index")).ok());
}

TEST(PieceIndexTest, IteratesInPieceIdOrder) {
  TempDir dir;
  auto index = PieceIndex::Open(dir.Sub("index")).value();
  // Little-endian keys would put 0x100 before 0xff; big-endian ones must not.
  std::vector<PieceId> ids = {{0x100, 0}, {0xff, 7}, {0xff, 0x100}, {0xff, 0xff}, {1ull << 63, 0}};
  PieceIndex::Batch batch;
  for (const PieceId& id : ids) batch.Put(id, {1, id.index, id.object});
  batch.SetWatermark(1, 5);  // marks must not show up as pieces
  ASSERT_TRUE(index->Write(&batch, false).ok());
  std::vector<PieceId> seen;
  ASSERT_TRUE(index
                  ->ForEachPiece([&](const PieceId& id, const PieceLocation& loc) {
                    seen.push_back(id);
                    EXPECT_EQ(loc.length, id.object);
                  })
                  .ok());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);
}

TEST(PieceIndexTest, MarksPersistAcrossReopen) {
  TempDir dir;
  {
    auto index = PieceIndex::Open(dir.Sub("index")).value();
    PieceIndex::Batch batch;
    batch.SetWatermark(1, 100);
    batch.SetWatermark(0x01000000, 7);
    batch.SetDurable(1, 50);
    batch.SetDurable(2, 60);
    ASSERT_TRUE(index->Write(&batch, false).ok());
    PieceIndex::Batch drop;
    drop.DeleteSegmentMarks(2);
    ASSERT_TRUE(index->Write(&drop, false).ok());
  }
  auto index = PieceIndex::Open(dir.Sub("index")).value();
  EXPECT_EQ(index->Watermarks().value(), (std::map<uint32_t, uint64_t>{{1, 100}, {0x01000000, 7}}));
  EXPECT_EQ(index->DurableMarks().value(), (std::map<uint32_t, uint64_t>{{1, 50}}));
}

TEST(PieceIndexTest, CopyRangesPersistAndStayApartFromMarksAndPieces) {
  TempDir dir;
  {
    auto index = PieceIndex::Open(dir.Sub("index")).value();
    PieceIndex::Batch batch;
    batch.SetCopyRange(3, 0x100, 0x900);
    batch.SetCopyRange(3, 0x10, 0x100);
    batch.SetCopyRange(0x01000000, 5, 6);
    batch.SetCopyRange(4, 1, 2);
    batch.SetWatermark(3, 0x900);
    batch.Put({9, 9}, {3, 0, 1});
    ASSERT_TRUE(index->Write(&batch, true).ok());
    PieceIndex::Batch drop;
    drop.DeleteCopyRange(4, 1);
    ASSERT_TRUE(index->Write(&drop, false).ok());
  }
  auto index = PieceIndex::Open(dir.Sub("index")).value();
  EXPECT_EQ(
      index->CopyRanges().value(),
      (PieceIndex::CopyRangeMap{{3, {{0x10, 0x100}, {0x100, 0x900}}}, {0x01000000, {{5, 6}}}}));
  EXPECT_EQ(index->Watermarks().value(), (std::map<uint32_t, uint64_t>{{3, 0x900}}));
  EXPECT_TRUE(index->DurableMarks().value().empty());
  size_t pieces = 0;
  ASSERT_TRUE(index->ForEachPiece([&](const PieceId&, const PieceLocation&) { ++pieces; }).ok());
  EXPECT_EQ(pieces, 1u);
}

}  // namespace
}  // namespace tessera::store
