#include "layout/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/units.h"
#include "layout/layout_test_util.h"

namespace tessera::layout {
namespace {

using layout_test::AllPolicies;
using layout_test::LoadPerNode;
using layout_test::MakeTopology;
using layout_test::Mirror;
using layout_test::Parity;
using layout_test::SweepTopologies;
using layout_test::Uniform;

ProtectionPolicy P(const char* text) { return *ProtectionPolicy::Parse(text); }

Geometry StripeOf(int k, int m) {
  Geometry g;
  g.kind = Geometry::Kind::kStripe;
  g.data_units = k;
  g.parity_units = m;
  g.unit_size = kStripeUnitSize;
  g.stripe_count = 1;
  return g;
}

Geometry MirrorOf(int copies) {
  Geometry g;
  g.kind = Geometry::Kind::kMirror;
  g.copies = copies;
  return g;
}

std::vector<DriveSlot> Place(const ProtectionPolicy& policy, const Geometry& geometry,
                             const Topology& topology, uint64_t seed) {
  Result<std::vector<DriveSlot>> placed = PlaceUnits(policy, geometry, topology, seed);
  EXPECT_TRUE(placed.ok()) << placed.status().ToString();
  return placed.ok() ? *placed : std::vector<DriveSlot>{};
}

// The smallest per-node count under which `width` units fit, one per drive.
int EvenestCap(const Topology& topology, int width) {
  std::map<uint32_t, int> per_node;
  for (const DriveSlot& d : topology.drives) ++per_node[d.node];
  for (int cap = 1; cap <= width; ++cap) {
    int fit = 0;
    for (const auto& [node, drives] : per_node) fit += std::min(drives, cap);
    if (fit >= width) return cap;
  }
  return INT_MAX;
}

// Checks the constraints of placement.h on a placement of a geometry
// PlanGeometry produced for `topology` (so every drive has free space).
void ExpectValidPlacement(const ProtectionPolicy& policy, const Geometry& geometry,
                          const Topology& topology, const std::vector<DriveSlot>& placement) {
  ASSERT_EQ(static_cast<int>(placement.size()), geometry.width());
  std::set<std::pair<uint32_t, uint32_t>> used;
  for (const DriveSlot& d : placement) {
    EXPECT_TRUE(used.insert({d.node, d.lnum}).second) << "drive used twice";
    EXPECT_NE(std::find(topology.drives.begin(), topology.drives.end(), d), topology.drives.end())
        << "drive not in topology";
  }
  const int nodes = topology.node_count();
  const std::map<uint32_t, int> load = LoadPerNode(placement);
  int max_load = 0;
  for (const auto& [node, units] : load) max_load = std::max(max_load, units);
  if (nodes > 1) {
    if (geometry.kind == Geometry::Kind::kStripe) {
      EXPECT_LE(max_load, policy.max_units_per_node());
    } else {
      EXPECT_EQ(max_load, EvenestCap(topology, geometry.width()));
      if (geometry.meets_node_tolerance) {
        EXPECT_EQ(max_load, 1);
      }
    }
  }
  // Units reach as many nodes as they can.
  EXPECT_EQ(static_cast<int>(load.size()), std::min(nodes, geometry.width()));
}

// Every geometry PlanGeometry produces for the sweep topologies can be
// placed, for several seeds, within the constraints.
TEST(PlacementTest, PlannedGeometriesPlaceWithinConstraints) {
  int placements = 0;
  for (const ProtectionPolicy& policy : AllPolicies()) {
    for (const Topology& topology : SweepTopologies()) {
      for (uint64_t size : {uint64_t{0}, kGiB}) {
        Result<Geometry> geometry = PlanGeometry(policy, size, topology);
        if (!geometry.ok()) continue;
        for (uint64_t seed = 0; seed < 6; ++seed) {
          SCOPED_TRACE(policy.ToString() + " " + geometry->ToString() + " on " +
                       std::to_string(topology.node_count()) + " nodes, " +
                       std::to_string(topology.drives.size()) + " drives, seed " +
                       std::to_string(seed));
          Result<std::vector<DriveSlot>> placed = PlaceUnits(policy, *geometry, topology, seed);
          ASSERT_TRUE(placed.ok()) << placed.status().ToString();
          ExpectValidPlacement(policy, *geometry, topology, *placed);
          ++placements;
        }
      }
    }
  }
  EXPECT_GT(placements, 10000);
}

TEST(PlacementTest, HandChecked) {
  // +2d:1n on 9 nodes x 2 drives: 16+2 needs every drive, two per node.
  {
    const Topology t = Uniform(9, 2);
    const std::vector<DriveSlot> placed = Place(P("+2d:1n"), StripeOf(16, 2), t, 7);
    ASSERT_EQ(placed.size(), 18u);
    for (const auto& [node, units] : LoadPerNode(placed)) EXPECT_EQ(units, 2) << node;
  }
  // With 20 nodes the same stripe spreads to one unit per node, though the
  // policy would allow two.
  {
    const std::vector<DriveSlot> placed = Place(P("+2d:1n"), StripeOf(16, 2), Uniform(20, 2), 7);
    EXPECT_EQ(LoadPerNode(placed).size(), 18u);
  }
  // Fewer nodes than copies: as even as the nodes allow.
  {
    const std::vector<DriveSlot> placed = Place(P("3x"), MirrorOf(3), Uniform(2, 3), 1);
    std::vector<int> loads;
    for (const auto& [node, units] : LoadPerNode(placed)) loads.push_back(units);
    std::sort(loads.begin(), loads.end());
    EXPECT_EQ(loads, (std::vector<int>{1, 2}));
  }
  {
    const std::vector<DriveSlot> placed = Place(P("5x"), MirrorOf(5), MakeTopology({1, 6}), 1);
    EXPECT_EQ(LoadPerNode(placed), (std::map<uint32_t, int>{{0, 1}, {1, 4}}));
  }
  // One node: drives are the fault domain, so any 4 distinct drives.
  {
    const std::vector<DriveSlot> placed = Place(P("+2"), StripeOf(2, 2), Uniform(1, 4), 3);
    EXPECT_EQ(LoadPerNode(placed), (std::map<uint32_t, int>{{0, 4}}));
  }
}

TEST(PlacementTest, UnavailableWhenConstraintsCannotBeMet) {
  // +2 allows one unit per node: 16+2 cannot fit on 6 nodes.
  Result<std::vector<DriveSlot>> placed = PlaceUnits(P("+2"), StripeOf(16, 2), Uniform(6, 2), 1);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(placed.status().message(),
            "protection +2 cannot place a 16+2 stripe: at most 1 unit per node fits 6 of its "
            "18 units on 6 nodes");
  placed = PlaceUnits(P("+4d:2n"), StripeOf(16, 4), Uniform(3, 4), 1);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().message(),
            "protection +4d:2n cannot place a 16+4 stripe: at most 2 units per node fits 6 of "
            "its 20 units on 3 nodes");
  placed = PlaceUnits(P("+2"), MirrorOf(3), Uniform(1, 2), 1);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(placed.status().message(), "protection +2 needs 3 drives, 2 are writable");
  placed = PlaceUnits(P("+2"), StripeOf(16, 2), Uniform(1, 17), 1);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().message(), "protection +2 needs 18 drives, 17 are writable");
  placed = PlaceUnits(P("4x"), MirrorOf(4), Uniform(3, 1), 1);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().message(), "protection 4x needs 4 drives, 3 are writable");
  placed = PlaceUnits(P("2x"), MirrorOf(INT_MAX), Uniform(3, 3), 1);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().message(), "protection 2x needs 2147483647 drives, 9 are writable");
  placed = PlaceUnits(P("2x"), MirrorOf(2), Topology{}, 1);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().code(), StatusCode::kUnavailable);
}

TEST(PlacementTest, RejectsInvalidInput) {
  const Topology t = Uniform(4, 4);
  struct Case {
    ProtectionPolicy policy;
    Geometry geometry;
    const char* why;
  };
  const std::vector<Case> cases = {
      {Parity(5, 1), MirrorOf(2), "at most 4 failures"},
      {Mirror(1), MirrorOf(1), "a mirror keeps 2 to 8 copies"},
      {P("+2"), MirrorOf(0), "it has no units"},
      {P("+2"), Geometry{}, "it has no units"},
      {P("+2"), StripeOf(0, 2), "data units must be 1 to 16"},
      {P("+2"), StripeOf(INT_MAX, 2), "data units must be 1 to 16"},
      {P("+2"), StripeOf(4, 1), "parity does not match"},
      {P("3x"), StripeOf(2, 2), "parity does not match"},
  };
  for (const Case& c : cases) {
    Result<std::vector<DriveSlot>> placed = PlaceUnits(c.policy, c.geometry, t, 1);
    ASSERT_FALSE(placed.ok()) << c.why;
    EXPECT_EQ(placed.status().code(), StatusCode::kInvalidArgument) << c.why;
    EXPECT_NE(placed.status().message().find(c.why), std::string::npos)
        << placed.status().message();
  }
  Topology twice = t;
  twice.drives.push_back(t.drives[5]);
  Result<std::vector<DriveSlot>> placed = PlaceUnits(P("+1"), MirrorOf(2), twice, 1);
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(placed.status().code(), StatusCode::kInvalidArgument);
}

TEST(PlacementTest, DeterministicPerSeed) {
  Topology t = MakeTopology({3, 4, 2, 5, 1});
  std::mt19937_64 rng(99);
  for (DriveSlot& d : t.drives) d.free_bytes = rng() % (1ULL << 40);
  const ProtectionPolicy policy = P("+2d:1n");
  const Geometry g = *PlanGeometry(policy, kGiB, t);
  std::set<std::vector<std::pair<uint32_t, uint32_t>>> distinct;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const std::vector<DriveSlot> first = Place(policy, g, t, seed);
    EXPECT_EQ(Place(policy, g, t, seed), first) << seed;
    // The caller's listing order does not matter.
    Topology shuffled = t;
    std::shuffle(shuffled.drives.begin(), shuffled.drives.end(), rng);
    EXPECT_EQ(Place(policy, g, shuffled, seed), first) << seed;
    std::vector<std::pair<uint32_t, uint32_t>> ids;
    for (const DriveSlot& d : first) ids.emplace_back(d.node, d.lnum);
    distinct.insert(ids);
  }
  // ...but the seed does.
  EXPECT_GT(distinct.size(), 150u);
}

// Pins the exact output so a change to the PRNG or the draw (which would move
// every future placement) is a deliberate one, and catches any platform or
// standard library dependence.
TEST(PlacementTest, GoldenPlacement) {
  Topology t = Uniform(4, 3);
  for (size_t i = 0; i < t.drives.size(); ++i) t.drives[i].free_bytes = (i + 1) * kGiB;
  const std::vector<DriveSlot> placed = Place(P("+2d:1n"), StripeOf(4, 2), t, 12345);
  std::vector<std::pair<uint32_t, uint32_t>> ids;
  for (const DriveSlot& d : placed) ids.emplace_back(d.node, d.lnum);
  // Water filling shows: one unit on each of the 4 nodes, then 2 more.
  // (Also reproduced by a separate Python model of splitmix64 and the draw.)
  EXPECT_EQ(ids, (std::vector<std::pair<uint32_t, uint32_t>>{
                     {3, 2}, {2, 1}, {0, 2}, {1, 0}, {3, 0}, {2, 0}}));
}

// Weighted by free_bytes + 1: one draw among three drives lands on each in
// proportion to its free space.
TEST(PlacementTest, SingleDrawIsProportionalToFreeSpace) {
  Topology t = Uniform(1, 3);
  t.drives[0].free_bytes = 1 * kGiB;
  t.drives[1].free_bytes = 2 * kGiB;
  t.drives[2].free_bytes = 7 * kGiB;
  constexpr int kTrials = 10000;
  int hits[3] = {0, 0, 0};
  for (uint64_t seed = 0; seed < kTrials; ++seed) {
    ++hits[Place(P("2x"), MirrorOf(1), t, seed)[0].lnum];
  }
  // Standard deviation is at most 0.005; allow 4 of them.
  EXPECT_NEAR(hits[0] / double{kTrials}, 0.1, 0.02);
  EXPECT_NEAR(hits[1] / double{kTrials}, 0.2, 0.02);
  EXPECT_NEAR(hits[2] / double{kTrials}, 0.7, 0.02);
}

TEST(PlacementTest, PrefersEmptierDrives) {
  Topology t = Uniform(1, 10, kGiB);
  t.drives[0].free_bytes = 10 * kGiB;
  constexpr int kTrials = 10000;
  std::vector<int> hits(10, 0);
  for (uint64_t seed = 0; seed < kTrials; ++seed) {
    for (const DriveSlot& d : Place(P("+1"), MirrorOf(2), t, seed)) ++hits[d.lnum];
  }
  double others = 0;
  for (int i = 1; i < 10; ++i) others += hits[i];
  others /= 9;
  // Two draws without replacement: P(drive 0) = 10/19 + 9/19 * 10/18 = 0.789,
  // any other drive 0.135.
  EXPECT_NEAR(hits[0] / double{kTrials}, 0.789, 0.03);
  EXPECT_GT(hits[0], 4 * others);
  for (int i = 1; i < 10; ++i) EXPECT_NEAR(hits[i] / double{kTrials}, 0.135, 0.025) << i;
}

TEST(PlacementTest, WeightingSurvivesHugeFreeSpace) {
  Topology t = Uniform(1, 4);
  t.drives[0].free_bytes = UINT64_MAX;
  t.drives[1].free_bytes = UINT64_MAX / 10;
  t.drives[2].free_bytes = UINT64_MAX / 10;
  t.drives[3].free_bytes = UINT64_MAX / 10;
  int hits = 0;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    hits += Place(P("2x"), MirrorOf(1), t, seed)[0].lnum == 0;
  }
  // 10 / 13 = 0.77.
  EXPECT_NEAR(hits / 2000.0, 10.0 / 13, 0.04);
}

TEST(PlacementTest, EqualDrivesAreEquallyLikely) {
  const Topology t = Uniform(4, 3);
  const Geometry g = MirrorOf(3);
  constexpr int kTrials = 10000;
  std::map<std::pair<uint32_t, uint32_t>, int> hits;
  for (uint64_t seed = 0; seed < kTrials; ++seed) {
    for (const DriveSlot& d : Place(P("3x"), g, t, seed)) ++hits[{d.node, d.lnum}];
  }
  ASSERT_EQ(hits.size(), 12u);
  // Each drive is expected 2500 times (standard deviation about 43).
  for (const auto& [drive, count] : hits) EXPECT_NEAR(count, 2500, 200);
}

TEST(PlacementTest, AvoidsFullDrives) {
  // Nearly full drives, so free-space weighting alone (weight 2 against 1)
  // would not keep the full ones out.
  Topology t = Uniform(1, 6, 1);
  t.drives[1].free_bytes = 0;
  t.drives[4].free_bytes = 0;
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    for (const DriveSlot& d : Place(P("+2"), StripeOf(2, 2), t, seed)) {
      EXPECT_NE(d.free_bytes, 0u) << "seed " << seed;
    }
    // Five units need one full drive, and only one.
    int full = 0;
    for (const DriveSlot& d : Place(P("+2"), StripeOf(3, 2), t, seed)) full += d.free_bytes == 0;
    EXPECT_EQ(full, 1) << "seed " << seed;
  }
  // Every drive full: still placed (the write will report NoSpace).
  const Topology all_full = Uniform(3, 2, 0);
  EXPECT_EQ(Place(P("+2"), MirrorOf(3), all_full, 5).size(), 3u);
  // Distinct nodes are a constraint, so a node whose drives are all full is
  // still used rather than doubling up on another node.
  Topology third_full = Uniform(3, 2, 1);
  third_full.drives[4].free_bytes = 0;
  third_full.drives[5].free_bytes = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const std::vector<DriveSlot> placed = Place(P("+2"), MirrorOf(3), third_full, seed);
    EXPECT_EQ(LoadPerNode(placed).size(), 3u);
  }
}

// Small random topologies (some drives full) and geometries of every width,
// against a brute-force search over all drive subsets: PlaceUnits succeeds
// exactly when some subset satisfies the constraints, and then uses as few
// full drives and as many nodes as any valid subset could. This is what
// rules out a greedy dead-end.
TEST(PlacementTest, MatchesBruteForce) {
  std::mt19937_64 rng(7);
  const std::vector<ProtectionPolicy> policies = AllPolicies();
  int feasible = 0;
  int infeasible = 0;
  for (int trial = 0; trial < 1500; ++trial) {
    std::vector<int> counts(1 + rng() % 5);
    for (int& c : counts) c = 1 + static_cast<int>(rng() % 3);
    Topology t = MakeTopology(counts);
    for (DriveSlot& d : t.drives) d.free_bytes = rng() % 3 == 0 ? 0 : 1 + rng() % 1000;
    const int n = static_cast<int>(t.drives.size());
    const ProtectionPolicy policy = policies[rng() % policies.size()];
    Geometry g;
    if (policy.kind == ProtectionPolicy::Kind::kParity && rng() % 2 == 0) {
      g = StripeOf(1 + static_cast<int>(rng() % 12), policy.parity_units());
    } else {
      g = MirrorOf(1 + static_cast<int>(rng() % (n + 1)));
    }
    const int width = g.width();
    const int nodes = static_cast<int>(counts.size());
    int cap = INT_MAX;
    if (nodes > 1) {
      cap = g.kind == Geometry::Kind::kStripe ? policy.max_units_per_node() : EvenestCap(t, width);
    }
    int best_full = INT_MAX;
    int best_nodes = 0;
    if (width <= n) {
      for (uint32_t mask = 0; mask < (1u << n); ++mask) {
        if (std::popcount(mask) != width) continue;
        std::vector<int> load(nodes, 0);
        int full = 0;
        bool ok = true;
        for (int i = 0; i < n; ++i) {
          if (!(mask >> i & 1)) continue;
          ok &= ++load[t.drives[i].node] <= cap;
          full += t.drives[i].free_bytes == 0;
        }
        if (!ok) continue;
        const int used =
            static_cast<int>(std::count_if(load.begin(), load.end(), [](int l) { return l > 0; }));
        if (full < best_full || (full == best_full && used > best_nodes)) {
          best_full = full;
          best_nodes = used;
        }
      }
    }
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + policy.ToString() + " " + g.ToString() +
                 " on " + std::to_string(nodes) + " nodes");
    Result<std::vector<DriveSlot>> placed = PlaceUnits(policy, g, t, rng());
    if (best_full == INT_MAX) {
      ++infeasible;
      ASSERT_FALSE(placed.ok());
      EXPECT_EQ(placed.status().code(), StatusCode::kUnavailable);
      continue;
    }
    ++feasible;
    ASSERT_TRUE(placed.ok()) << placed.status().ToString();
    ASSERT_EQ(static_cast<int>(placed->size()), width);
    std::set<std::pair<uint32_t, uint32_t>> used;
    int full = 0;
    for (const DriveSlot& d : *placed) {
      EXPECT_TRUE(used.insert({d.node, d.lnum}).second);
      full += d.free_bytes == 0;
    }
    const std::map<uint32_t, int> load = LoadPerNode(*placed);
    for (const auto& [node, units] : load) EXPECT_LE(units, cap);
    EXPECT_EQ(full, best_full);
    EXPECT_EQ(static_cast<int>(load.size()), best_nodes);
  }
  EXPECT_GT(feasible, 500);
  EXPECT_GT(infeasible, 100);
}

}  // namespace
}  // namespace tessera::layout
