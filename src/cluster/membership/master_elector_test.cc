// Master election against a real etcd: choice by priority, failover when the
// master's lease expires, no failback, stepping down without quorum, and the
// membership session coming back after etcd does.
#include "cluster/membership/master_elector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <mutex>
#include <set>
#include <vector>

#include "cluster/membership/master.h"
#include "cluster/membership/membership.h"
#include "cluster/membership/registry.h"
#include "cluster/membership/shard_map_keeper.h"
#include "tests/support/etcd_process.h"
#include "tests/support/etcd_test.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

// One in-process node: membership plus an elector fed from its view.
struct Node {
  uint32_t id = 0;
  std::unique_ptr<Membership> membership;
  std::unique_ptr<MasterElector> elector;
  std::atomic<bool> force_not_quorate{false};
  std::mutex mu;
  std::vector<std::pair<bool, int64_t>> changes;  // what on_change saw

  std::vector<std::pair<bool, int64_t>> Changes() {
    std::lock_guard<std::mutex> lock(mu);
    return changes;
  }
};

class MasterElectorTest : public testing::SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    cluster_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  // Registers a node with `priority`; Start() brings it up.
  uint32_t Register(int64_t priority) {
    auto r = RegisterNode(client_.get(), cluster_, "127.0.0.1:1");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(SetPriority(client_.get(), cluster_, r->array_id, priority).ok());
    return r->array_id;
  }

  // `ineligible`: the nodes this one's elector treats as soft-failed.
  std::unique_ptr<Node> Start(uint32_t id, std::set<uint32_t> ineligible = {}) {
    auto node = std::make_unique<Node>();
    node->id = id;
    MembershipOptions options;
    options.ttl_seconds = 2;
    options.proposer_poll = 100ms;
    auto m = Membership::Start(client_.get(), cluster_, id, options, [](const std::string&) {});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    node->membership = std::move(m).value();
    Node* raw = node.get();
    node->elector = std::make_unique<MasterElector>(
        client_.get(), cluster_, id,
        [raw, ineligible] {
          MembershipView v = raw->membership->View();
          MasterElector::Inputs in;
          in.quorate = v.quorate && !raw->force_not_quorate.load();
          in.lease_id = v.lease_id;
          if (v.group) {
            for (const auto& [member, drives] : v.group->group.members) in.members.insert(member);
          }
          in.ineligible = ineligible;
          return in;
        },
        [raw](bool is_master, int64_t token) {
          // The elector reports the new state before anyone is told.
          if (raw->elector) {
            EXPECT_EQ(raw->elector->is_master(), is_master);
          }
          std::lock_guard<std::mutex> lock(raw->mu);
          raw->changes.emplace_back(is_master, token);
        },
        50ms);
    return node;
  }

  std::optional<MasterRecord> Master() {
    auto m = ReadMaster(client_.get(), cluster_);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : std::nullopt;
  }
  int64_t PriorityOf(uint32_t id) {
    auto p = ReadPriorities(client_.get(), cluster_);
    EXPECT_TRUE(p.ok());
    return p.ok() && p->count(id) ? p->at(id) : 0;
  }
  // Exactly one node thinks it is master, and it is `id`.
  bool OnlyMasterIs(const std::vector<std::unique_ptr<Node>>& nodes, uint32_t id) {
    for (const auto& n : nodes) {
      if (n && n->elector->is_master() != (n->id == id)) return false;
    }
    auto m = Master();
    return m && m->array_id == id;
  }

  std::string cluster_;
};

// Priorities written straight to etcd can be anything: a new master tied
// at the largest one keeps it rather than wrapping to the smallest.
TEST_F(MasterElectorTest, APriorityAtTheTopDoesNotWrap) {
  constexpr int64_t kTop = std::numeric_limits<int64_t>::max();
  uint32_t a = Register(kTop), b = Register(kTop);
  std::vector<std::unique_ptr<Node>> nodes;
  for (uint32_t id : {a, b}) nodes.push_back(Start(id));
  ASSERT_TRUE(WaitFor([&] { return OnlyMasterIs(nodes, a); }, 8s));
  std::this_thread::sleep_for(300ms);  // past the raise, had there been one
  EXPECT_EQ(PriorityOf(a), kTop);
  EXPECT_EQ(PriorityOf(b), kTop);
}

TEST_F(MasterElectorTest, HighestPriorityWinsFailsOverAndDoesNotFailBack) {
  uint32_t a = Register(10), b = Register(50), c = Register(50);
  std::vector<std::unique_ptr<Node>> nodes;
  for (uint32_t id : {a, b, c}) nodes.push_back(Start(id));

  // b and c tie at 50: the lower id wins, and raises itself above c.
  ASSERT_TRUE(WaitFor([&] { return OnlyMasterIs(nodes, b); }, 8s));
  MasterRecord first = *Master();
  EXPECT_GT(first.token, 0);
  EXPECT_EQ(nodes[1]->elector->token(), first.token);
  EXPECT_EQ(PriorityOf(b), 51);
  ASSERT_TRUE(WaitFor([&] { return nodes[0]->elector->known_master() == b; }, 2s));
  EXPECT_EQ(nodes[1]->Changes(), (std::vector<std::pair<bool, int64_t>>{{true, first.token}}));
  EXPECT_TRUE(nodes[0]->Changes().empty());

  // b hangs (its lease is left to expire): c has the highest priority left.
  nodes[1].reset();
  ASSERT_TRUE(WaitFor([&] { return OnlyMasterIs(nodes, c); }, 8s));
  MasterRecord second = *Master();
  EXPECT_GT(second.token, first.token);
  EXPECT_EQ(PriorityOf(c), 52);  // above b's 51

  // b returns with a higher configured priority than a: c stays master.
  nodes[1] = Start(b);
  ASSERT_TRUE(WaitFor([&] { return nodes[1]->membership->View().quorate; }, 8s));
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(OnlyMasterIs(nodes, c));
  EXPECT_EQ(Master()->token, second.token);
  EXPECT_TRUE(nodes[1]->Changes().empty());
}

TEST_F(MasterElectorTest, MasterWithoutQuorumStepsDownAndReleases) {
  uint32_t a = Register(5), b = Register(1), c = Register(1);
  std::vector<std::unique_ptr<Node>> nodes;
  for (uint32_t id : {a, b, c}) nodes.push_back(Start(id));
  ASSERT_TRUE(WaitFor([&] { return OnlyMasterIs(nodes, a); }, 8s));
  int64_t token = nodes[0]->elector->token();

  nodes[0]->force_not_quorate = true;
  nodes[0]->elector->Poke();
  // a steps down (on_change false with its old token) and deletes its key.
  // It is still the live member with the highest priority, so the others
  // wait for it rather than elect a lower one.
  ASSERT_TRUE(WaitFor([&] { return !nodes[0]->elector->is_master() && !Master(); }, 8s));
  EXPECT_EQ(nodes[0]->Changes(),
            (std::vector<std::pair<bool, int64_t>>{{true, token}, {false, token}}));
  EXPECT_EQ(nodes[0]->elector->token(), 0);
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(Master().has_value());
  EXPECT_FALSE(nodes[1]->elector->is_master());
  // A master-only action fenced by a's old token no longer applies.
  auto fenced = client_->Txn({MasterTokenHolds(cluster_, token)},
                             {TxnOp::Put(PriorityKey(cluster_, a), "999")}, {});
  ASSERT_TRUE(fenced.ok());
  EXPECT_FALSE(fenced->succeeded);

  // Quorate again, a takes over with a new tenure.
  nodes[0]->force_not_quorate = false;
  nodes[0]->elector->Poke();
  ASSERT_TRUE(WaitFor([&] { return OnlyMasterIs(nodes, a); }, 8s));
  EXPECT_GT(nodes[0]->elector->token(), token);
}

TEST_F(MasterElectorTest, SoftFailedNodesAreNotElected) {
  uint32_t a = Register(100), b = Register(1);
  // a is live with the highest priority but soft-failed, as both see it:
  // b, the only eligible node, becomes master.
  std::vector<std::unique_ptr<Node>> nodes;
  nodes.push_back(Start(b, {a}));
  nodes.push_back(Start(a, {a}));
  ASSERT_TRUE(WaitFor([&] { return OnlyMasterIs(nodes, b); }, 8s));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(OnlyMasterIs(nodes, b));
  EXPECT_TRUE(nodes[1]->Changes().empty());
}

TEST(MembershipRejoinTest, SessionComesBackAfterEtcdDoes) {
  testing::TempDir dir;
  testing::EtcdCluster etcd(dir.path(), 1);
  std::string why;
  ASSERT_TRUE(etcd.Start(&why)) << why;
  auto c = EtcdClient::Create(etcd.endpoints());
  ASSERT_TRUE(c.ok());
  const std::string cluster = "rejoin";
  auto reg = RegisterNode(c->get(), cluster, "n1");
  ASSERT_TRUE(reg.ok());
  MembershipOptions options;
  options.ttl_seconds = 2;
  options.proposer_poll = 100ms;
  options.rejoin_interval = 100ms;
  auto m = Membership::Start(c->get(), cluster, reg->array_id, options, [](const std::string&) {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return (*m)->View().quorate; }, 5s)) << (*m)->View().reason;
  int64_t first_lease = (*m)->View().lease_id;
  EXPECT_NE(first_lease, 0);

  etcd.Stop(0);
  ASSERT_TRUE(WaitFor([&] { return (*m)->View().session_lost; }, 3s));
  MembershipView lost = (*m)->View();
  EXPECT_FALSE(lost.quorate);
  EXPECT_EQ(lost.reason, "etcd session lost");
  EXPECT_EQ(lost.lease_id, 0);

  ASSERT_TRUE(etcd.Restart(0, &why)) << why;
  ASSERT_TRUE(WaitFor([&] { return (*m)->View().quorate; }, 10s)) << (*m)->View().reason;
  MembershipView back = (*m)->View();
  EXPECT_NE(back.lease_id, 0);
  EXPECT_NE(back.lease_id, first_lease);
  auto live = (*c)->Get(ClusterPrefix(cluster) + "live/" + std::to_string(reg->array_id));
  ASSERT_TRUE(live.ok() && live->kv.has_value());
  EXPECT_EQ(live->kv->lease, back.lease_id);
}

}  // namespace
}  // namespace tessera::cluster

namespace tessera::cluster {
namespace {

TEST_F(MasterElectorTest, OnlyTheCurrentMasterPublishesTheShardMap) {
  // A master key held by "node 1": its create_revision is the token.
  ASSERT_TRUE(client_->Put(MasterKey(cluster_), MasterRecordJson({1, 0, 0})).ok());
  auto master = ReadMaster(client_.get(), cluster_);
  ASSERT_TRUE(master.ok() && master->has_value());
  const int64_t token = (*master)->token;

  GroupRecord group;
  group.epoch = 10;
  for (uint32_t n : {1u, 2u, 3u, 4u}) group.group.members[n] = IdSet{0};
  group.group.soft_failed.push_back(DeviceRef{4, std::nullopt});
  auto out = PublishShardMap(client_.get(), cluster_, token, group, 8, 3);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, PublishOutcome::kWritten);
  auto map = ReadShardMap(client_.get(), cluster_);
  ASSERT_TRUE(map.ok() && map->has_value());
  EXPECT_EQ((*map)->epoch, 10);
  ASSERT_EQ((*map)->shards.size(), 8u);
  for (const ShardReplicas& r : (*map)->shards) {
    EXPECT_EQ(r.nodes.size(), 3u);
    for (uint32_t n : r.nodes) EXPECT_NE(n, 4u) << "a soft-failed node gets no shard";
  }

  // Same epoch again: nothing to do. A stale token: refused, nothing written.
  EXPECT_EQ(*PublishShardMap(client_.get(), cluster_, token, group, 8, 3),
            PublishOutcome::kUpToDate);
  group.epoch = 11;
  group.group.members.erase(2);
  EXPECT_EQ(*PublishShardMap(client_.get(), cluster_, token + 1000, group, 8, 3),
            PublishOutcome::kNotMaster);
  EXPECT_EQ((*ReadShardMap(client_.get(), cluster_))->epoch, 10);

  // The master publishes the next epoch: node 2's places go to survivors,
  // which keep theirs.
  EXPECT_EQ(*PublishShardMap(client_.get(), cluster_, token, group, 8, 3),
            PublishOutcome::kWritten);
  auto next = ReadShardMap(client_.get(), cluster_);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->epoch, 11);
  for (size_t s = 0; s < 8; ++s) {
    const auto& after = (*next)->shards[s].nodes;
    EXPECT_EQ(std::count(after.begin(), after.end(), 2u), 0);
    EXPECT_EQ(after.size(), 2u) << "only nodes 1 and 3 are eligible";
  }
}

}  // namespace
}  // namespace tessera::cluster
