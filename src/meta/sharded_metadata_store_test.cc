#include "meta/sharded_metadata_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <shared_mutex>
#include <thread>

#include "tests/support/temp_dir.h"

namespace tessera::meta {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kShards = 8;

// A node as the others reach it: its store, called in-process, or Unavailable
// while it is down. The network transport (rpc/remote_shard_peer) is tested
// on loopback in rpc/remote_shard_peer_test.cc and with real processes in the
// cluster tests.
struct Reach {
  std::shared_mutex mu;                     // calls hold it shared while they use `store`
  std::atomic<bool> refuse_appends{false};  // a replica whose disk fails writes
  ShardedMetadataStore* store = nullptr;    // null while the node is down
};

class InProcessPeer final : public ShardPeer {
 public:
  explicit InProcessPeer(std::shared_ptr<Reach> reach) : reach_(std::move(reach)) {}

  Result<ShardPosition> Promise(uint32_t shard, int64_t epoch) override {
    return With<ShardPosition>([&](auto& s) { return s.replica().Promise(shard, epoch); });
  }
  Status Append(uint32_t shard, int64_t epoch, LogVersion prev,
                const std::vector<ShardEntry>& entries) override {
    if (reach_->refuse_appends) return Status::IOError("disk failed");
    return With<bool>([&](auto& s) -> Result<bool> {
             RETURN_IF_ERROR(s.replica().Append(shard, epoch, prev, entries));
             return true;
           })
        .status();
  }
  Result<std::vector<ShardEntry>> EntriesAfter(uint32_t shard, LogVersion after,
                                               size_t max) override {
    return With<std::vector<ShardEntry>>(
        [&](auto& s) { return s.replica().EntriesAfter(shard, after, max); });
  }
  Result<RecordPage> ReadRecords(uint32_t shard, const std::string& ns, const std::string& path,
                                 size_t max) override {
    return With<RecordPage>([&](auto& s) { return s.replica().ReadRecords(shard, ns, path, max); });
  }
  Status BeginInstall(uint32_t shard, int64_t epoch) override {
    return With<bool>([&](auto& s) -> Result<bool> {
             RETURN_IF_ERROR(s.replica().BeginInstall(shard, epoch));
             return true;
           })
        .status();
  }
  Status AddInstall(uint32_t shard, int64_t epoch,
                    const std::vector<FileRecord>& records) override {
    return With<bool>([&](auto& s) -> Result<bool> {
             RETURN_IF_ERROR(s.replica().AddInstall(shard, epoch, records));
             return true;
           })
        .status();
  }
  Status FinishInstall(uint32_t shard, int64_t epoch, LogVersion applied) override {
    return With<bool>([&](auto& s) -> Result<bool> {
             RETURN_IF_ERROR(s.replica().FinishInstall(shard, epoch, applied));
             return true;
           })
        .status();
  }
  Result<ShardReply> Lead(const ShardRequest& request) override {
    // Through the wire encoding, as the RPC carries it.
    ASSIGN_OR_RETURN(ShardRequest decoded, DecodeShardRequest(EncodeShardRequest(request)));
    ASSIGN_OR_RETURN(ShardReply reply, With<ShardReply>([&](auto& s) { return s.Lead(decoded); }));
    return DecodeShardReply(EncodeShardReply(reply));
  }

 private:
  template <typename T, typename F>
  Result<T> With(F call) {
    std::shared_lock<std::shared_mutex> lock(reach_->mu);
    if (reach_->store == nullptr) return Status::Unavailable("node is down");
    return call(*reach_->store);
  }
  std::shared_ptr<Reach> reach_;
};

FileRecord Record(const std::string& path, uint64_t object_id) {
  FileRecord r;
  r.ns = "ns";
  r.path = path;
  r.object_id = object_id;
  r.size = object_id;
  r.created_ns = static_cast<int64_t>(object_id);
  r.modified_ns = static_cast<int64_t>(object_id);
  r.protection = "+1";
  r.geometry.kind = layout::Geometry::Kind::kMirror;
  r.geometry.copies = 2;
  r.drives = {{1, 0}, {2, 0}};
  return r;
}

class ShardedMetadataStoreTest : public ::testing::Test {
 protected:
  // Nodes 1..count, each with its own database.
  void Start(uint32_t count, uint32_t copies) {
    copies_ = copies;
    for (uint32_t id = 1; id <= count; ++id) {
      dirs_[id] = std::make_unique<testing::TempDir>();
      reach_[id] = std::make_shared<Reach>();
      Open(id);
    }
    for (auto& [id, store] : stores_) WirePeers(id);
  }

  void Open(uint32_t id) {
    ShardedStoreOptions options;
    options.self = id;
    options.shard_count = kShards;
    options.request_wait = request_wait_;
    auto opened = ShardedMetadataStore::Open(dirs_[id]->path(), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    stores_[id] = std::move(opened).value();
    std::unique_lock<std::shared_mutex> lock(reach_[id]->mu);
    reach_[id]->store = stores_[id].get();
  }

  void WirePeers(uint32_t id) {
    std::map<uint32_t, std::shared_ptr<ShardPeer>> peers;
    for (auto& [other, reach] : reach_) {
      if (other != id) peers[other] = std::make_shared<InProcessPeer>(reach);
    }
    stores_[id]->SetPeers(std::move(peers));
  }

  // A crash: the node's store is gone; the others reach nothing.
  void Kill(uint32_t id) {
    {
      std::unique_lock<std::shared_mutex> lock(reach_[id]->mu);
      reach_[id]->store = nullptr;
    }
    stores_.erase(id);
  }

  void TearDown() override {
    while (!stores_.empty()) Kill(stores_.begin()->first);
  }

  void Restart(uint32_t id) {
    Open(id);
    WirePeers(id);
  }

  // The master's next map over `members`, handed to `to` (default: members).
  cluster::ShardMap Publish(const std::set<uint32_t>& members, std::set<uint32_t> to = {}) {
    auto next = cluster::ComputeShardMap(map_, members, kShards, copies_, map_.epoch + 1);
    EXPECT_TRUE(next.ok());
    map_ = *next;
    if (to.empty()) to = members;
    for (uint32_t id : to) stores_.at(id)->SetShardMap(map_);
    return map_;
  }

  ShardedMetadataStore& Node(uint32_t id) { return *stores_.at(id); }

  std::chrono::milliseconds request_wait_ = 2s;
  uint32_t copies_ = 0;
  cluster::ShardMap map_;
  std::map<uint32_t, std::unique_ptr<testing::TempDir>> dirs_;
  std::map<uint32_t, std::shared_ptr<Reach>> reach_;
  std::map<uint32_t, std::unique_ptr<ShardedMetadataStore>> stores_;
};

TEST_F(ShardedMetadataStoreTest, AnyNodeWritesAndReadsEveryShard) {
  Start(3, 2);
  Publish({1, 2, 3});
  for (int i = 0; i < 60; ++i) {
    std::string path = "dir" + std::to_string(i % 12) + "/f" + std::to_string(i);
    auto put = Node(1 + i % 3).Put(Record(path, 100 + i));
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    EXPECT_FALSE(put->has_value());
  }
  for (int i = 0; i < 60; ++i) {
    std::string path = "dir" + std::to_string(i % 12) + "/f" + std::to_string(i);
    auto got = Node(1 + (i + 1) % 3).Get("ns", path);
    ASSERT_TRUE(got.ok()) << path << ": " << got.status().ToString();
    EXPECT_EQ(got->object_id, 100u + i);
  }
  // A replaced record comes back to the writer and keeps its creation time.
  FileRecord again = Record("dir0/f0", 500);
  again.created_ns = 999;
  auto replaced = Node(2).Put(again);
  ASSERT_TRUE(replaced.ok());
  ASSERT_TRUE(replaced->has_value());
  EXPECT_EQ((*replaced)->object_id, 100u);
  EXPECT_EQ(Node(3).Get("ns", "dir0/f0")->created_ns, 100);

  // Listing pages through every shard in path order.
  std::vector<std::string> listed;
  std::string marker;
  while (true) {
    auto page = Node(3).List("ns", "", marker, 7);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const FileRecord& r : page->files) listed.push_back(r.path);
    if (!page->truncated) break;
    marker = page->next_marker;
  }
  EXPECT_EQ(listed.size(), 60u);
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  EXPECT_EQ(Node(1).List("ns", "dir1/", "", 100)->files.size(), 5u);

  size_t visited = 0;
  ASSERT_TRUE(Node(2).ForEach([&](const FileRecord&) { return ++visited > 0; }).ok());
  EXPECT_EQ(visited, 60u);

  auto removed = Node(1).Delete("ns", "dir1/f1");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->object_id, 101u);
  EXPECT_EQ(Node(2).Get("ns", "dir1/f1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Node(3).Delete("ns", "dir1/f1").status().code(), StatusCode::kNotFound);

  FileRecord moved = Record("dir2/f2", 1102);  // new pieces, new object id
  moved.drives = {{3, 1}, {2, 1}};
  EXPECT_TRUE(*Node(3).ReplacePlacement(moved, 102));
  EXPECT_EQ(Node(1).Get("ns", "dir2/f2")->drives, moved.drives);
  EXPECT_EQ(Node(2).Get("ns", "dir2/f2")->object_id, 1102u);
  EXPECT_FALSE(*Node(3).ReplacePlacement(moved, 102));  // not the stored content any more
  FileRecord touched = moved;
  touched.modified_ns = moved.modified_ns + 5;
  EXPECT_FALSE(*Node(2).ReplacePlacement(touched, 1102, moved.modified_ns - 1));  // older version
  EXPECT_EQ(Node(1).Get("ns", "dir2/f2")->modified_ns, moved.modified_ns);
  EXPECT_TRUE(*Node(2).ReplacePlacement(touched, 1102, moved.modified_ns));
  EXPECT_EQ(Node(3).Get("ns", "dir2/f2")->modified_ns, moved.modified_ns + 5);

  // kNoObject: a create that never replaces, whichever node asks.
  EXPECT_FALSE(*Node(1).ReplacePlacement(Record("dir2/f2", 2102), kNoObject));
  EXPECT_EQ(Node(2).Get("ns", "dir2/f2")->object_id, 1102u);
  EXPECT_TRUE(*Node(1).ReplacePlacement(Record("dir2/created", 2103), kNoObject));
  EXPECT_FALSE(*Node(3).ReplacePlacement(Record("dir2/created", 2104), kNoObject));
  EXPECT_EQ(Node(2).Get("ns", "dir2/created")->object_id, 2103u);
}

TEST_F(ShardedMetadataStoreTest, EveryReplicaHoldsEveryAcknowledgedWrite) {
  Start(3, 3);
  Publish({1, 2, 3});
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(Node(1 + i % 3)
                    .Put(Record("d" + std::to_string(i % 5) + "/f" + std::to_string(i), i + 1))
                    .ok());
  }
  for (int i = 0; i < 40; ++i) {
    std::string path = "d" + std::to_string(i % 5) + "/f" + std::to_string(i);
    uint32_t shard = cluster::ShardOf("ns", path, kShards);
    for (uint32_t id = 1; id <= 3; ++id) {
      auto held = Node(id).replica().Get(shard, "ns", path);
      ASSERT_TRUE(held.ok()) << "node " << id << " lacks " << path;
      EXPECT_EQ(held->object_id, static_cast<uint64_t>(i + 1));
    }
  }
}

TEST_F(ShardedMetadataStoreTest, LosingNodesKeepsAcknowledgedWritesAndRejoinersCatchUp) {
  Start(4, 3);
  Publish({1, 2, 3, 4});
  std::map<std::string, uint64_t> acked;
  int next = 0;
  auto write_some = [&](uint32_t via, int count) {
    for (int i = 0; i < count; ++i, ++next) {
      std::string path = "d" + std::to_string(next % 9) + "/f" + std::to_string(next);
      auto put = Node(via).Put(Record(path, 1000 + next));
      ASSERT_TRUE(put.ok()) << put.status().ToString();
      acked[path] = 1000 + next;
    }
  };
  write_some(2, 50);
  Kill(1);
  Publish({2, 3, 4});
  write_some(3, 50);
  Restart(1);  // back with what it had before it died
  Kill(2);
  Publish({1, 3, 4});  // shards that lost node 2 take node 1, which lags
  write_some(1, 50);
  for (uint32_t via : {1u, 3u, 4u}) {
    for (const auto& [path, object_id] : acked) {
      auto got = Node(via).Get("ns", path);
      ASSERT_TRUE(got.ok()) << path << " via " << via << ": " << got.status().ToString();
      EXPECT_EQ(got->object_id, object_id) << path;
    }
  }
  // Every replica of the current map holds every record of its shards.
  for (const auto& [path, object_id] : acked) {
    uint32_t shard = cluster::ShardOf("ns", path, kShards);
    for (uint32_t node : map_.shards[shard].nodes) {
      auto held = Node(node).replica().Get(shard, "ns", path);
      ASSERT_TRUE(held.ok()) << "replica " << node << " lacks " << path;
      EXPECT_EQ(held->object_id, object_id);
    }
  }
}

TEST_F(ShardedMetadataStoreTest, ADeposedPrimaryCannotCommit) {
  request_wait_ = 300ms;  // every refusal below waits this out
  Start(3, 3);
  Publish({1, 2, 3});
  ASSERT_TRUE(Node(1).Put(Record("a/before", 1)).ok());
  // Node 1 is cut off: the others move to a new epoch without it and it
  // never hears of it.
  Publish({2, 3});
  ASSERT_TRUE(Node(2).Put(Record("a/after", 2)).ok());
  // Node 1 still routes by the old map: wherever it is still primary, its
  // replicas promised the new epoch and refuse; wherever it is not, the
  // new primary refuses its epoch.
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    std::string path = "x" + std::to_string(i) + "/stale";
    auto put = Node(1).Put(Record(path, 100 + i));
    EXPECT_FALSE(put.ok()) << path;
    if (!put.ok()) ++refused;
    EXPECT_EQ(Node(2).Get("ns", path).status().code(), StatusCode::kNotFound) << path;
  }
  EXPECT_EQ(refused, 8);
  EXPECT_EQ(Node(3).Get("ns", "a/before")->object_id, 1u);
}

TEST_F(ShardedMetadataStoreTest, AFailedBatchIsIndeterminateAndReplicasReconcile) {
  Start(3, 3);
  Publish({1, 2, 3});
  // Find a path whose shard node 1 leads.
  std::string path;
  for (int i = 0; path.empty(); ++i) {
    std::string candidate = "p" + std::to_string(i) + "/f";
    if (map_.shards[cluster::ShardOf("ns", candidate, kShards)].nodes.front() == 1)
      path = candidate;
  }
  ASSERT_TRUE(Node(1).Put(Record(path, 1)).ok());
  const uint32_t shard = cluster::ShardOf("ns", path, kShards);
  reach_[3]->refuse_appends = true;  // node 3's disk fails: the batch stops half-way
  auto put = Node(1).Put(Record(path, 2));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kIndeterminate) << put.status().ToString();
  // Until node 3 takes writes again the shard serves nothing.
  EXPECT_FALSE(Node(2).Get("ns", path).ok());
  reach_[3]->refuse_appends = false;
  // The primary catches up again on its own; every replica then agrees.
  Result<FileRecord> got = Status::Unavailable("not yet");
  for (int i = 0; i < 50 && !got.ok(); ++i) {
    got = Node(2).Get("ns", path);
    if (!got.ok()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  for (uint32_t id = 1; id <= 3; ++id) {
    auto held = Node(id).replica().Get(shard, "ns", path);
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(held->object_id, got->object_id) << "replica " << id << " disagrees";
  }
}

TEST_F(ShardedMetadataStoreTest, AFailedBatchsVersionIsNeverReused) {
  Start(3, 3);
  Publish({1, 2, 3});
  std::string path;
  for (int i = 0; path.empty(); ++i) {
    std::string candidate = "q" + std::to_string(i) + "/f";
    if (map_.shards[cluster::ShardOf("ns", candidate, kShards)].nodes.front() == 1)
      path = candidate;
  }
  const uint32_t shard = cluster::ShardOf("ns", path, kShards);
  ASSERT_TRUE(Node(1).Put(Record(path, 1)).ok());
  const LogVersion first = Node(1).replica().Position(shard)->applied;
  // Both replicas fail the next batch: no one applies it, but either could
  // still apply it late, so its version must never name another write.
  reach_[2]->refuse_appends = true;
  reach_[3]->refuse_appends = true;
  EXPECT_EQ(Node(1).Put(Record(path, 2)).status().code(), StatusCode::kIndeterminate);
  reach_[2]->refuse_appends = false;
  reach_[3]->refuse_appends = false;
  Result<std::optional<FileRecord>> put = Status::Unavailable("not yet");
  for (int i = 0; i < 50 && !put.ok(); ++i) {
    put = Node(1).Put(Record(path, 3));
    if (!put.ok()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  const LogVersion next = Node(1).replica().Position(shard)->applied;
  EXPECT_EQ(next.epoch, first.epoch);
  EXPECT_EQ(next.seq, first.seq + 2) << "the failed batch's version was handed out again";
}

TEST_F(ShardedMetadataStoreTest, ConcurrentWritersShareRounds) {
  Start(3, 3);
  Publish({1, 2, 3});
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        // Few directories: many writers per shard at once.
        std::string path =
            "hot" + std::to_string(i % 2) + "/t" + std::to_string(t) + "-" + std::to_string(i);
        if (!Node(1 + t % 3).Put(Record(path, t * 100 + i + 1)).ok()) ++failures;
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Node(2).List("ns", "hot", "", 1000)->files.size(), 400u);
}

TEST_F(ShardedMetadataStoreTest, NoMapMeansUnavailableAndAGateStopsService) {
  Start(1, 1);
  auto early = Node(1).Get("ns", "a/b");
  EXPECT_EQ(early.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(early.status().message().find("no metadata shard map"), std::string::npos);
  Publish({1});
  ASSERT_TRUE(Node(1).Put(Record("a/b", 1)).ok());
  EXPECT_EQ(Node(1).Stats().led, kShards);
  EXPECT_EQ(Node(1).Stats().serving, kShards);
}

}  // namespace
}  // namespace tessera::meta
