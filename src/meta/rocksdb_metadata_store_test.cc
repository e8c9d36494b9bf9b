#include "meta/rocksdb_metadata_store.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/support/temp_dir.h"

namespace tessera::meta {
namespace {

FileRecord Record(const std::string& ns, const std::string& path, uint64_t object_id) {
  FileRecord r;
  r.ns = ns;
  r.path = path;
  r.object_id = object_id;
  r.size = 10;
  r.created_ns = static_cast<int64_t>(object_id);
  r.modified_ns = static_cast<int64_t>(object_id);
  r.protection = "+1";
  r.geometry.kind = layout::Geometry::Kind::kMirror;
  r.geometry.copies = 2;
  r.drives = {{1, 0}, {1, 1}};
  return r;
}

TEST(RocksDbMetadataStoreTest, PutGetReplaceDelete) {
  testing::TempDir dir;
  auto store = RocksDbMetadataStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto& s = **store;
  EXPECT_EQ(s.Get("ns", "a").status().code(), StatusCode::kNotFound);
  auto first = s.Put(Record("ns", "a", 1));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
  auto second = s.Put(Record("ns", "a", 2));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->object_id, 1u);
  auto got = s.Get("ns", "a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->object_id, 2u);
  EXPECT_EQ(got->created_ns, 1) << "a replacement keeps the creation time";
  EXPECT_EQ(s.Get("other", "a").status().code(), StatusCode::kNotFound);
  auto deleted = s.Delete("ns", "a");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->object_id, 2u);
  EXPECT_EQ(s.Delete("ns", "a").status().code(), StatusCode::kNotFound);
}

TEST(RocksDbMetadataStoreTest, ADatabaseInUseIsRefusedAsSuch) {
  testing::TempDir dir;
  auto first = RocksDbMetadataStore::Open(dir.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = RocksDbMetadataStore::Open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("is in use by another process"), std::string::npos)
      << second.status().message();
  first->reset();
  EXPECT_TRUE(RocksDbMetadataStore::Open(dir.path()).ok());
}

TEST(RocksDbMetadataStoreTest, ReplacePlacementOnlyWhileContentIsUnchanged) {
  testing::TempDir dir;
  auto store = RocksDbMetadataStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto& s = **store;
  // A repair moves the file to new pieces under a new object id.
  FileRecord moved = Record("ns", "a", 70);
  moved.drives = {{2, 0}, {3, 1}};
  auto absent = s.ReplacePlacement(moved, 7);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(*absent);
  EXPECT_EQ(s.Get("ns", "a").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(s.Put(Record("ns", "a", 7)).ok());
  auto replaced = s.ReplacePlacement(moved, 7);
  ASSERT_TRUE(replaced.ok());
  EXPECT_TRUE(*replaced);
  EXPECT_EQ(s.Get("ns", "a")->drives, moved.drives);
  EXPECT_EQ(s.Get("ns", "a")->object_id, 70u);

  ASSERT_TRUE(s.Put(Record("ns", "a", 8)).ok());  // a client rewrote the file
  auto stale = s.ReplacePlacement(moved, 70);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(*stale);
  EXPECT_EQ(s.Get("ns", "a")->object_id, 8u);

  // With a version: only while modified_ns is still that one too.
  FileRecord touched = *s.Get("ns", "a");
  const int64_t version = touched.modified_ns;
  touched.modified_ns = version + 1;
  EXPECT_FALSE(*s.ReplacePlacement(touched, 8, version - 1));
  EXPECT_EQ(s.Get("ns", "a")->modified_ns, version);
  EXPECT_TRUE(*s.ReplacePlacement(touched, 8, version));
  EXPECT_EQ(s.Get("ns", "a")->modified_ns, version + 1);
}

TEST(RocksDbMetadataStoreTest, ReplacePlacementOfNoObjectCreatesOnlyIfAbsent) {
  testing::TempDir dir;
  auto store = RocksDbMetadataStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto& s = **store;
  auto created = s.ReplacePlacement(Record("ns", "new", 5), kNoObject);
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(*created);
  EXPECT_EQ(s.Get("ns", "new")->object_id, 5u);
  auto again = s.ReplacePlacement(Record("ns", "new", 6), kNoObject);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "a create must not replace";
  EXPECT_EQ(s.Get("ns", "new")->object_id, 5u);
}

TEST(RocksDbMetadataStoreTest, ListingPagesByPrefixAndMarker) {
  testing::TempDir dir;
  auto store = RocksDbMetadataStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  for (int d = 0; d < 3; ++d) {
    for (int f = 0; f < 5; ++f) {
      ASSERT_TRUE(s.Put(Record("ns", "d" + std::to_string(d) + "/f" + std::to_string(f), 1)).ok());
    }
  }
  ASSERT_TRUE(s.Put(Record("ns2", "d1/f0", 1)).ok());
  auto all = s.List("ns", "d1/", "", 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->files.size(), 5u);
  EXPECT_FALSE(all->truncated);
  EXPECT_EQ(all->files.front().path, "d1/f0");
  std::vector<std::string> paged;
  std::string marker;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = s.List("ns", "", marker, 4);
    ASSERT_TRUE(page.ok());
    for (auto& f : page->files) paged.push_back(f.path);
    if (!page->truncated) break;
    marker = page->next_marker;
  }
  ASSERT_EQ(paged.size(), 15u);
  EXPECT_TRUE(std::is_sorted(paged.begin(), paged.end()));
  EXPECT_EQ(std::set<std::string>(paged.begin(), paged.end()).size(), 15u);
  auto none = s.List("ns", "zzz", "", 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->files.empty());
}

TEST(RocksDbMetadataStoreTest, ObjectIdsNeverRepeatAcrossReopen) {
  testing::TempDir dir;
  std::set<uint64_t> seen;
  for (int round = 0; round < 3; ++round) {
    auto store = RocksDbMetadataStore::Open(dir.path());
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 1000; ++i) {
      auto id = (*store)->NewObjectId();
      ASSERT_TRUE(id.ok());
      EXPECT_TRUE(seen.insert(*id).second) << "id " << *id << " handed out twice";
      EXPECT_NE(*id, 0u);
    }
  }
}

TEST(RocksDbMetadataStoreTest, RecordsSurviveReopen) {
  testing::TempDir dir;
  {
    auto store = RocksDbMetadataStore::Open(dir.path());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Put(Record("ns", "kept", 5)).ok());
  }
  auto store = RocksDbMetadataStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("ns", "kept");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, Record("ns", "kept", 5));
}

TEST(RocksDbMetadataStoreTest, ConcurrentPutsOnOnePathKeepExactlyOneRecord) {
  testing::TempDir dir;
  auto store = RocksDbMetadataStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  auto& s = **store;
  std::atomic<int> replaced{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto prev = s.Put(Record("ns", "hot", static_cast<uint64_t>(t * 1000 + i + 1)));
        if (prev.ok() && prev->has_value()) ++replaced;
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every put but the first replaced exactly one record: none was lost or seen twice.
  EXPECT_EQ(replaced.load(), 8 * 50 - 1);
}

}  // namespace
}  // namespace tessera::meta
