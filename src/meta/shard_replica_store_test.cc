#include "meta/shard_replica_store.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tessera::meta {
namespace {

FileRecord Record(const std::string& path, uint64_t object_id) {
  FileRecord r;
  r.ns = "ns";
  r.path = path;
  r.object_id = object_id;
  r.size = 10;
  r.protection = "+1";
  r.geometry.kind = layout::Geometry::Kind::kMirror;
  r.geometry.copies = 2;
  r.drives = {{1, 0}, {2, 0}};
  return r;
}

ShardEntry Put(LogVersion v, const std::string& path, uint64_t object_id) {
  return {v, false, Record(path, object_id)};
}

ShardEntry Remove(LogVersion v, const std::string& path) {
  ShardEntry e;
  e.version = v;
  e.remove = true;
  e.record.ns = "ns";
  e.record.path = path;
  return e;
}

class ShardReplicaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto opened = ShardReplicaStore::Open(dir_.path(), 4);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<ShardReplicaStore> store_;
};

TEST_F(ShardReplicaStoreTest, AppendAppliesInOrderAndSurvivesReopen) {
  ASSERT_TRUE(store_->Promise(1, 5).ok());
  ASSERT_TRUE(store_->Append(1, 5, {}, {Put({5, 1}, "a", 1), Put({5, 2}, "b", 2)}).ok());
  ASSERT_TRUE(store_->Append(1, 5, {5, 2}, {Remove({5, 3}, "a"), Put({5, 4}, "b", 3)}).ok());
  Reopen();
  auto position = store_->Position(1);
  ASSERT_TRUE(position.ok());
  EXPECT_EQ(position->promised_epoch, 5);
  EXPECT_EQ(position->applied, (LogVersion{5, 4}));
  EXPECT_EQ(store_->Get(1, "ns", "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(1, "ns", "b")->object_id, 3u);
  // Shards are separate: shard 2 holds nothing.
  EXPECT_EQ(store_->Get(2, "ns", "b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Position(2)->applied, (LogVersion{}));
}

TEST_F(ShardReplicaStoreTest, RefusesStaleAndUnpromisedEpochs) {
  ASSERT_TRUE(store_->Promise(0, 7).ok());
  EXPECT_EQ(store_->Promise(0, 6).status().code(), StatusCode::kFailedPrecondition);
  Status stale = store_->Append(0, 6, {}, {Put({6, 1}, "a", 1)});
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.message().find("stale epoch 6"), std::string::npos) << stale.message();
  EXPECT_EQ(store_->Append(0, 8, {}, {Put({8, 1}, "a", 1)}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Get(0, "ns", "a").status().code(), StatusCode::kNotFound);
  // A promise survives a restart: a deposed primary stays deposed.
  Reopen();
  EXPECT_EQ(store_->Append(0, 6, {}, {Put({6, 1}, "a", 1)}).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ShardReplicaStoreTest, RefusesGapsAndDisorder) {
  ASSERT_TRUE(store_->Promise(0, 3).ok());
  ASSERT_TRUE(store_->Append(0, 3, {}, {Put({3, 1}, "a", 1)}).ok());
  Status gap = store_->Append(0, 3, {3, 2}, {Put({3, 3}, "b", 2)});
  EXPECT_EQ(gap.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(gap.message().find("out of sync"), std::string::npos);
  EXPECT_EQ(store_->Append(0, 3, {3, 1}, {Put({3, 3}, "b", 2), Put({3, 2}, "c", 3)}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Append(0, 3, {3, 1}, {Put({4, 1}, "b", 2)}).code(),
            StatusCode::kInvalidArgument);  // a version from a later epoch than promised
  EXPECT_EQ(store_->Get(0, "ns", "b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Position(0)->applied, (LogVersion{3, 1}));
}

TEST_F(ShardReplicaStoreTest, EntriesAfterReachesBackOnlyThroughThisHistory) {
  ASSERT_TRUE(store_->Promise(0, 2).ok());
  ASSERT_TRUE(store_->Append(0, 2, {}, {Put({2, 1}, "a", 1), Put({2, 2}, "b", 2)}).ok());
  ASSERT_TRUE(store_->Append(0, 2, {2, 2}, {Put({2, 3}, "c", 3)}).ok());
  auto all = store_->EntriesAfter(0, {}, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].record.path, "c");
  auto tail = store_->EntriesAfter(0, {2, 1}, 1);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].version, (LogVersion{2, 2}));
  EXPECT_TRUE(store_->EntriesAfter(0, {2, 3}, 10)->empty());
  // A version this shard never applied (a failed primary's write elsewhere).
  EXPECT_EQ(store_->EntriesAfter(0, {1, 9}, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->EntriesAfter(0, {2, 4}, 10).status().code(), StatusCode::kNotFound);
}

TEST_F(ShardReplicaStoreTest, LogIsTrimmedAndOldPositionsNeedACopy) {
  ASSERT_TRUE(store_->Promise(3, 1).ok());
  const uint64_t total = ShardReplicaStore::kLogKeep + 1500;
  LogVersion at;
  for (uint64_t done = 0; done < total;) {
    std::vector<ShardEntry> batch;
    for (int i = 0; i < 500 && done < total; ++i, ++done) {
      batch.push_back(Put({1, done + 1}, "f" + std::to_string(done % 50), done));
    }
    ASSERT_TRUE(store_->Append(3, 1, at, batch).ok());
    at = batch.back().version;
  }
  EXPECT_EQ(store_->EntriesAfter(3, {}, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->EntriesAfter(3, {1, 100}, 10).status().code(), StatusCode::kNotFound);
  auto recent = store_->EntriesAfter(3, {1, total - 5}, 100);
  ASSERT_TRUE(recent.ok()) << recent.status().ToString();
  EXPECT_EQ(recent->size(), 5u);
  Reopen();  // the trimmed floor is persistent
  EXPECT_EQ(store_->EntriesAfter(3, {1, 100}, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->EntriesAfter(3, {1, total - 1}, 10)->size(), 1u);
}

TEST_F(ShardReplicaStoreTest, InstallReplacesTheShardAndAnUnfinishedOneIsVisible) {
  ASSERT_TRUE(store_->Promise(2, 4).ok());
  ASSERT_TRUE(store_->Append(2, 4, {}, {Put({4, 1}, "old", 1)}).ok());
  ASSERT_TRUE(store_->BeginInstall(2, 4).ok());
  ASSERT_TRUE(store_->AddInstall(2, 4, {Record("x", 10), Record("y", 11)}).ok());
  Reopen();  // a crash in the middle of a copy
  EXPECT_TRUE(store_->Position(2)->installing);
  EXPECT_EQ(store_->Append(2, 4, {}, {Put({4, 1}, "z", 1)}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->EntriesAfter(2, {}, 10).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->BeginInstall(2, 4).ok());
  ASSERT_TRUE(store_->AddInstall(2, 4, {Record("x", 10)}).ok());
  ASSERT_TRUE(store_->FinishInstall(2, 4, {4, 9}).ok());
  EXPECT_FALSE(store_->Position(2)->installing);
  EXPECT_EQ(store_->Position(2)->applied, (LogVersion{4, 9}));
  EXPECT_EQ(store_->Get(2, "ns", "old").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(2, "ns", "y").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(2, "ns", "x")->object_id, 10u);
  // The log starts at the copy: the next write follows it.
  EXPECT_TRUE(store_->EntriesAfter(2, {4, 9}, 10)->empty());
  EXPECT_TRUE(store_->Append(2, 4, {4, 9}, {Put({4, 10}, "w", 12)}).ok());
  // A copy needs the promised epoch too.
  EXPECT_EQ(store_->BeginInstall(2, 3).code(), StatusCode::kFailedPrecondition);
}

TEST_F(ShardReplicaStoreTest, ReadRecordsPagesInOrder) {
  ASSERT_TRUE(store_->Promise(1, 1).ok());
  std::vector<ShardEntry> entries;
  for (int i = 0; i < 25; ++i) {
    char name[8];
    snprintf(name, sizeof(name), "f%02d", i);
    entries.push_back(Put({1, static_cast<uint64_t>(i + 1)}, name, i));
  }
  ASSERT_TRUE(store_->Append(1, 1, {}, entries).ok());
  std::vector<std::string> seen;
  std::string ns, path;
  while (true) {
    auto page = store_->ReadRecords(1, ns, path, 10);
    ASSERT_TRUE(page.ok());
    for (const FileRecord& r : page->records) seen.push_back(r.path);
    if (page->done) break;
    ns = page->records.back().ns;
    path = page->records.back().path;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(ShardReplicaStoreTest, ListMergesShardsInPathOrder) {
  for (uint32_t s = 0; s < 3; ++s) ASSERT_TRUE(store_->Promise(s, 1).ok());
  ASSERT_TRUE(store_->Append(0, 1, {}, {Put({1, 1}, "a/1", 1), Put({1, 2}, "c/1", 2)}).ok());
  ASSERT_TRUE(store_->Append(1, 1, {}, {Put({1, 1}, "a/2", 3), Put({1, 2}, "b/1", 4)}).ok());
  ASSERT_TRUE(store_->Append(2, 1, {}, {Put({1, 1}, "a/0", 5)}).ok());
  auto page = store_->List({0, 1}, "ns", "", "", 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->files.size(), 3u);
  EXPECT_EQ(page->files[0].path, "a/1");
  EXPECT_EQ(page->files[1].path, "a/2");
  EXPECT_EQ(page->files[2].path, "b/1");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_marker, "b/1");
  page = store_->List({0, 1}, "ns", "", "b/1", 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->files.size(), 1u);
  EXPECT_EQ(page->files[0].path, "c/1");
  EXPECT_FALSE(page->truncated);
  page = store_->List({0, 1, 2}, "ns", "a/", "", 10);
  ASSERT_EQ(page->files.size(), 3u);
  EXPECT_EQ(page->files[0].path, "a/0");
  EXPECT_EQ(store_->List({0, 1, 2}, "other", "", "", 10)->files.size(), 0u);
  EXPECT_EQ(store_->List({9}, "ns", "", "", 10).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ShardReplicaStoreTest, ObjectIdsNeverRepeatAcrossReopen) {
  uint64_t first = *store_->NewObjectId();
  uint64_t second = *store_->NewObjectId();
  EXPECT_GT(second, first);
  Reopen();
  EXPECT_GT(*store_->NewObjectId(), second);
}

}  // namespace
}  // namespace tessera::meta
