// ShadowStoreDelete against clones and snapshots made while it scans, over
// real drives and a real metadata database. The cluster's store scans shard
// by shard, page by page, so records change under a scan; PagedScanStore
// scans namespace by namespace in pages and lets the test act in between.
#include "jobs/shadow_store_delete.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <utility>

#include "io/clone_store.h"
#include "io/io_test_util.h"
#include "io/shadow_store.h"
#include "jobs/container_packer.h"
#include "jobs/flexprotect.h"
#include "jobs/job_testing.h"
#include "meta/rocksdb_metadata_store.h"
#include "tests/support/temp_dir.h"

namespace tessera::jobs {
namespace {

class PagedScanStore final : public meta::MetadataStore {
 public:
  PagedScanStore(meta::MetadataStore& inner, std::vector<std::string> namespaces)
      : inner_(inner), namespaces_(std::move(namespaces)) {}

  // Called before a scan reaches namespace `ns` (every scan: the job scans
  // again before deleting emptied containers).
  std::function<void(const std::string& ns)> before_namespace;

  Result<uint64_t> NewObjectId() override { return inner_.NewObjectId(); }
  Result<meta::FileRecord> Get(const std::string& ns, const std::string& path) override {
    return inner_.Get(ns, path);
  }
  Result<std::optional<meta::FileRecord>> Put(meta::FileRecord record) override {
    return inner_.Put(std::move(record));
  }
  Result<bool> ReplacePlacement(const meta::FileRecord& record, uint64_t expected,
                                std::optional<int64_t> expected_modified_ns) override {
    return inner_.ReplacePlacement(record, expected, expected_modified_ns);
  }
  Result<meta::FileRecord> Delete(const std::string& ns, const std::string& path) override {
    return inner_.Delete(ns, path);
  }
  Result<meta::Listing> List(const std::string& ns, const std::string& prefix,
                             const std::string& marker, size_t limit) override {
    return inner_.List(ns, prefix, marker, limit);
  }
  Status ForEach(const std::function<bool(const meta::FileRecord&)>& visit) override {
    for (const std::string& ns : namespaces_) {
      if (before_namespace) before_namespace(ns);
      std::string marker;
      while (true) {
        ASSIGN_OR_RETURN(meta::Listing page, inner_.List(ns, "", marker, 2));
        for (const meta::FileRecord& r : page.files) {
          if (!visit(r)) return Status::Ok();
        }
        if (!page.truncated) break;
        marker = page.next_marker;
      }
    }
    return Status::Ok();
  }

 private:
  meta::MetadataStore& inner_;
  std::vector<std::string> namespaces_;
};

class ShadowStoreDeleteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pieces_ = io::test_util::OpenTestDrives(dir_.path(), 6);
    ASSERT_NE(pieces_, nullptr);
    auto metadata = meta::RocksDbMetadataStore::Open(dir_.Sub("meta"));
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    rocks_ = std::move(metadata).value();
    store_ = std::make_unique<PagedScanStore>(
        *rocks_, std::vector<std::string>{"_snap", "_sstore", "early", "vm"});
  }

  meta::FileRecord PutNative(const std::string& path, size_t size, uint64_t seed) {
    std::vector<uint8_t> content = io::test_util::RandomBytes(size, seed);
    uint64_t id = next_id_++;
    io::FileWriter writer(*pieces_, Policy(), id);
    EXPECT_TRUE(writer.Write(content).ok());
    auto written = writer.Finish();
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    meta::FileRecord r = io::test_util::RecordFor(*written, "+2", id);
    r.ns = "vm";
    r.path = path;
    auto previous = store_->Put(r);
    EXPECT_TRUE(previous.ok());
    if (previous.ok() && *previous) io::DeleteFilePieces(*pieces_, **previous);
    return r;
  }
  void Remove(const std::string& ns, const std::string& path) {
    auto removed = store_->Delete(ns, path);
    ASSERT_TRUE(removed.ok()) << removed.status().ToString();
    io::DeleteFilePieces(*pieces_, *removed);
  }
  Result<std::vector<uint8_t>> Read(const std::string& ns, const std::string& path) {
    ASSIGN_OR_RETURN(meta::FileRecord r, store_->Get(ns, path));
    std::vector<uint8_t> out;
    RETURN_IF_ERROR(
        io::ReadFileContent(*pieces_, *store_, r, 0, r.size, [&](std::span<const uint8_t> b) {
          out.insert(out.end(), b.begin(), b.end());
          return Status::Ok();
        }));
    return out;
  }
  io::ObjectIdFn ids() {
    return [this]() -> Result<uint64_t> { return next_id_++; };
  }
  static layout::ProtectionPolicy Policy() { return *layout::ProtectionPolicy::Parse("+2"); }
  static constexpr int64_t kNow = 1'000'000'000'000'000'000;
  static constexpr int64_t kHourNs = 3600LL * 1'000'000'000;

  CountingContext RunJob(bool defrag, int64_t now_ns = kNow) {
    ShadowStoreDeleteJob job(
        *pieces_, *store_,
        [&]() -> Result<ShadowStoreDeleteJob::Inputs> {
          return ShadowStoreDeleteJob::Inputs{defrag, Policy(), 1ull << 30, now_ns};
        },
        ids());
    CountingContext context;
    Status run = job.Run(context);
    EXPECT_TRUE(run.ok()) << run.ToString();
    return context;
  }

  testing::TempDir dir_;
  std::unique_ptr<io::LocalPieceStore> pieces_;
  std::unique_ptr<meta::RocksDbMetadataStore> rocks_;
  std::unique_ptr<PagedScanStore> store_;
  std::atomic<uint64_t> next_id_{100};
};

TEST_F(ShadowStoreDeleteTest, AnUnreferencedCloneStoreIsFreed) {
  PutNative("disk", 300000, 1);
  ASSERT_TRUE(io::CloneFile(*pieces_, *store_, "vm", "disk", "vm", "copy", ids(), 5).ok());
  Remove("vm", "disk");
  Remove("vm", "copy");
  CountingContext context = RunJob(false);
  EXPECT_EQ(context.counters["chunks_freed"], 1u);
  EXPECT_EQ(context.counters["chunks_in_use_kept"], 0u);
}

// The only reference to a clone store moves behind the scan: a snapshot is
// taken of a file the scan has not reached (into _snap, already scanned),
// then the file is rewritten.
// Before the scan reaches the stores (the store's version changes before it
// is read) or after (it changes after): either way the store stays.
TEST_F(ShadowStoreDeleteTest, AStoreGivenAReferenceDuringTheScanIsKept) {
  for (const std::string act_before : {"_sstore", "vm"}) {
    SCOPED_TRACE("acting before the scan reaches " + act_before);
    const std::string file = "disk" + act_before, snapshot = "s" + act_before;
    PutNative(file, 300000, 1);
    const std::vector<uint8_t> content = *Read("vm", file);
    ASSERT_TRUE(io::CloneFile(*pieces_, *store_, "vm", file, "vm", "copy", ids(), 5).ok());
    Remove("vm", "copy");
    bool acted = false;
    store_->before_namespace = [&](const std::string& ns) {
      if (ns != act_before || std::exchange(acted, true)) return;
      ASSERT_TRUE(io::CreateSnapshot(*store_, snapshot, {{"vm", file}}, ids(), 7).ok());
      PutNative(file, 1000, 2);
    };
    CountingContext context = RunJob(false);
    EXPECT_EQ(context.counters["chunks_freed"], 0u);
    EXPECT_EQ(context.counters["chunks_in_use_kept"], 1u);
    Result<std::vector<uint8_t>> snapped = Read("_snap", snapshot + "/vm/" + file);
    ASSERT_TRUE(snapped.ok()) << snapped.status().ToString();
    EXPECT_EQ(*snapped, content);
    // Unreferenced for good now: the next run frees it.
    store_->before_namespace = nullptr;
    ASSERT_TRUE(io::DeleteSnapshot(*store_, snapshot).ok());
    EXPECT_EQ(RunJob(false).counters["chunks_freed"], 1u);
  }
}

// The defragmenter evacuates the files it scanned; a clone of one of them
// made meanwhile (in a namespace already scanned) still points into the
// old chunk, which must then stay.
TEST_F(ShadowStoreDeleteTest, ADefragmentedChunkAClonePointsIntoIsKept) {
  std::vector<meta::FileRecord> natives;
  for (int i = 0; i < 3; ++i) natives.push_back(PutNative("f" + std::to_string(i), 40000, 10 + i));
  const std::vector<uint8_t> kept = *Read("vm", "f2");
  {
    ContainerPacker packer(*pieces_, *store_, {Policy(), 1ull << 30, std::nullopt}, ids(),
                           [](const meta::FileRecord&, MoveOutcome, const Status&) {});
    for (meta::FileRecord f : natives) {
      f.packing_policy = f.packing_target = meta::PackingPlace::kContainer;
      ASSERT_TRUE(packer.Add(f).ok());
    }
    ASSERT_TRUE(packer.Flush().ok());
  }
  Remove("vm", "f0");
  Remove("vm", "f1");
  bool acted = false;
  store_->before_namespace = [&](const std::string& ns) {
    if (ns != "vm" || std::exchange(acted, true)) return;
    ASSERT_TRUE(io::CloneFile(*pieces_, *store_, "vm", "f2", "early", "f2-clone", ids(), 9).ok());
  };
  CountingContext context = RunJob(true);
  EXPECT_EQ(context.counters["files_moved"], 1u);
  EXPECT_EQ(context.counters["chunks_defragmented"], 1u);
  EXPECT_EQ(context.counters["chunks_in_use_kept"], 1u);
  EXPECT_EQ(context.counters["chunks_freed"], 0u);
  Result<std::vector<uint8_t>> clone = Read("early", "f2-clone");
  ASSERT_TRUE(clone.ok()) << clone.status().ToString();
  EXPECT_EQ(*clone, kept);
  EXPECT_EQ(*Read("vm", "f2"), kept);
}

// A store freed before a clone or snapshot could say it refers to it (the
// job saw no reference): the clone or snapshot is undone, not left dangling.
TEST_F(ShadowStoreDeleteTest, ACloneOfAFreedStoreIsUndone) {
  PutNative("disk", 300000, 1);
  ASSERT_TRUE(io::CloneFile(*pieces_, *store_, "vm", "disk", "vm", "copy", ids(), 5).ok());
  const meta::FileRecord disk = *store_->Get("vm", "disk");
  const std::string store_path = io::ChunkPath(io::StoredFileOf(*disk.packed));
  auto stored = store_->Get(std::string(io::kShadowStoreNamespace), store_path);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(*FreeChunk(*pieces_, *store_, *stored));

  const std::vector<uint8_t> other = io::test_util::RandomBytes(100, 9);
  PutNative("kept", 100, 9);
  auto clone = io::CloneFile(*pieces_, *store_, "vm", "disk", "vm", "kept", ids(), 6);
  EXPECT_EQ(clone.status().code(), StatusCode::kNotFound) << clone.status().ToString();
  EXPECT_EQ(*Read("vm", "kept"), other) << "the file the clone would have replaced is back";
  auto snapshot = io::CreateSnapshot(*store_, "s2", {{"vm", "disk"}}, ids(), 6);
  EXPECT_EQ(snapshot.status().code(), StatusCode::kNotFound) << snapshot.status().ToString();
  EXPECT_TRUE(io::ListSnapshots(*store_)->empty());
}

// FlexProtect moving a file (a chunk, say) commits only over the version it
// read, so it never undoes a touch made meanwhile.
TEST_F(ShadowStoreDeleteTest, FlexProtectDoesNotUndoATouch) {
  const meta::FileRecord read = PutNative("chunk-like", 300000, 3);
  cluster::GroupState group;
  cluster::IdSet drives;
  drives.InsertRange(0, 5);
  group.members[1] = drives;
  cluster::IdSet failing;
  failing.Insert(read.drives.front().lnum);
  group.soft_failed.push_back({1, failing});
  const DeviceHealth health(group);

  meta::FileRecord touched = read;
  touched.modified_ns = read.modified_ns + 1;
  ASSERT_TRUE(*store_->ReplacePlacement(touched, read.object_id, read.modified_ns));
  auto stale = ProtectFile(*pieces_, *store_, read, health, next_id_++);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ(stale->outcome, ProtectOutcome::kRaced);
  EXPECT_EQ(store_->Get("vm", "chunk-like")->modified_ns, touched.modified_ns);

  auto fresh = ProtectFile(*pieces_, *store_, *store_->Get("vm", "chunk-like"), health, next_id_++);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->outcome, ProtectOutcome::kRewritten);
  EXPECT_EQ(store_->Get("vm", "chunk-like")->modified_ns, touched.modified_ns);
  EXPECT_EQ(*Read("vm", "chunk-like"), io::test_util::RandomBytes(300000, 3));
}

// A share cut short by a crash: the store's record names pieces a native
// file still owns. Only the record goes, and only once no share that began
// then can still be finishing.
TEST_F(ShadowStoreDeleteTest, AStoreLeftByAShareCutShortGoesOnlyWhenOld) {
  const meta::FileRecord disk = PutNative("disk", 300000, 1);
  const std::vector<uint8_t> content = *Read("vm", "disk");
  meta::FileRecord store = disk;
  store.ns = std::string(io::kShadowStoreNamespace);
  store.path = io::ChunkPath({777, 0, true});
  store.created_ns = store.modified_ns = kNow - kHourNs / 2;
  ASSERT_TRUE(store_->Put(store).ok());
  CountingContext young = RunJob(false);
  EXPECT_EQ(young.counters["unfinished_clone_stores_removed"], 0u);
  EXPECT_TRUE(store_->Get(store.ns, store.path).ok()) << "a share may still be finishing";

  CountingContext old = RunJob(false, kNow + kHourNs);
  EXPECT_EQ(old.counters["unfinished_clone_stores_removed"], 1u);
  EXPECT_EQ(old.counters["chunks_freed"], 0u);
  EXPECT_EQ(store_->Get(store.ns, store.path).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*Read("vm", "disk"), content) << "the file's own pieces stay";
}

}  // namespace
}  // namespace tessera::jobs
