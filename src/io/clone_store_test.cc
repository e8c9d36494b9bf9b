// Clones and snapshots over real drives and a real metadata database.
#include "io/clone_store.h"

#include <gtest/gtest.h>

#include <atomic>

#include "io/file_writer.h"
#include "io/io_test_util.h"
#include "io/piece_map.h"
#include "io/shadow_store.h"
#include "meta/metadata_store_testing.h"
#include "meta/rocksdb_metadata_store.h"
#include "tests/support/temp_dir.h"

namespace tessera::io {
namespace {

class CloneStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pieces_ = test_util::OpenTestDrives(dir_.path(), 4);
    ASSERT_NE(pieces_, nullptr);
    auto metadata = meta::RocksDbMetadataStore::Open(dir_.Sub("meta"));
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    metadata_ = std::move(metadata).value();
  }

  meta::FileRecord Put(const std::string& path, const std::vector<uint8_t>& content) {
    uint64_t id = next_id_++;
    FileWriter writer(*pieces_, *layout::ProtectionPolicy::Parse("+1"), id);
    EXPECT_TRUE(writer.Write(content).ok());
    auto written = writer.Finish();
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    meta::FileRecord r = written->Record("vm", path, id, "+1", 1);
    auto previous = metadata_->Put(r);
    EXPECT_TRUE(previous.ok());
    if (previous.ok() && *previous) DeleteFilePieces(*pieces_, **previous);
    return r;
  }
  void Delete(const std::string& ns, const std::string& path) {
    auto removed = metadata_->Delete(ns, path);
    ASSERT_TRUE(removed.ok()) << removed.status().ToString();
    DeleteFilePieces(*pieces_, *removed);  // what a node does
  }
  Result<std::vector<uint8_t>> Read(const std::string& ns, const std::string& path) {
    ASSIGN_OR_RETURN(meta::FileRecord r, metadata_->Get(ns, path));
    std::vector<uint8_t> out;
    RETURN_IF_ERROR(
        ReadFileContent(*pieces_, *metadata_, r, 0, r.size, [&](std::span<const uint8_t> b) {
          out.insert(out.end(), b.begin(), b.end());
          return Status::Ok();
        }));
    return out;
  }
  ObjectIdFn ids() {
    return [this]() -> Result<uint64_t> { return next_id_++; };
  }

  testing::TempDir dir_;
  std::unique_ptr<LocalPieceStore> pieces_;
  std::unique_ptr<meta::RocksDbMetadataStore> metadata_;
  std::atomic<uint64_t> next_id_{100};
};

TEST_F(CloneStoreTest, ACloneSharesBytesAndOutlivesItsSource) {
  const auto content = test_util::RandomBytes(3 << 20, 1);  // 3 MiB: striped
  meta::FileRecord original = Put("base.img", content);
  const uint64_t pieces_before = PiecesOf(original).size();

  Result<CloneResult> clone =
      CloneFile(*pieces_, *metadata_, "vm", "base.img", "vm", "copy.img", ids(), 5);
  ASSERT_TRUE(clone.ok()) << clone.status().ToString();
  EXPECT_TRUE(clone->clone.is_cloned());
  EXPECT_FALSE(clone->replaced.has_value());
  EXPECT_EQ(clone->clone.sha256, original.sha256);
  // The source became a reference too; one clone store owns the pieces.
  auto source = metadata_->Get("vm", "base.img");
  ASSERT_TRUE(source->is_cloned());
  EXPECT_EQ(source->packed->sin, clone->clone.packed->sin);
  auto store =
      metadata_->Get(std::string(kShadowStoreNamespace), ChunkPath({source->packed->sin, 0, true}));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(store->object_id, original.object_id) << "sharing moves no bytes";
  EXPECT_EQ(PiecesOf(*store).size(), pieces_before);

  EXPECT_EQ(*Read("vm", "copy.img"), content);
  Delete("vm", "base.img");  // deleting the source never breaks the clone
  EXPECT_EQ(*Read("vm", "copy.img"), content);

  // Writing the clone replaces only the clone.
  ASSERT_TRUE(CloneFile(*pieces_, *metadata_, "vm", "copy.img", "vm", "copy2.img", ids(), 6).ok());
  Put("copy.img", test_util::RandomBytes(1000, 2));
  EXPECT_EQ(*Read("vm", "copy2.img"), content);
  EXPECT_EQ(Read("vm", "copy.img")->size(), 1000u);
}

TEST_F(CloneStoreTest, EmptyAndAlreadySharedFilesAreSharedAsTheyAre) {
  Put("empty", {});
  auto empty = ShareFile(*metadata_, "vm", "empty", ids(), 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->is_packed());
  Put("a", test_util::RandomBytes(5000, 3));
  auto once = ShareFile(*metadata_, "vm", "a", ids(), 1);
  auto twice = ShareFile(*metadata_, "vm", "a", ids(), 1);
  ASSERT_TRUE(once.ok() && twice.ok());
  EXPECT_EQ(*once, *twice) << "a shared file is not shared again";
  EXPECT_EQ(ShareFile(*metadata_, "vm", "missing", ids(), 1).status().code(),
            StatusCode::kNotFound);
}

TEST_F(CloneStoreTest, SnapshotsAreConsistentGroupsToCloneFrom) {
  const auto disk = test_util::RandomBytes(400000, 4);
  const auto config = test_util::RandomBytes(3000, 5);
  Put("disk", disk);
  Put("config", config);
  Result<SnapshotInfo> snap =
      CreateSnapshot(*metadata_, "nightly", {{"vm", "disk"}, {"vm", "config"}}, ids(), 7);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->files, 2u);
  EXPECT_EQ(snap->bytes, disk.size() + config.size());

  // The originals change; the snapshot keeps the moment it was taken.
  Put("disk", test_util::RandomBytes(10, 6));
  Delete("vm", "config");
  ASSERT_TRUE(
      CloneFile(*pieces_, *metadata_, "_snap", "nightly/vm/disk", "vm", "restored", ids(), 8).ok());
  EXPECT_EQ(*Read("vm", "restored"), disk);
  EXPECT_EQ(*Read("_snap", "nightly/vm/config"), config);

  auto list = ListSnapshots(*metadata_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "nightly");
  EXPECT_EQ((*list)[0].files, 2u);
  EXPECT_EQ(CreateSnapshot(*metadata_, "nightly", {{"vm", "disk"}}, ids(), 9).status().code(),
            StatusCode::kAlreadyExists);

  EXPECT_EQ(*DeleteSnapshot(*metadata_, "nightly"), 2u);
  EXPECT_EQ(*Read("vm", "restored"), disk) << "a clone outlives its snapshot";
  EXPECT_EQ(DeleteSnapshot(*metadata_, "nightly").status().code(), StatusCode::kNotFound);
}

// Two requests for one snapshot name at once: one wins, the other changes
// nothing, whether they name the same files or others.
TEST_F(CloneStoreTest, RacingSnapshotsOfOneNameNeverMerge) {
  Put("a", test_util::RandomBytes(5000, 1));
  Put("b", test_util::RandomBytes(6000, 2));
  for (const bool same_files : {true, false}) {
    SCOPED_TRACE(same_files ? "same files" : "other files");
    const std::string name = same_files ? "same" : "other";
    // The racer takes the name between this request's check and its writes.
    meta::RaceBeforeReplace racing(
        *metadata_, [](const meta::FileRecord& r) { return r.ns == "_snap"; },
        [&] {
          Result<SnapshotInfo> racer = CreateSnapshot(*metadata_, name, {{"vm", "a"}}, ids(), 7);
          ASSERT_TRUE(racer.ok()) << racer.status().ToString();
        });
    Result<SnapshotInfo> late =
        CreateSnapshot(racing, name,
                       same_files ? std::vector<std::pair<std::string, std::string>>{{"vm", "a"}}
                                  : std::vector<std::pair<std::string, std::string>>{{"vm", "b"}},
                       ids(), 8);
    EXPECT_EQ(late.status().code(), StatusCode::kAlreadyExists) << late.status().ToString();
    Result<std::vector<meta::FileRecord>> files = SnapshotFiles(*metadata_, name);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    ASSERT_EQ(files->size(), 1u) << "the snapshots merged";
    EXPECT_EQ((*files)[0].path, name + "/vm/a");
    EXPECT_EQ((*files)[0].created_ns, 7) << "the winner's record was replaced";
  }
}

// A source rewritten at every attempt to share it: a clone gives up with
// Unavailable, which clients retry, not as a bad request.
TEST_F(CloneStoreTest, ASourceThatKeepsBeingRewrittenIsUnavailable) {
  Put("busy", test_util::RandomBytes(5000, 1));
  uint64_t rewrites = 0;
  meta::RaceBeforeReplace racing(
      *metadata_, [](const meta::FileRecord& r) { return r.ns == "vm" && r.path == "busy"; },
      [&] {
        ++rewrites;
        Put("busy", test_util::RandomBytes(5000, 10 + static_cast<int>(rewrites)));
      },
      /*times=*/100);
  Result<CloneResult> clone = CloneFile(*pieces_, racing, "vm", "busy", "vm", "copy", ids(), 5);
  EXPECT_EQ(clone.status().code(), StatusCode::kUnavailable) << clone.status().ToString();
  EXPECT_NE(clone.status().message().find("try again"), std::string::npos);
  EXPECT_GT(rewrites, 1u);
  EXPECT_EQ(metadata_->Get("vm", "copy").status().code(), StatusCode::kNotFound);
}

TEST_F(CloneStoreTest, ContainerChunksAndCloneStoresAreNeverCloned) {
  // A chunk shared again would strand every file packed in it.
  meta::FileRecord chunk = Put("chunk", test_util::RandomBytes(5000, 4));
  chunk.ns = std::string(kShadowStoreNamespace);
  chunk.path = "0000000000000001/0000";
  ASSERT_TRUE(metadata_->Put(chunk).ok());
  auto refused = CloneFile(*pieces_, *metadata_, chunk.ns, chunk.path, "vm", "x", ids(), 2);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(metadata_->Get(chunk.ns, chunk.path)->object_id, chunk.object_id);
  EXPECT_FALSE(metadata_->Get(chunk.ns, chunk.path)->is_cloned());
  EXPECT_EQ(metadata_->Get("vm", "x").status().code(), StatusCode::kNotFound);
  // A snapshot member whose name would be too long to clone from is refused too.
  Put(std::string(4050, 'p'), test_util::RandomBytes(10, 5));
  EXPECT_EQ(
      CreateSnapshot(*metadata_, std::string(64, 's'), {{"vm", std::string(4050, 'p')}}, ids(), 1)
          .status()
          .code(),
      StatusCode::kInvalidArgument);
}

TEST_F(CloneStoreTest, BadSnapshotRequestsChangeNothing) {
  Put("a", test_util::RandomBytes(100, 1));
  EXPECT_EQ(CreateSnapshot(*metadata_, "bad/name", {{"vm", "a"}}, ids(), 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateSnapshot(*metadata_, "s", {}, ids(), 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateSnapshot(*metadata_, "s", {{"vm", "a"}, {"vm", "a"}}, ids(), 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateSnapshot(*metadata_, "s", {{"_sstore", "x"}}, ids(), 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateSnapshot(*metadata_, "s", {{"vm", "nope"}}, ids(), 1).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(ListSnapshots(*metadata_)->empty());
  const std::string too_long(65, 'x');
  for (std::string_view bad : {std::string_view(""), std::string_view("."), std::string_view(".."),
                               std::string_view("a b"), std::string_view(too_long)}) {
    EXPECT_FALSE(ValidateSnapshotName(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tessera::io
