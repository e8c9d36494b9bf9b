// Membership against a real etcd: identities, liveness, group proposal and
// the group log.
#include "cluster/membership/membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/group_log.h"
#include "cluster/group_notation.h"
#include "cluster/membership/group_proposer.h"
#include "cluster/membership/live_presence.h"
#include "cluster/membership/registry.h"
#include "tests/support/etcd_process.h"
#include "tests/support/etcd_test.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::EtcdCluster;
using testing::TempDir;
using testing::WaitFor;

// Collects the lines one GroupWatcher logs.
class LineLog {
 public:
  GroupWatcher::Sink sink() {
    return [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  // The groups as `tessera timeline` reads them; fails the test if it cannot.
  std::vector<LoggedGroup> Parsed() {
    std::string text;
    for (const std::string& l : lines()) text += l + "\n";
    Result<std::vector<LoggedGroup>> r = ParseGroupLog(text);
    EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << text;
    return r.ok() ? *r : std::vector<LoggedGroup>{};
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

uint64_t SerialOf(const GroupState& g) { return std::get<SerialSequence>(g.sequence).serial; }
uint32_t InitiatorOf(const GroupState& g) { return std::get<SerialSequence>(g.sequence).initiator; }

class MembershipTest : public testing::SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    cluster_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  std::string cluster_;
};

TEST_F(MembershipTest, ConcurrentRegistrationsGetUniqueIdsNeverReused) {
  constexpr int kThreads = 20;
  std::vector<Result<NodeRecord>> results(kThreads, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = RegisterNode(client_.get(), cluster_, "10.0.0." + std::to_string(i) + ":8080");
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<uint32_t> ids, lnns;
  std::set<std::string> guids;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ids.insert(r->array_id);
    lnns.insert(r->lnn);
    guids.insert(r->guid);
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(*ids.begin(), 1u);
  EXPECT_EQ(*ids.rbegin(), 20u);
  EXPECT_EQ(lnns.size(), 20u);
  EXPECT_EQ(*lnns.rbegin(), 20u);
  EXPECT_EQ(guids.size(), 20u);
  auto listed = ListNodes(client_.get(), cluster_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 20u);
  for (const auto& r : results) {
    EXPECT_EQ((*listed)[r->array_id - 1], *r);
  }

  // Remove the highest id and two others; new nodes get fresh ids.
  ASSERT_TRUE(RemoveNode(client_.get(), cluster_, 20).ok());
  ASSERT_TRUE(RemoveNode(client_.get(), cluster_, 7).ok());
  EXPECT_EQ(RemoveNode(client_.get(), cluster_, 7).code(), StatusCode::kNotFound);
  for (uint32_t expected = 21; expected <= 23; ++expected) {
    auto r = RegisterNode(client_.get(), cluster_, "10.0.1.1:8080");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->array_id, expected);
  }
}

TEST_F(MembershipTest, LnnIsLowestFreeAndReusedAfterRemoval) {
  std::vector<NodeRecord> nodes;
  for (int i = 0; i < 3; ++i) {
    auto r =
        RegisterNode(client_.get(), cluster_, "h" + std::to_string(i), "guid-" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    nodes.push_back(*r);
  }
  EXPECT_EQ(nodes[0].lnn, 1u);
  EXPECT_EQ(nodes[1].lnn, 2u);
  EXPECT_EQ(nodes[2].lnn, 3u);
  EXPECT_EQ(nodes[2].guid, "guid-2");
  ASSERT_TRUE(RemoveNode(client_.get(), cluster_, nodes[1].array_id).ok());
  auto again = RegisterNode(client_.get(), cluster_, "h3");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->array_id, 4u);
  EXPECT_EQ(again->lnn, 2u);
  auto next = RegisterNode(client_.get(), cluster_, "h4");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->array_id, 5u);
  EXPECT_EQ(next->lnn, 4u);
  EXPECT_EQ(RegisterNode(client_.get(), cluster_, "").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(MembershipTest, AddressesAreUpdatedAndOldRecordsParse) {
  auto r = RegisterNode(client_.get(), cluster_, "127.0.0.1:1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rpc_address, "");
  ASSERT_TRUE(
      UpdateNodeAddresses(client_.get(), cluster_, r->array_id, "127.0.0.1:2", "127.0.0.1:3").ok());
  auto nodes = ListNodes(client_.get(), cluster_);
  ASSERT_TRUE(nodes.ok() && nodes->size() == 1u);
  EXPECT_EQ((*nodes)[0].address, "127.0.0.1:2");
  EXPECT_EQ((*nodes)[0].rpc_address, "127.0.0.1:3");
  EXPECT_EQ(UpdateNodeAddresses(client_.get(), cluster_, 999, "a:1", "").code(),
            StatusCode::kFailedPrecondition);
  auto old = ParseNodeRecord(R"({"array_id":4,"lnn":2,"address":"h:1","guid":"g"})");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->rpc_address, "");
}

TEST_F(MembershipTest, DriveKeysFollowTheDrivesANodeHasUp) {
  auto r = RegisterNode(client_.get(), cluster_, "n");
  ASSERT_TRUE(r.ok());
  const uint32_t id = r->array_id;
  auto lnums = [&] {
    auto l = ListDriveLnums(client_.get(), cluster_, id);
    EXPECT_TRUE(l.ok());
    return l.ok() ? *l : std::vector<uint32_t>{};
  };
  ASSERT_TRUE(SyncDriveLnums(client_.get(), cluster_, id, {0, 1, 2}).ok());
  EXPECT_EQ(lnums(), (std::vector<uint32_t>{0, 1, 2}));
  auto down = [&](uint32_t lnum) {
    auto got = client_->Get(ClusterPrefix(cluster_) + "drives/" + std::to_string(id) + "/" +
                            std::to_string(lnum));
    EXPECT_TRUE(got.ok() && got->kv.has_value());
    return got.ok() && got->kv && DriveKeyIsDown(got->kv->value);
  };
  EXPECT_FALSE(down(1));
  // Drive 1 is down: its key stays, marked down, so the group lists it down.
  ASSERT_TRUE(SyncDriveLnums(client_.get(), cluster_, id, {0, 2}).ok());
  EXPECT_EQ(lnums(), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_TRUE(down(1));
  EXPECT_FALSE(down(0));
  // It returns, and a new drive got lnum 5 locally (3 and 4 went to drives
  // that never came up): 1 gets its key back, 3 and 4 are skipped.
  ASSERT_TRUE(SyncDriveLnums(client_.get(), cluster_, id, {0, 1, 2, 5}).ok());
  EXPECT_EQ(lnums(), (std::vector<uint32_t>{0, 1, 2, 5}));
  EXPECT_FALSE(down(1)) << "back up";
  auto next = AllocateDriveLnum(client_.get(), cluster_, id);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 6u) << "lnums are never reused";
  EXPECT_EQ(SyncDriveLnums(client_.get(), cluster_, 999, {0}).code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(MembershipTest, DriveLnumsComeFromAPerNodeCounterAndAreNeverReused) {
  auto a = RegisterNode(client_.get(), cluster_, "a");
  auto b = RegisterNode(client_.get(), cluster_, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  constexpr int kThreads = 8;
  std::vector<Result<uint32_t>> got(kThreads, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { got[i] = AllocateDriveLnum(client_.get(), cluster_, a->array_id); });
  }
  for (std::thread& t : threads) t.join();
  std::set<uint32_t> lnums;
  for (const auto& r : got) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    lnums.insert(*r);
  }
  EXPECT_EQ(lnums, (std::set<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  // Node b has its own counter.
  auto b0 = AllocateDriveLnum(client_.get(), cluster_, b->array_id);
  ASSERT_TRUE(b0.ok());
  EXPECT_EQ(*b0, 0u);
  // Deleting a drive's key does not free its lnum.
  ASSERT_TRUE(
      client_->Delete(ClusterPrefix(cluster_) + "drives/" + std::to_string(a->array_id) + "/7")
          .ok());
  auto a8 = AllocateDriveLnum(client_.get(), cluster_, a->array_id);
  ASSERT_TRUE(a8.ok());
  EXPECT_EQ(*a8, 8u);
  EXPECT_EQ(AllocateDriveLnum(client_.get(), cluster_, 99).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(MembershipTest, SnapshotComputesGroupFromNodesLiveStatesAndDrives) {
  std::vector<uint32_t> ids;
  for (int i = 0; i < 4; ++i) {
    auto r = RegisterNode(client_.get(), cluster_, "n" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    ids.push_back(r->array_id);
    ASSERT_TRUE(AllocateDriveLnum(client_.get(), cluster_, r->array_id).ok());
    ASSERT_TRUE(AllocateDriveLnum(client_.get(), cluster_, r->array_id).ok());
  }
  const std::string live = ClusterPrefix(cluster_) + "live/";
  ASSERT_TRUE(client_->Put(live + "1", "1").ok());
  ASSERT_TRUE(client_->Put(live + "2", "2").ok());
  ASSERT_TRUE(client_->Put(live + "4", "4").ok());
  ASSERT_TRUE(SetPersistentState(client_.get(), cluster_, 2, {.soft_failed = true}).ok());
  ASSERT_TRUE(SetPersistentState(client_.get(), cluster_, 3, {.read_only = true}).ok());
  ASSERT_TRUE(SetPersistentState(client_.get(), cluster_, 4, {.dead = true}).ok());
  EXPECT_EQ(SetPersistentState(client_.get(), cluster_, 9, {.dead = true}).code(),
            StatusCode::kFailedPrecondition);
  auto snap = ReadClusterSnapshot(client_.get(), cluster_);
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(FormatGroupNotation(snap->computed),
            "{ 1-2:0-1, down: 3, soft_failed: 2, dead: 4, read_only: 3 }");
  EXPECT_EQ(snap->live, (std::vector<uint32_t>{1, 2}));
  EXPECT_FALSE(snap->current.has_value());

  // Only the lowest live node proposes; the first group's cause is merge.
  auto not_me = ProposeGroupOnce(client_.get(), cluster_, 2);
  ASSERT_TRUE(not_me.ok());
  EXPECT_EQ(*not_me, ProposeOutcome::kNotProposer);
  auto wrote = ProposeGroupOnce(client_.get(), cluster_, 1);
  ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
  EXPECT_EQ(*wrote, ProposeOutcome::kWritten);
  auto same = ProposeGroupOnce(client_.get(), cluster_, 1);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, ProposeOutcome::kUnchanged);
  auto stored = client_->Get(ClusterPrefix(cluster_) + "group");
  ASSERT_TRUE(stored.ok() && stored->kv);
  auto record = ParseGroupRecord(stored->kv->value, stored->kv->mod_revision);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->group, snap->computed);
  EXPECT_EQ(record->initiator, 1u);
  EXPECT_EQ(record->cause, GroupCause::kMerge);

  // A new drive on a member is a drive change; a state change is config.
  ASSERT_TRUE(AllocateDriveLnum(client_.get(), cluster_, 1).ok());
  ASSERT_TRUE(ProposeGroupOnce(client_.get(), cluster_, 1).ok());
  stored = client_->Get(ClusterPrefix(cluster_) + "group");
  EXPECT_EQ(ParseGroupRecord(stored->kv->value, 0)->cause, GroupCause::kDrive);
  ASSERT_TRUE(SetPersistentState(client_.get(), cluster_, 2, {}).ok());
  ASSERT_TRUE(ProposeGroupOnce(client_.get(), cluster_, 1).ok());
  stored = client_->Get(ClusterPrefix(cluster_) + "group");
  auto config = ParseGroupRecord(stored->kv->value, 0);
  EXPECT_EQ(config->cause, GroupCause::kConfig);
  EXPECT_EQ(FormatGroupNotation(config->group), "{ 1:0-2, 2:0-1, down: 3, dead: 4, read_only: 3 }");

  // A member's drive that is not up (lost, removed, replaced) is listed
  // down, which is what starts FlexProtect, and the same group is proposed
  // once, not again and again; back up, it is a member drive again.
  ASSERT_TRUE(SyncDriveLnums(client_.get(), cluster_, 2, {0}).ok());
  ASSERT_TRUE(ProposeGroupOnce(client_.get(), cluster_, 1).ok());
  stored = client_->Get(ClusterPrefix(cluster_) + "group");
  auto drive_down = ParseGroupRecord(stored->kv->value, 0);
  EXPECT_EQ(drive_down->cause, GroupCause::kDrive);
  EXPECT_EQ(FormatGroupNotation(drive_down->group),
            "{ 1:0-2, 2:0, down: 2:1, 3, dead: 4, read_only: 3 }");
  EXPECT_EQ(*ProposeGroupOnce(client_.get(), cluster_, 1), ProposeOutcome::kUnchanged);
  ASSERT_TRUE(SyncDriveLnums(client_.get(), cluster_, 2, {0, 1}).ok());
  ASSERT_TRUE(ProposeGroupOnce(client_.get(), cluster_, 1).ok());
  stored = client_->Get(ClusterPrefix(cluster_) + "group");
  EXPECT_EQ(FormatGroupNotation(ParseGroupRecord(stored->kv->value, 0)->group),
            "{ 1:0-2, 2:0-1, down: 3, dead: 4, read_only: 3 }");
}

TEST_F(MembershipTest, RacingProposersOneCasWinsPerEpochAndNoUpdateIsLost) {
  const std::string key = ClusterPrefix(cluster_) + "group";
  GroupRecord base;
  base.group.members[1] = IdSet{0};
  auto first = CompareAndSwapGroup(client_.get(), cluster_, 0, base);
  ASSERT_TRUE(first.ok() && first->has_value());
  // A second create from epoch 0 loses.
  auto again = CompareAndSwapGroup(client_.get(), cluster_, 0, base);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());

  // Eight proposers read the same epoch and race; exactly one wins.
  constexpr int kProposers = 8;
  std::barrier sync(kProposers);
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kProposers; ++i) {
    threads.emplace_back([&, i] {
      GroupRecord mine = base;
      mine.initiator = static_cast<uint32_t>(i + 1);
      sync.arrive_and_wait();
      auto r = CompareAndSwapGroup(client_.get(), cluster_, **first, mine);
      if (r.ok() && r->has_value()) wins.fetch_add(1);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);

  // Each proposer adds itself to a service by read-modify-CAS; losers
  // re-read and retry. Every addition must survive, each at its own epoch.
  std::mutex mu;
  std::set<int64_t> epochs;
  threads.clear();
  for (int i = 0; i < kProposers; ++i) {
    threads.emplace_back([&, i] {
      sync.arrive_and_wait();
      for (int attempt = 0; attempt < 200; ++attempt) {
        auto got = client_->Get(key);
        if (!got.ok() || !got->kv) continue;
        auto rec = ParseGroupRecord(got->kv->value, got->kv->mod_revision);
        if (!rec.ok()) continue;
        GroupRecord next = *rec;
        if (next.group.services.empty()) next.group.services.push_back({"svc", IdSet{}});
        next.group.services[0].second.Insert(static_cast<uint32_t>(i + 1));
        auto r = CompareAndSwapGroup(client_.get(), cluster_, rec->epoch, next);
        if (r.ok() && r->has_value()) {
          std::lock_guard<std::mutex> lock(mu);
          epochs.insert(**r);
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(epochs.size(), static_cast<size_t>(kProposers));
  auto final_kv = client_->Get(key);
  ASSERT_TRUE(final_kv.ok() && final_kv->kv);
  auto final_rec = ParseGroupRecord(final_kv->kv->value, final_kv->kv->mod_revision);
  ASSERT_TRUE(final_rec.ok());
  ASSERT_EQ(final_rec->group.services.size(), 1u);
  EXPECT_EQ(final_rec->group.services[0].second.ToString(), "1-8");
  EXPECT_EQ(final_rec->epoch, *epochs.rbegin());
}

// Three nodes with presence, proposer and watcher each. Node 3 hangs (stops
// refreshing): its live key expires, node 1 writes a split; node 3 returns:
// merge; node 1 hangs: node 2, now the lowest live node, writes the split.
TEST_F(MembershipTest, SplitAndMergeAreProposedAndLoggedOncePerWatcher) {
  constexpr int kNodes = 3;
  constexpr int64_t kTtl = 2;
  std::vector<std::unique_ptr<LivePresence>> presence(kNodes);
  std::vector<std::unique_ptr<GroupProposer>> proposers;
  std::vector<std::unique_ptr<GroupWatcher>> watchers;
  std::vector<LineLog> logs(kNodes);
  for (int i = 0; i < kNodes; ++i) {
    auto r = RegisterNode(client_.get(), cluster_, "n" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->array_id, static_cast<uint32_t>(i + 1));
    ASSERT_TRUE(AllocateDriveLnum(client_.get(), cluster_, r->array_id).ok());
  }
  for (int i = 0; i < kNodes; ++i) {
    const uint32_t id = static_cast<uint32_t>(i + 1);
    auto w = GroupWatcher::Start(client_.get(), cluster_, id, logs[i].sink());
    ASSERT_TRUE(w.ok());
    watchers.push_back(std::move(w).value());
  }
  // Every watcher runs before the first group is written, so all of them
  // must log the same history.
  for (int i = 0; i < kNodes; ++i) {
    const uint32_t id = static_cast<uint32_t>(i + 1);
    auto p = LivePresence::Start(client_.get(), cluster_, id, kTtl);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    presence[i] = std::move(p).value();
    proposers.push_back(std::make_unique<GroupProposer>(client_.get(), cluster_, id, 200ms));
  }
  const std::string group_key = ClusterPrefix(cluster_) + "group";
  auto group_is = [&](const std::string& notation) {
    auto g = client_->Get(group_key);
    if (!g.ok() || !g->kv) return false;
    auto rec = ParseGroupRecord(g->kv->value, g->kv->mod_revision);
    return rec.ok() && FormatGroupNotation(rec->group) == notation;
  };
  ASSERT_TRUE(WaitFor([&] { return group_is("{ 1-3:0 }"); }, 5s));

  // Node 3 hangs.
  presence[2]->Stop();
  const std::string live3 = ClusterPrefix(cluster_) + "live/3";
  EXPECT_TRUE(client_->Get(live3)->kv.has_value());
  ASSERT_TRUE(WaitFor([&] { return !client_->Get(live3)->kv.has_value(); }, 6s));
  ASSERT_TRUE(WaitFor([&] { return group_is("{ 1-2:0, down: 3 }"); }, 3s));

  // Node 3 comes back.
  auto back = LivePresence::Start(client_.get(), cluster_, 3, kTtl);
  ASSERT_TRUE(back.ok());
  presence[2] = std::move(back).value();
  ASSERT_TRUE(WaitFor([&] { return group_is("{ 1-3:0 }"); }, 3s));

  // Node 1 hangs: node 2 takes over as proposer.
  proposers[0]->Stop();
  presence[0]->Stop();
  ASSERT_TRUE(WaitFor([&] { return group_is("{ 2-3:0, down: 1 }"); }, 8s));
  const int64_t final_epoch = client_->Get(group_key)->kv->mod_revision;
  for (auto& w : watchers) {
    ASSERT_TRUE(WaitFor([&] { return w->last_epoch() == final_epoch; }, 3s));
  }
  for (auto& p : proposers) p->Stop();
  for (auto& w : watchers) w->Stop();

  // Expected history, as (notation, initiator, cause).
  struct Want {
    std::string notation;
    uint32_t initiator;
    std::string cause;
  };
  const std::vector<Want> want = {{"{ 1-3:0 }", 1, "merge"},
                                  {"{ 1-2:0, down: 3 }", 1, "split"},
                                  {"{ 1-3:0 }", 1, "merge"},
                                  {"{ 2-3:0, down: 1 }", 2, "split"}};
  // The first group may have been written while not every node was live
  // yet (e.g. "{ 1:0, down: 2-3 }"); compare the tail from the first full group.
  std::vector<std::string> reference;
  for (int i = 0; i < kNodes; ++i) {
    SCOPED_TRACE("node " + std::to_string(i + 1));
    std::vector<LoggedGroup> parsed = logs[i].Parsed();
    std::vector<std::string> lines = logs[i].lines();
    ASSERT_EQ(parsed.size(), lines.size());
    // Epochs strictly increase: in order, no duplicates.
    for (size_t k = 1; k < parsed.size(); ++k) {
      EXPECT_LT(SerialOf(parsed[k - 1].group), SerialOf(parsed[k].group)) << lines[k];
    }
    for (const LoggedGroup& g : parsed) EXPECT_EQ(g.node, static_cast<uint32_t>(i + 1));
    ASSERT_GE(parsed.size(), want.size());
    const size_t tail = parsed.size() - want.size();
    for (size_t k = 0; k < want.size(); ++k) {
      GroupState g = parsed[tail + k].group;
      EXPECT_EQ(InitiatorOf(g), want[k].initiator) << lines[tail + k];
      EXPECT_NE(lines[tail + k].find(" cause=" + want[k].cause + " "), std::string::npos)
          << lines[tail + k];
      g.sequence = std::monostate{};
      EXPECT_EQ(FormatGroupNotation(g), want[k].notation) << lines[tail + k];
    }
    // Every watcher logged the same groups at the same epochs.
    std::vector<std::string> mine;
    for (const std::string& l : lines) mine.push_back(l.substr(l.find("new group: ")));
    if (i == 0) {
      reference = mine;
    } else {
      EXPECT_EQ(mine, reference);
    }
  }
}

TEST_F(MembershipTest, FacadeSaysWhetherThisNodeIsInAQuorateGroup) {
  constexpr int kNodes = 3;
  for (int i = 0; i < kNodes; ++i) {
    auto r = RegisterNode(client_.get(), cluster_, "n" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(AllocateDriveLnum(client_.get(), cluster_, r->array_id).ok());
  }
  MembershipOptions options;
  options.ttl_seconds = 2;
  options.proposer_poll = 200ms;
  std::vector<LineLog> logs(kNodes);
  std::vector<std::unique_ptr<Membership>> nodes;
  for (int i = 0; i < kNodes; ++i) {
    auto m = Membership::Start(client_.get(), cluster_, static_cast<uint32_t>(i + 1), options,
                               logs[i].sink());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    nodes.push_back(std::move(m).value());
  }
  for (auto& m : nodes) {
    ASSERT_TRUE(WaitFor(
        [&] {
          MembershipView v = m->View();
          return v.quorate && v.group && v.group->group.members.size() == 3;
        },
        5s))
        << m->View().reason;
  }
  // Nodes 2 and 3 hang: node 1 is alone, 1 of 3 nodes, no quorum.
  nodes.resize(1);
  ASSERT_TRUE(WaitFor(
      [&] {
        MembershipView v = nodes[0]->View();
        return v.group && FormatGroupNotation(v.group->group) == "{ 1:0, down: 2-3 }";
      },
      6s));
  MembershipView alone = nodes[0]->View();
  EXPECT_TRUE(alone.member);
  EXPECT_FALSE(alone.session_lost);
  EXPECT_FALSE(alone.quorum.has_write_quorum);
  EXPECT_FALSE(alone.quorate);
  EXPECT_FALSE(nodes[0]->InQuorateGroup());
  EXPECT_EQ(alone.quorum.configured, 3u);
}

TEST(MembershipSessionTest, SessionLossIsReportedBeforeTheLeaseCouldExpire) {
  TempDir dir;
  EtcdCluster etcd(dir.path(), 1);
  std::string why;
  ASSERT_TRUE(etcd.Start(&why)) << why;
  auto c = EtcdClient::Create(etcd.endpoints());
  ASSERT_TRUE(c.ok());
  EtcdClient* client = c->get();
  const std::string cluster = "session";
  auto node = RegisterNode(client, cluster, "n1");
  ASSERT_TRUE(node.ok());

  LineLog log;
  auto watcher = GroupWatcher::Start(client, cluster, 1, log.sink());
  ASSERT_TRUE(watcher.ok());
  GroupRecord g1;
  g1.group.members[1] = IdSet{};
  g1.initiator = 1;
  auto e1 = CompareAndSwapGroup(client, cluster, 0, g1);
  ASSERT_TRUE(e1.ok() && e1->has_value());

  constexpr int64_t kTtl = 2;
  std::mutex mu;
  std::optional<Clock::time_point> lost_at;
  Status lost_status;
  auto presence = LivePresence::Start(client, cluster, 1, kTtl, [&](const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    lost_at = Clock::now();
    lost_status = s;
  });
  ASSERT_TRUE(presence.ok());
  std::this_thread::sleep_for(1500ms);  // several refreshes
  EXPECT_FALSE((*presence)->lost());
  ASSERT_TRUE(WaitFor([&] { return (*watcher)->last_epoch() == **e1; }, 2s));

  etcd.Stop(0);
  const auto stopped = Clock::now();  // no refresh can succeed after this
  // The write gate goes by the clock: TTL/2 after the last successful
  // refresh was sent (before `stopped`), the node counts itself out, however
  // late its refresh thread gets to run on a loaded machine.
  std::this_thread::sleep_until(stopped + std::chrono::milliseconds(kTtl * 1000 / 2 + 1));
  EXPECT_TRUE((*presence)->lost());
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return lost_at.has_value();
      },
      3s));
  {
    std::lock_guard<std::mutex> lock(mu);
    // The callback comes before the last refresh's lease could expire (TTL
    // after it was sent), so the node stops serving before any other node
    // can see it down.
    EXPECT_LT(*lost_at - stopped, std::chrono::milliseconds(kTtl * 1000));
    EXPECT_NE(lost_status.message().find("session"), std::string::npos) << lost_status.ToString();
  }

  // The group watcher resumes after etcd returns and logs the next group once.
  ASSERT_TRUE(etcd.Restart(0, &why)) << why;
  GroupRecord g2 = g1;
  g2.group.members[2] = IdSet{};
  g2.cause = GroupCause::kMerge;
  auto e2 = CompareAndSwapGroup(client, cluster, **e1, g2);
  ASSERT_TRUE(e2.ok() && e2->has_value()) << e2.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return (*watcher)->last_epoch() == **e2; }, 10s));
  (*watcher)->Stop();
  std::vector<LoggedGroup> parsed = log.Parsed();
  ASSERT_EQ(parsed.size(), 2u) << ::testing::PrintToString(log.lines());
  EXPECT_EQ(SerialOf(parsed[0].group), static_cast<uint64_t>(**e1));
  EXPECT_EQ(SerialOf(parsed[1].group), static_cast<uint64_t>(**e2));
  EXPECT_NE(log.lines()[1].find("cause=merge initiator=1 new group: <1,"), std::string::npos)
      << log.lines()[1];
}

}  // namespace
}  // namespace tessera::cluster
