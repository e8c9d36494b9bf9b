#include "jobs/protection_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "cluster/group_notation.h"
#include "common/units.h"

namespace tessera::jobs {
namespace {

using cluster::DeviceRef;
using cluster::GroupState;
using cluster::IdSet;
using meta::DriveRef;

// `nodes` members 1..nodes with drives 0..drives-1.
GroupState Group(uint32_t nodes, uint32_t drives) {
  GroupState g;
  for (uint32_t n = 1; n <= nodes; ++n) {
    IdSet set;
    set.InsertRange(0, drives - 1);
    g.members[n] = set;
  }
  return g;
}

// Node `n` leaves the members and is listed down.
void Down(GroupState& g, uint32_t n) {
  g.members.erase(n);
  g.down.push_back({n, std::nullopt});
}

layout::Topology Writable(uint32_t nodes, uint32_t drives) {
  layout::Topology t;
  for (uint32_t n = 1; n <= nodes; ++n) {
    for (uint32_t d = 0; d < drives; ++d) t.drives.push_back({n, d, 1ull << 30});
  }
  return t;
}

// A 3+2 file of 5 stripes on drive 0 of nodes 1..5, or a 3x mirror on 1..3.
meta::FileRecord Striped() {
  meta::FileRecord r;
  r.ns = "ns";
  r.path = "big";
  r.object_id = 77;
  r.size = 5 * 3 * kStripeUnitSize - 1000;
  r.protection = "+2";
  r.geometry.kind = layout::Geometry::Kind::kStripe;
  r.geometry.data_units = 3;
  r.geometry.parity_units = 2;
  r.geometry.unit_size = kStripeUnitSize;
  r.geometry.stripe_count = 5;
  for (uint32_t n = 1; n <= 5; ++n) r.drives.push_back({n, 0});
  return r;
}
meta::FileRecord Mirrored() {
  meta::FileRecord r;
  r.ns = "ns";
  r.path = "small";
  r.object_id = 78;
  r.size = 1000;
  r.protection = "+2";
  r.geometry.kind = layout::Geometry::Kind::kMirror;
  r.geometry.copies = 3;
  for (uint32_t n = 1; n <= 3; ++n) r.drives.push_back({n, 1});
  return r;
}

TEST(DeviceHealthTest, EveryKindOfDeviceState) {
  GroupState g = Group(5, 3);
  Down(g, 2);
  g.members.erase(3);
  g.dead.push_back({3, std::nullopt});
  g.members[4] = IdSet{0, 2};  // drive 1 of node 4 is down
  g.down.push_back({4, IdSet{1}});
  g.soft_failed.push_back({5, std::nullopt});
  g.soft_failed.push_back({1, IdSet{2}});
  g.read_only.Insert(4);
  DeviceHealth h(g);
  struct Row {
    DriveRef d;
    bool available, evacuating, writable;
  };
  const Row rows[] = {
      {{1, 0}, true, false, true},   {{1, 2}, true, true, false},  // soft-failed drive
      {{2, 0}, false, false, false},                               // down node
      {{3, 1}, false, false, false},                               // dead node
      {{4, 0}, true, false, false},                                // read-only node
      {{4, 1}, false, false, false},                               // down drive
      {{5, 0}, true, true, false},                                 // soft-failed node
      {{6, 0}, false, false, false},                               // unknown node
      {{1, 7}, false, false, false},                               // unknown drive
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(std::to_string(r.d.node) + ":" + std::to_string(r.d.lnum));
    EXPECT_EQ(h.Available(r.d), r.available);
    EXPECT_EQ(h.Evacuating(r.d), r.evacuating);
    EXPECT_EQ(h.Writable(r.d), r.writable);
    EXPECT_EQ(h.MustMove(r.d), !r.available || r.evacuating);
  }
  EXPECT_EQ(h.FailedDevices(), (std::vector<std::string>{"node 1 drive 2", "node 2", "node 3",
                                                         "node 4 drive 1", "node 5"}));
  EXPECT_EQ(h.SoftFailedNodes(), std::vector<uint32_t>{5});
  EXPECT_EQ(h.SmartfailsInProgress(), (std::set<std::string>{"node 1 drive 2", "node 5"}));
}

// A smartfailed node that FlexProtect retired keeps its soft_failed flag
// but is dead: no longer to evacuate, retire or start FlexProtect for at
// once.
TEST(DeviceHealthTest, ARetiredNodeIsNoLongerBeingSmartfailed) {
  auto group = cluster::ParseGroupNotation("{ 1-4:0-1, soft_failed: 5, 3:1, dead: 5 }");
  ASSERT_TRUE(group.ok());
  DeviceHealth h(*group);
  EXPECT_TRUE(h.SoftFailedNodes().empty());
  EXPECT_EQ(h.SmartfailsInProgress(), (std::set<std::string>{"node 3 drive 1"}));
  EXPECT_EQ(h.FailedDevices(), (std::vector<std::string>{"node 3 drive 1", "node 5"}));
}

// Every subset of the five nodes down, for a 3+2 stripe on one drive of
// each and a 3x mirror on nodes 1-3.
TEST(ProtectionPlanTest, EverySubsetOfNodesDown) {
  for (int mask = 0; mask < 32; ++mask) {
    GroupState g = Group(5, 3);
    std::set<uint32_t> down;
    for (uint32_t n = 1; n <= 5; ++n) {
      if (mask & (1 << (n - 1))) {
        Down(g, n);
        down.insert(n);
      }
    }
    DeviceHealth h(g);
    SCOPED_TRACE("down mask " + std::to_string(mask));
    for (const meta::FileRecord& r : {Striped(), Mirrored()}) {
      int lost = 0;
      for (const DriveRef& d : r.drives) lost += down.count(d.node);
      FileRisk risk = AssessFile(r, h);
      EXPECT_EQ(risk.stripe_units_lost, lost);
      EXPECT_EQ(risk.tolerance, 2);
      const uint64_t per_drive = r.geometry.kind == layout::Geometry::Kind::kStripe ? 5 : 1;
      EXPECT_EQ(risk.units_unavailable, lost * per_drive);
      EXPECT_EQ(risk.units_evacuating, 0u);
      EXPECT_EQ(risk.needs_protection(), lost > 0);
      EXPECT_EQ(risk.data_unavailable(), lost > 2);

      auto plan = PlanRewrite(r, h, Writable(5, 3));
      ASSERT_TRUE(plan.ok()) << plan.status().ToString();
      EXPECT_EQ(static_cast<int>(plan->lost_indices.size()), lost);
      for (int i : plan->lost_indices) EXPECT_TRUE(down.count(r.drives[i].node));
      const int live_nodes = 5 - static_cast<int>(down.size());
      if (lost == 0) {
        EXPECT_EQ(plan->action, RewritePlan::Action::kNone);
      } else if (lost > 2) {
        EXPECT_EQ(plan->action, RewritePlan::Action::kUnrecoverable);
        EXPECT_NE(plan->why.find("more than its 2 parity"), std::string::npos);
      } else if (live_nodes < 3) {
        // +2 needs three nodes, even for a mirror on distinct drives.
        EXPECT_TRUE(plan->action == RewritePlan::Action::kRewrite ||
                    plan->action == RewritePlan::Action::kNoRoom);
      } else {
        ASSERT_EQ(plan->action, RewritePlan::Action::kRewrite) << plan->why;
        // The new layout: on live nodes (the file's own live drives may
        // serve again: the rewrite has a new object id), one unit per node
        // (+2 on several nodes), as wide as the live nodes allow.
        std::set<uint32_t> nodes;
        for (const layout::DriveSlot& s : plan->placement) {
          EXPECT_FALSE(down.count(s.node));
          EXPECT_TRUE(nodes.insert(s.node).second) << "two units on node " << s.node;
        }
        EXPECT_EQ(static_cast<int>(plan->placement.size()), plan->geometry.width());
        EXPECT_TRUE(plan->geometry.meets_node_tolerance);
        if (r.geometry.kind == layout::Geometry::Kind::kStripe && live_nodes - 2 >= 2) {
          EXPECT_EQ(plan->geometry.data_units, live_nodes - 2);
          EXPECT_EQ(plan->geometry.parity_units, 2);
        } else {  // small, or a stripe too narrow to pay: mirrored m+1 times
          EXPECT_EQ(plan->geometry.kind, layout::Geometry::Kind::kMirror);
          EXPECT_EQ(plan->geometry.copies, 3);
        }
      }
    }
  }
}

TEST(ProtectionPlanTest, SmartfailedNodeIsEvacuatedWhileReadable) {
  GroupState g = Group(6, 2);
  g.soft_failed.push_back({3, std::nullopt});
  DeviceHealth h(g);
  meta::FileRecord r = Striped();
  FileRisk risk = AssessFile(r, h);
  EXPECT_EQ(risk.units_unavailable, 0u);
  EXPECT_EQ(risk.units_evacuating, 5u);
  EXPECT_TRUE(risk.needs_protection());
  EXPECT_FALSE(risk.data_unavailable());
  auto plan = PlanRewrite(r, h, Writable(6, 2));
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->action, RewritePlan::Action::kRewrite) << plan->why;
  EXPECT_EQ(plan->lost_indices, std::vector<int>{2});
  for (const layout::DriveSlot& s : plan->placement) EXPECT_NE(s.node, 3u);
  // 5 nodes are writable: the same 3+2 width again.
  EXPECT_EQ(plan->geometry.data_units, 3);
}

TEST(ProtectionPlanTest, DeterministicAndLeavesOutUnwritableDrives) {
  GroupState g = Group(5, 3);
  Down(g, 5);
  g.read_only.Insert(4);
  DeviceHealth h(g);
  layout::Topology writable = Writable(5, 3);
  layout::Topology target = RewriteTopology(h, writable);
  for (const layout::DriveSlot& s : target.drives) {
    EXPECT_NE(s.node, 4u);
    EXPECT_NE(s.node, 5u);
  }
  // The file's own drives stay usable: the rewrite gets a new object id.
  EXPECT_EQ(target.drives.size(), 3u * 3u);
  auto a = PlanRewrite(Striped(), h, writable);
  auto b = PlanRewrite(Striped(), h, writable);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->placement, b->placement);
}

TEST(ProtectionPlanTest, AFileThatUsedEveryDriveIsRewrittenNarrowerOnTheSurvivors) {
  GroupState g = Group(5, 1);  // one drive per node: the stripe used every drive
  Down(g, 1);
  auto plan = PlanRewrite(Striped(), DeviceHealth(g), Writable(5, 1));
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->action, RewritePlan::Action::kRewrite) << plan->why;
  EXPECT_EQ(plan->geometry.data_units + plan->geometry.parity_units, 4);
  for (const layout::DriveSlot& s : plan->placement) EXPECT_NE(s.node, 1u);
}

TEST(ProtectionPlanTest, NoRoomWhenTooFewDrivesAreWritable) {
  GroupState g = Group(5, 1);
  Down(g, 4);
  Down(g, 5);
  g.read_only.Insert(3);  // 2 writable drives; +2 needs 3
  auto plan = PlanRewrite(Striped(), DeviceHealth(g), Writable(5, 1));
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->action, RewritePlan::Action::kNoRoom);
  EXPECT_NE(plan->why.find("needs"), std::string::npos) << plan->why;
}

TEST(ProtectionPlanTest, SummaryCountsFilesAtRiskAndUnavailable) {
  GroupState g = Group(5, 3);
  Down(g, 1);
  Down(g, 2);
  Down(g, 3);
  ProtectionSummary summary;
  EXPECT_FALSE(summary.below_protection());
  meta::FileRecord striped = Striped();    // 3 of 5 lost: more than its parity
  meta::FileRecord mirrored = Mirrored();  // every copy lost
  meta::FileRecord safe = Mirrored();
  safe.drives = {{4, 0}, {5, 0}, {4, 1}};
  for (const meta::FileRecord* r : {&striped, &mirrored, &safe}) {
    summary.Add(*r, AssessFile(*r, DeviceHealth(g)));
  }
  EXPECT_EQ(summary.files, 3u);
  EXPECT_EQ(summary.bytes, striped.size + 2 * mirrored.size);
  EXPECT_EQ(summary.files_at_risk, 2u);
  EXPECT_EQ(summary.bytes_at_risk, striped.size + mirrored.size);
  EXPECT_EQ(summary.units_at_risk, 3u * 5u + 3u);
  EXPECT_EQ(summary.files_unavailable, 2u);
  EXPECT_TRUE(summary.below_protection());
  ProtectionSummary one_down;
  GroupState g1 = Group(5, 3);
  Down(g1, 5);
  one_down.Add(striped, AssessFile(striped, DeviceHealth(g1)));
  EXPECT_TRUE(one_down.below_protection());
  EXPECT_EQ(one_down.files_unavailable, 0u);
}

TEST(ProtectionPlanTest, BadProtectionIsInvalidArgument) {
  meta::FileRecord r = Striped();
  r.protection = "+9";
  EXPECT_EQ(PlanRewrite(r, DeviceHealth(Group(5, 3)), Writable(5, 3)).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::jobs
