#include "meta/file_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tessera::meta {
namespace {

FileRecord StripedRecord() {
  FileRecord r;
  r.ns = "archive";
  r.path = "d000/f1.bin";
  r.object_id = 77;
  r.size = 5 << 20;
  r.created_ns = 1;
  r.modified_ns = 2;
  r.crc32c = 0xdeadbeef;
  r.sha256 = std::string(64, 'a');
  r.protection = "+2";
  r.geometry.kind = layout::Geometry::Kind::kStripe;
  r.geometry.data_units = 2;
  r.geometry.parity_units = 2;
  r.geometry.unit_size = 131072;
  r.geometry.stripe_count = 20;
  r.geometry.meets_node_tolerance = false;
  r.drives = {{1, 0}, {1, 1}, {1, 2}, {1, 3}};
  return r;
}

TEST(FileRecordTest, StripedRoundTrip) {
  FileRecord r = StripedRecord();
  Result<FileRecord> back = DecodeFileRecord(EncodeFileRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(FileRecordTest, MirrorRoundTrip) {
  FileRecord r = StripedRecord();
  r.geometry = {};
  r.geometry.kind = layout::Geometry::Kind::kMirror;
  r.geometry.copies = 3;
  r.drives = {{1, 2}, {1, 0}, {1, 3}};
  Result<FileRecord> back = DecodeFileRecord(EncodeFileRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(FileRecordTest, PackedRoundTripHasNoPlacement) {
  FileRecord r = StripedRecord();
  r.geometry = {};
  r.drives.clear();
  r.packed = ContainerExtent{0x1234, 96 << 20};
  r.packing_policy = PackingPlace::kContainer;
  r.packing_target = PackingPlace::kContainer;
  nlohmann::json j = ToJson(r);
  EXPECT_FALSE(j.contains("drives"));
  EXPECT_FALSE(j.contains("geometry"));
  EXPECT_EQ(j["container"]["sin"], 0x1234);
  Result<FileRecord> back = DecodeFileRecord(EncodeFileRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  EXPECT_TRUE(back->is_packed());
  EXPECT_TRUE(back->packing_complete());
}

TEST(FileRecordTest, CloneReferencesRoundTrip) {
  FileRecord r = StripedRecord();
  r.geometry = {};
  r.drives.clear();
  r.packed = ContainerExtent{0x99, 0, true};
  EXPECT_TRUE(r.is_cloned());
  EXPECT_EQ(ToJson(r)["container"]["clone"], true);
  Result<FileRecord> back = DecodeFileRecord(EncodeFileRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  r.packed->clone = false;
  EXPECT_FALSE(ToJson(r)["container"].contains("clone"));
  EXPECT_FALSE(r.is_cloned());
}

TEST(FileRecordTest, PackingCompleteIsWhetherTheFileIsWhereItsTargetSays) {
  FileRecord r = StripedRecord();
  EXPECT_TRUE(r.packing_complete());  // native, target native
  r.packing_target = PackingPlace::kContainer;
  EXPECT_FALSE(r.packing_complete());  // should be packed, is not yet
  r.packed = ContainerExtent{1, 0};
  EXPECT_TRUE(r.packing_complete());
  r.packing_target = PackingPlace::kNative;
  EXPECT_FALSE(r.packing_complete());  // should be unpacked
}

TEST(FileRecordTest, RecordsWithoutPackingFieldsAreNative) {
  nlohmann::json j = ToJson(StripedRecord());
  j.erase("packing_policy");
  j.erase("packing_target");
  Result<FileRecord> back = FileRecordFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->packing_policy, PackingPlace::kNative);
  EXPECT_EQ(back->packing_target, PackingPlace::kNative);
  EXPECT_EQ(*back, StripedRecord());
  j["packing_target"] = "somewhere";
  EXPECT_EQ(FileRecordFromJson(j).status().code(), StatusCode::kCorruption);
}

TEST(FileRecordTest, RejectsInconsistentOrMalformed) {
  nlohmann::json j = ToJson(StripedRecord());
  j["drives"].erase(0);
  EXPECT_EQ(FileRecordFromJson(j).status().code(), StatusCode::kCorruption);
  j = ToJson(StripedRecord());
  j["geometry"]["kind"] = "raid5";
  EXPECT_EQ(FileRecordFromJson(j).status().code(), StatusCode::kCorruption);
  // As wide as its drives, but no data units: a reader would divide by zero.
  j = ToJson(StripedRecord());
  j["geometry"]["data_units"] = 0;
  j["geometry"]["parity_units"] = 4;
  EXPECT_EQ(FileRecordFromJson(j).status().ToString(),
            "Corruption: file record for 'd000/f1.bin' has a 0+4 stripe");
  j = ToJson(StripedRecord());
  j["geometry"]["unit_size"] = 0;
  EXPECT_EQ(FileRecordFromJson(j).status().code(), StatusCode::kCorruption);
  j = ToJson(StripedRecord());
  j["size"] = "big";
  EXPECT_EQ(FileRecordFromJson(j).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeFileRecord("{not json").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeFileRecord("").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tessera::meta
