// RoutingPieceStore over several nodes' real drives: stripes land on
// distinct nodes, reads survive a node that is no longer routed, and
// unrouted nodes are errors.
#include "io/routing_piece_store.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "io/file_reader.h"
#include "io/file_writer.h"
#include "io/io_test_util.h"
#include "io/local_piece_store.h"
#include "tests/support/temp_dir.h"

namespace tessera::io {
namespace {

constexpr int kNodes = 4;
constexpr int kDrivesPerNode = 2;

class RoutingPieceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint32_t node = 1; node <= kNodes; ++node) {
      auto store = std::make_shared<LocalPieceStore>(node);
      for (uint32_t lnum = 0; lnum < kDrivesPerNode; ++lnum) {
        std::string path = dir_.Sub("n" + std::to_string(node) + "d" + std::to_string(lnum));
        store::DriveIdentity id;
        id.cluster_guid = "c";
        id.array_id = node;
        id.lnum = lnum;
        auto drive = store::Drive::Open(path, "c", node, id);
        ASSERT_TRUE(drive.ok()) << drive.status().ToString();
        store->AddDrive(std::move(drive).value());
      }
      nodes_[node] = store;
    }
    router_ = std::make_unique<RoutingPieceStore>(1, nodes_[1].get());
    std::map<uint32_t, std::shared_ptr<PieceStore>> peers(nodes_.begin(), nodes_.end());
    router_->SetPeers(peers);  // includes node 1 itself, which SetPeers ignores
  }

  meta::FileRecord Write(const std::string& policy_text, const std::vector<uint8_t>& content,
                         uint64_t object_id) {
    auto policy = layout::ProtectionPolicy::Parse(policy_text);
    EXPECT_TRUE(policy.ok());
    FileWriter writer(*router_, *policy, object_id);
    EXPECT_TRUE(writer.Write(content).ok());
    auto written = writer.Finish();
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return test_util::RecordFor(*written, policy_text, object_id);
  }

  testing::TempDir dir_;
  std::map<uint32_t, std::shared_ptr<LocalPieceStore>> nodes_;
  std::unique_ptr<RoutingPieceStore> router_;
};

// Counts what reaches a peer's store.
class CountingStore final : public PieceStore {
 public:
  layout::Topology WritableTopology() override { return {}; }
  Status Append(const meta::DriveRef&, const store::PieceId&, std::span<const uint8_t>) override {
    return Status::Ok();
  }
  Status Sync(const std::vector<meta::DriveRef>&) override { return Status::Ok(); }
  Result<std::vector<uint8_t>> Read(const meta::DriveRef&, const store::PieceId&) override {
    return Status::NotFound("none");
  }
  Status Delete(const meta::DriveRef&, const store::PieceId&) override {
    ++deletes;
    return Status::Ok();
  }
  void Forget(const meta::DriveRef&, const store::PieceId&) override { ++forgets; }
  int deletes = 0, forgets = 0;
};

// A writer that aborts while a peer is out of the group must still reach
// that peer's store (which counts its unsent pieces as lost), without
// calling a node that is not a member.
TEST_F(RoutingPieceStoreTest, DeletesOnADepartedPeerForgetThere) {
  auto peer = std::make_shared<CountingStore>();
  RoutingPieceStore router(1, nodes_[1].get());
  router.SetPeers({{5, peer}});
  EXPECT_TRUE(router.Delete({5, 0}, {1, 0}).ok());
  EXPECT_EQ(peer->deletes, 1);
  router.SetPeers({});  // node 5 left the group
  EXPECT_TRUE(router.Delete({5, 0}, {1, 1}).ok());
  EXPECT_EQ(peer->deletes, 1);
  EXPECT_EQ(peer->forgets, 1);
  EXPECT_TRUE(router.Delete({6, 0}, {1, 2}).ok()) << "a node never seen is no error either";
  router.SetPeers({{5, peer}});  // back
  EXPECT_TRUE(router.Delete({5, 0}, {1, 3}).ok());
  EXPECT_EQ(peer->deletes, 2);
  EXPECT_EQ(peer->forgets, 1);
}

TEST_F(RoutingPieceStoreTest, TopologyIsEveryNodesDrives) {
  layout::Topology topology = router_->WritableTopology();
  EXPECT_EQ(topology.drives.size(), static_cast<size_t>(kNodes * kDrivesPerNode));
  EXPECT_EQ(topology.node_count(), kNodes);
}

// Read-only and soft-failed nodes (this one too) get no new pieces, but
// what they hold is still read.
TEST_F(RoutingPieceStoreTest, NodesNotWritableGetNoNewPieces) {
  std::vector<uint8_t> content = test_util::RandomBytes(1024 * 1024, 3);
  meta::FileRecord before = Write("+1", content, 8);
  std::map<uint32_t, std::shared_ptr<PieceStore>> peers(nodes_.begin(), nodes_.end());
  router_->SetPeers(peers, {1, 3});
  layout::Topology topology = router_->WritableTopology();
  EXPECT_EQ(topology.node_count(), kNodes - 2);
  for (const layout::DriveSlot& slot : topology.drives) {
    EXPECT_TRUE(slot.node == 2 || slot.node == 4) << "node " << slot.node << " offered";
  }
  meta::FileRecord after = Write("+1", content, 9);
  for (const meta::DriveRef& d : after.drives) {
    EXPECT_TRUE(d.node == 2 || d.node == 4) << "a unit on node " << d.node;
  }
  auto back = test_util::ReadAll(*router_, before);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == content);

  router_->SetPeers(peers);
  EXPECT_EQ(router_->WritableTopology().node_count(), kNodes);
}

TEST_F(RoutingPieceStoreTest, StripesSpreadOverNodesAndSurviveALostNode) {
  std::vector<uint8_t> content = test_util::RandomBytes(3 * 1024 * 1024 + 17, 1);
  meta::FileRecord record = Write("+1", content, 7);
  // +1 over 4 nodes: each stripe unit on a distinct node.
  std::set<uint32_t> nodes;
  for (const meta::DriveRef& d : record.drives) nodes.insert(d.node);
  EXPECT_EQ(nodes.size(), record.drives.size()) << "one unit per node";
  EXPECT_EQ(nodes.size(), static_cast<size_t>(kNodes));
  for (uint32_t node = 1; node <= kNodes; ++node) {
    EXPECT_GT(
        nodes_[node]->Drives()[0].usage.piece_count + nodes_[node]->Drives()[1].usage.piece_count,
        0u)
        << "node " << node << " holds nothing";
  }
  auto back = test_util::ReadAll(*router_, record);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == content);

  // Node 3 leaves the routing table (it is down): reads rebuild its units.
  std::map<uint32_t, std::shared_ptr<PieceStore>> without3 = {{2, nodes_[2]}, {4, nodes_[4]}};
  router_->SetPeers(without3);
  back = test_util::ReadAll(*router_, record);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == content);
  // Appends to it are refused; deletes of its pieces are not errors.
  std::vector<uint8_t> one = {1};
  Status append = router_->Append({3, 0}, {99, 0}, one);
  EXPECT_EQ(append.code(), StatusCode::kUnavailable);
  EXPECT_NE(append.message().find("node 3"), std::string::npos);
  EXPECT_TRUE(router_->Delete({3, 0}, {7, 0}).ok());
  EXPECT_EQ(router_->Sync({{3, 0}}).code(), StatusCode::kUnavailable);
  EXPECT_EQ(router_->WritableTopology().node_count(), kNodes - 1);
}

TEST_F(RoutingPieceStoreTest, SmallFilesMirrorOnDistinctNodes) {
  std::vector<uint8_t> content = test_util::RandomBytes(5000, 2);
  meta::FileRecord record = Write("+2", content, 8);
  std::set<uint32_t> nodes;
  for (const meta::DriveRef& d : record.drives) nodes.insert(d.node);
  EXPECT_EQ(record.drives.size(), 3u) << "+2: three mirrors";
  EXPECT_EQ(nodes.size(), 3u) << "mirrors on distinct nodes";
  auto back = test_util::ReadAll(*router_, record);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == content);
}

}  // namespace
}  // namespace tessera::io
