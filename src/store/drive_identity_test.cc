#include "store/drive_identity.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "common/fs_util.h"
#include "store/test_util.h"

namespace tessera::store {
namespace {

using tessera::testing::TempDir;
using testutil::kCluster;
using testutil::kNode;

TEST(DriveIdentityTest, FormatsOnFirstOpenAndKeepsItsIdentity) {
  TempDir dir;
  const std::string path = dir.Sub("drives/d3");  // missing, parents too
  DriveIdentity first;
  {
    auto drive = Drive::Open(path, kCluster, kNode, testutil::NewIdentity(3));
    ASSERT_TRUE(drive.ok()) << drive.status().ToString();
    first = (*drive)->identity();
  }
  EXPECT_EQ(first.cluster_guid, kCluster);
  EXPECT_EQ(first.array_id, kNode);
  EXPECT_EQ(first.lnum, 3u);
  EXPECT_TRUE(std::regex_match(first.serial, std::regex("TSR-[0-9A-F]{10}"))) << first.serial;
  EXPECT_TRUE(std::regex_match(first.wwn, std::regex("0x5000c500[0-9a-f]{8}"))) << first.wwn;
  EXPECT_TRUE(std::filesystem::is_directory(path + "/segments"));
  EXPECT_TRUE(std::filesystem::is_directory(path + "/index"));
  EXPECT_FALSE(std::filesystem::exists(path + "/identity.json.tmp"));

  auto json = ReadWholeFile(path + "/identity.json");
  ASSERT_TRUE(json.ok());
  for (const char* field : {"\"format_version\": 1", "\"cluster_guid\"", "\"array_id\": 7",
                            "\"lnum\": 3", "\"serial\"", "\"wwn\"", "\"created\""}) {
    EXPECT_NE(json->find(field), std::string::npos) << field << " in " << *json;
  }

  // Reopening reads the identity back; identity_if_new no longer matters.
  auto again = Drive::Open(path, kCluster, kNode, testutil::NewIdentity(9));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->identity().serial, first.serial);
  EXPECT_EQ((*again)->identity().wwn, first.wwn);
  EXPECT_EQ((*again)->identity().lnum, 3u);
}

TEST(DriveIdentityTest, KeepsGivenSerialAndWwn) {
  TempDir dir;
  DriveIdentity id = testutil::NewIdentity(4);
  id.serial = "TSR-0000000001";
  id.wwn = "0x5000c50000000001";
  auto drive = Drive::Open(dir.path(), kCluster, kNode, id);
  ASSERT_TRUE(drive.ok()) << drive.status().ToString();
  EXPECT_EQ((*drive)->identity().serial, id.serial);
  EXPECT_EQ((*drive)->identity().wwn, id.wwn);
}

TEST(DriveIdentityTest, RefusesAnotherClusterOrNodeNamingBoth) {
  TempDir dir;
  ASSERT_TRUE(Drive::Open(dir.path(), kCluster, kNode, testutil::NewIdentity(3)).ok());

  auto other_cluster = Drive::Open(dir.path(), "other-cluster", kNode, testutil::NewIdentity());
  ASSERT_EQ(other_cluster.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other_cluster.status().message(),
            "drive " + dir.path() + " belongs to cluster " + kCluster +
                " node 7 (lnum 3), not to this node (cluster other-cluster node 7)");

  auto other_node = Drive::Open(dir.path(), kCluster, 8, testutil::NewIdentity());
  ASSERT_EQ(other_node.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(other_node.status().message(),
            "drive " + dir.path() + " belongs to cluster " + kCluster +
                " node 7 (lnum 3), not to this node (cluster " + kCluster + " node 8)");
}

TEST(DriveIdentityTest, RefusesANonEmptyDirectoryWithoutIdentity) {
  TempDir dir;
  testutil::AppendToFile(dir.Sub("precious.db"), {1, 2, 3});
  auto drive = Drive::Open(dir.path(), kCluster, kNode, testutil::NewIdentity());
  ASSERT_EQ(drive.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(drive.status().message().find("not a Tessera drive"), std::string::npos);
  EXPECT_NE(drive.status().message().find("precious.db"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("identity.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("segments")));
}

TEST(DriveIdentityTest, FormatsAFreshMountPointAndAfterACrashedFormat) {
  TempDir dir;
  std::filesystem::create_directory(dir.Sub("lost+found"));
  testutil::AppendToFile(dir.Sub("identity.json.tmp"), {'{'});
  auto drive = Drive::Open(dir.path(), kCluster, kNode, testutil::NewIdentity());
  EXPECT_TRUE(drive.ok()) << drive.status().ToString();
}

TEST(DriveIdentityTest, DamagedIdentityIsCorruption) {
  TempDir dir;
  testutil::AppendToFile(dir.Sub("identity.json"), {'{', '"', 'x'});
  auto drive = Drive::Open(dir.path(), kCluster, kNode, testutil::NewIdentity());
  EXPECT_EQ(drive.status().code(), StatusCode::kCorruption);

  auto missing_field = DecodeDriveIdentity(
      R"({"format": "tessera-drive", "format_version": 1, "cluster_guid": "c"})", "/d");
  EXPECT_EQ(missing_field.status().code(), StatusCode::kCorruption);
  auto newer = DecodeDriveIdentity(R"({"format": "tessera-drive", "format_version": 2})", "/d");
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
}

TEST(DriveIdentityTest, EncodeDecodeRoundTrip) {
  DriveIdentity id{"g", 1ull << 40, 12, "TSR-ABCDEF0123", "0x5000c500deadbeef"};
  auto back = DecodeDriveIdentity(EncodeDriveIdentity(id, 0), "/d");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->cluster_guid, id.cluster_guid);
  EXPECT_EQ(back->array_id, id.array_id);
  EXPECT_EQ(back->lnum, id.lnum);
  EXPECT_EQ(back->serial, id.serial);
  EXPECT_EQ(back->wwn, id.wwn);
  EXPECT_NE(EncodeDriveIdentity(id, 0).find("1970-01-01T00:00:00Z"), std::string::npos);
}

}  // namespace
}  // namespace tessera::store
