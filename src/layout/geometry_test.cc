#include "layout/geometry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <random>
#include <string>
#include <vector>

#include "common/units.h"
#include "layout/layout_test_util.h"

namespace tessera::layout {
namespace {

using layout_test::AllPolicies;
using layout_test::MakeTopology;
using layout_test::Mirror;
using layout_test::Parity;
using layout_test::SweepTopologies;
using layout_test::Uniform;

ProtectionPolicy P(const char* text) { return *ProtectionPolicy::Parse(text); }

Geometry Plan(const char* policy, uint64_t size, const Topology& topology) {
  Result<Geometry> g = PlanGeometry(P(policy), size, topology);
  EXPECT_TRUE(g.ok()) << policy << ": " << g.status().ToString();
  return g.ok() ? *g : Geometry{};
}

Geometry Stripe(int k, int m, uint64_t stripes, bool meets) {
  Geometry g;
  g.kind = Geometry::Kind::kStripe;
  g.data_units = k;
  g.parity_units = m;
  g.unit_size = kStripeUnitSize;
  g.stripe_count = stripes;
  g.meets_node_tolerance = meets;
  return g;
}

Geometry Mirrored(int copies, bool meets) {
  Geometry g;
  g.kind = Geometry::Kind::kMirror;
  g.copies = copies;
  g.meets_node_tolerance = meets;
  return g;
}

TEST(GeometryTest, HandCheckedStripes) {
  // Single node: drives are the fault domain.
  EXPECT_EQ(Plan("+2", kGiB, Uniform(1, 4)), Stripe(2, 2, 4096, false));
  EXPECT_EQ(Plan("+2", kGiB, Uniform(1, 24)), Stripe(16, 2, 512, false));
  EXPECT_EQ(Plan("+1", kGiB, Uniform(1, 3)), Stripe(2, 1, 4096, false));
  EXPECT_EQ(Plan("+4", kGiB, Uniform(1, 20)), Stripe(16, 4, 512, false));
  EXPECT_EQ(Plan("+4", kGiB, Uniform(1, 19)), Stripe(15, 4, 547, false));
  // Several nodes: at most max_units_per_node() per node.
  EXPECT_EQ(Plan("+2d:1n", kGiB, Uniform(9, 2)), Stripe(16, 2, 512, true));
  EXPECT_EQ(Plan("+2", kGiB, Uniform(6, 2)), Stripe(4, 2, 2048, true));
  EXPECT_EQ(Plan("+2d:1n", kGiB, Uniform(2, 2)), Stripe(2, 2, 4096, true));
  EXPECT_EQ(Plan("+4d:1n", kGiB, Uniform(5, 4)), Stripe(16, 4, 512, true));
  EXPECT_EQ(Plan("+4d:2n", kGiB, Uniform(4, 3)), Stripe(4, 4, 2048, true));
  EXPECT_EQ(Plan("+3d:2n", kGiB, Uniform(5, 4)), Stripe(2, 3, 4096, true));
  EXPECT_EQ(Plan("+3d:1n", kGiB, Uniform(5, 4)), Stripe(12, 3, 683, true));
  // Exactly one unit: the smallest striped file.
  EXPECT_EQ(Plan("+2", kStripeUnitSize, Uniform(1, 4)), Stripe(2, 2, 1, false));
  EXPECT_EQ(Plan("+2", 2 * kStripeUnitSize + 1, Uniform(1, 4)), Stripe(2, 2, 2, false));
  EXPECT_EQ(Plan("+2", UINT64_MAX, Uniform(1, 24)), Stripe(16, 2, uint64_t{1} << 43, false));
}

TEST(GeometryTest, HandCheckedMirrors) {
  // k would be 1: mirror m+1 times instead.
  EXPECT_EQ(Plan("+1", kGiB, Uniform(1, 2)), Mirrored(2, false));
  EXPECT_EQ(Plan("+2", kGiB, Uniform(3, 1)), Mirrored(3, true));
  EXPECT_EQ(Plan("+2", kGiB, MakeTopology({1, 5, 3})), Mirrored(3, true));
  // +2 allows one unit per node, so 2 nodes cannot stripe; the copies go on
  // distinct drives, short of node tolerance.
  EXPECT_EQ(Plan("+2", kGiB, Uniform(2, 10)), Mirrored(3, false));
  // Small files mirror whatever the topology.
  EXPECT_EQ(Plan("+2", 0, Uniform(1, 24)), Mirrored(3, false));
  EXPECT_EQ(Plan("+2", kStripeUnitSize - 1, Uniform(5, 3)), Mirrored(3, true));
  EXPECT_EQ(Plan("+2d:1n", 1, Uniform(2, 3)), Mirrored(3, false));
  EXPECT_EQ(Plan("+4d:1n", 100, Uniform(5, 1)), Mirrored(5, true));
  // Nx always mirrors.
  EXPECT_EQ(Plan("3x", kGiB, Uniform(5, 3)), Mirrored(3, true));
  EXPECT_EQ(Plan("3x", kGiB, Uniform(2, 2)), Mirrored(3, false));
  EXPECT_EQ(Plan("8x", UINT64_MAX, Uniform(10, 1)), Mirrored(8, true));
  EXPECT_EQ(Plan("2x", 0, Uniform(1, 2)), Mirrored(2, false));
}

TEST(GeometryTest, HandCheckedUnavailable) {
  struct Case {
    const char* policy;
    uint64_t size;
    Topology topology;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"+3", kGiB, Uniform(1, 3), "protection +3 needs 4 drives, 3 are writable"},
      {"+3", kGiB, Uniform(3, 1), "protection +3 needs 4 drives, 3 are writable"},
      {"+2", 1, Uniform(1, 2), "protection +2 needs 3 drives, 2 are writable"},
      {"+2d:1n", kGiB, Uniform(1, 1), "protection +2d:1n needs 3 drives, 1 is writable"},
      {"+1", 0, Topology{}, "protection +1 needs 2 drives, 0 are writable"},
      {"3x", kGiB, Uniform(1, 2), "protection 3x needs 3 drives, 2 are writable"},
      {"8x", 0, Uniform(7, 1), "protection 8x needs 8 drives, 7 are writable"},
  };
  for (const Case& c : cases) {
    Result<Geometry> g = PlanGeometry(P(c.policy), c.size, c.topology);
    ASSERT_FALSE(g.ok()) << c.policy << " -> " << g->ToString();
    EXPECT_EQ(g.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(g.status().message(), c.message);
  }
}

TEST(GeometryTest, RejectsInvalidInput) {
  ProtectionPolicy parity_with_mirrors = Parity(2, 1);
  parity_with_mirrors.mirrors = 3;
  ProtectionPolicy mirror_with_parity = Mirror(3);
  mirror_with_parity.drive_failures = 1;
  for (const ProtectionPolicy& bad :
       {ProtectionPolicy{}, Parity(0, 0), Parity(5, 1), Parity(2, 0), Parity(1, 2), Mirror(1),
        Mirror(9), parity_with_mirrors, mirror_with_parity}) {
    Result<Geometry> g = PlanGeometry(bad, kGiB, Uniform(4, 4));
    ASSERT_FALSE(g.ok()) << bad.ToString();
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << bad.ToString();
    EXPECT_EQ(g.status().message().rfind("protection '", 0), 0u) << g.status().message();
  }
  Topology twice = Uniform(3, 2);
  twice.drives.push_back({1, 1, 5});
  Result<Geometry> g = PlanGeometry(P("+1"), kGiB, twice);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(g.status().message(), "topology lists drive 1 of node 1 twice");
}

TEST(GeometryTest, NodeCount) {
  EXPECT_EQ(Topology{}.node_count(), 0);
  EXPECT_EQ(Uniform(1, 5).node_count(), 1);
  EXPECT_EQ(Uniform(7, 3).node_count(), 7);
  Topology scattered;
  scattered.drives = {{9, 0, 1}, {2, 0, 1}, {9, 1, 1}, {4000000000u, 0, 1}, {2, 7, 1}};
  EXPECT_EQ(scattered.node_count(), 3);
}

TEST(GeometryTest, ToString) {
  EXPECT_EQ(Mirrored(3, true).ToString(), "3x mirror");
  EXPECT_EQ(Plan("+2", kMiB, Uniform(1, 4)).ToString(), "2+2 stripe, 4 stripes of 128.0k units");
  EXPECT_EQ(Plan("+2", kStripeUnitSize + 1, Uniform(1, 24)).ToString(),
            "16+2 stripe, 1 stripe of 128.0k units");
  EXPECT_EQ(Plan("5x", kGiB, Uniform(5, 1)).ToString(), "5x mirror");
}

// Every policy over every sweep topology and a range of sizes: the rules of
// geometry.h hold, and the stripe is as wide as they allow.
TEST(GeometryTest, SweepInvariants) {
  const uint64_t sizes[] = {
      0,        1,    kStripeUnitSize - 1, kStripeUnitSize, kStripeUnitSize + 1,
      kMiB + 3, kGiB, uint64_t{1} << 60,   UINT64_MAX};
  int stripes = 0;
  int mirrors = 0;
  int unavailable = 0;
  for (const ProtectionPolicy& policy : AllPolicies()) {
    const int m = policy.parity_units();
    for (const Topology& topology : SweepTopologies()) {
      const int drives = static_cast<int>(topology.drives.size());
      const int nodes = topology.node_count();
      std::vector<int> per_node(nodes, 0);
      for (const DriveSlot& d : topology.drives) ++per_node[d.node];
      const int cap = nodes > 1 ? policy.max_units_per_node() : INT_MAX;
      int fit = 0;
      for (int n : per_node) fit += std::min(n, cap);
      for (uint64_t size : sizes) {
        SCOPED_TRACE(policy.ToString() + " size " + std::to_string(size) + " on " +
                     std::to_string(nodes) + " nodes, " + std::to_string(drives) + " drives");
        Result<Geometry> planned = PlanGeometry(policy, size, topology);
        if (planned.ok()) {
          EXPECT_TRUE(CheckGeometry(*planned).ok()) << planned->ToString();
        }
        const bool may_stripe =
            policy.kind == ProtectionPolicy::Kind::kParity && size >= kStripeUnitSize;
        const int widest = std::min(fit, kMaxDataUnits + m);
        if (may_stripe && widest - m >= 2) {
          ASSERT_TRUE(planned.ok()) << planned.status().ToString();
          const Geometry& g = *planned;
          ++stripes;
          ASSERT_EQ(g.kind, Geometry::Kind::kStripe);
          EXPECT_EQ(g.parity_units, m);
          EXPECT_GE(g.data_units, 2);
          EXPECT_LE(g.data_units, kMaxDataUnits);
          EXPECT_LE(g.width(), kMaxStripeWidth);
          EXPECT_LE(g.width(), drives);  // one unit per drive
          EXPECT_LE(g.width(), fit);     // per-node cap
          EXPECT_EQ(g.width(), widest);  // and no narrower than needed
          EXPECT_EQ(g.copies, 0);
          EXPECT_EQ(g.unit_size, kStripeUnitSize);
          const uint64_t stripe_bytes = static_cast<uint64_t>(g.data_units) * kStripeUnitSize;
          EXPECT_GE(g.stripe_count, 1u);
          // ceil(size / stripe_bytes), stated without overflow.
          EXPECT_EQ(g.stripe_count - 1, (size - 1) / stripe_bytes);
          EXPECT_EQ(g.meets_node_tolerance, nodes > 1);
          continue;
        }
        const int copies = policy.mirror_copies();
        if (drives < copies) {
          ++unavailable;
          ASSERT_FALSE(planned.ok()) << planned->ToString();
          EXPECT_EQ(planned.status().code(), StatusCode::kUnavailable);
          EXPECT_NE(planned.status().message().find("needs " + std::to_string(copies) + " drives"),
                    std::string::npos)
              << planned.status().message();
          continue;
        }
        ASSERT_TRUE(planned.ok()) << planned.status().ToString();
        ++mirrors;
        EXPECT_EQ(*planned, Mirrored(copies, nodes > 1 && nodes >= copies));
        EXPECT_EQ(planned->width(), copies);
        EXPECT_LE(planned->width(), 8);
      }
    }
  }
  // The sweep exercised every outcome in bulk.
  EXPECT_GT(stripes, 1000);
  EXPECT_GT(mirrors, 1000);
  EXPECT_GT(unavailable, 100);
}

// Adding drives never narrows a stripe or makes a file unavailable.
TEST(GeometryTest, MonotoneInDrives) {
  for (const ProtectionPolicy& policy : AllPolicies()) {
    int previous_width = 0;
    bool previous_ok = false;
    for (int drives = 1; drives <= 30; ++drives) {
      Result<Geometry> g = PlanGeometry(policy, kGiB, Uniform(1, drives));
      if (previous_ok) {
        EXPECT_TRUE(g.ok()) << policy.ToString() << " " << drives;
      }
      if (g.ok()) {
        if (g->kind == Geometry::Kind::kStripe) {
          EXPECT_GE(g->width(), previous_width);
        }
        previous_width = g->kind == Geometry::Kind::kStripe ? g->width() : 0;
      }
      previous_ok = g.ok();
    }
  }
}

// Every (k, m, unit size) near and past the limits: accepted exactly when
// within them, and a rejected one says what it is.
TEST(CheckGeometryTest, AcceptsExactlyWhatReadersCanUse) {
  const uint64_t unit_sizes[] = {0,
                                 1,
                                 7,
                                 8,
                                 9,
                                 4096,
                                 kStripeUnitSize - 8,
                                 kStripeUnitSize - 1,
                                 kStripeUnitSize,
                                 kStripeUnitSize + 8,
                                 UINT64_MAX};
  int accepted = 0;
  for (int k = -2; k <= kMaxDataUnits + 2; ++k) {
    for (int m = -2; m <= kMaxParityUnits + 2; ++m) {
      for (uint64_t unit : unit_sizes) {
        Geometry g = Stripe(k, m, 1, true);
        g.unit_size = unit;
        const bool usable = k >= 1 && k <= 16 && m >= 0 && m <= 4 && k + m <= 20 && unit >= 8 &&
                            unit <= kStripeUnitSize && unit % 8 == 0;
        Status st = CheckGeometry(g);
        EXPECT_EQ(st.ok(), usable) << k << "+" << m << " units of " << unit;
        if (!st.ok()) {
          EXPECT_EQ(st.code(), StatusCode::kCorruption);
        }
        accepted += st.ok();
      }
    }
  }
  EXPECT_EQ(accepted, 16 * 5 * 4);  // k, m, and 4 usable unit sizes
  for (int copies = -1; copies <= kMaxStripeWidth + 1; ++copies) {
    Status st = CheckGeometry(Mirrored(copies, true));
    EXPECT_EQ(st.ok(), copies >= 1 && copies <= kMaxStripeWidth) << copies;
  }
  EXPECT_EQ(CheckGeometry(Mirrored(0, true)).message(), "a mirror of 0 copies");
  EXPECT_EQ(CheckGeometry(Stripe(0, 2, 1, true)).message(), "a 0+2 stripe");
}

TEST(StripeUnitLengthTest, HandChecked) {
  const Geometry g22 = Stripe(2, 2, 4, false);
  for (uint64_t s = 0; s < 4; ++s) EXPECT_EQ(StripeUnitLength(g22, kMiB, s), kStripeUnitSize);
  EXPECT_EQ(StripeUnitLength(g22, kMiB, 4), 0u);
  EXPECT_EQ(StripeUnitLength(g22, 2 * kStripeUnitSize + 1, 0), kStripeUnitSize);
  EXPECT_EQ(StripeUnitLength(g22, 2 * kStripeUnitSize + 1, 1), 8u);    // ceil(1/2) -> 8
  EXPECT_EQ(StripeUnitLength(g22, 2 * kStripeUnitSize + 17, 1), 16u);  // ceil(17/2)=9 -> 16
  EXPECT_EQ(StripeUnitLength(g22, 2 * kStripeUnitSize + 32, 1), 16u);
  EXPECT_EQ(StripeUnitLength(g22, 2 * kStripeUnitSize + 33, 1), 24u);
  EXPECT_EQ(StripeUnitLength(g22, 2 * kStripeUnitSize + 33, 2), 0u);
  const Geometry g162 = Stripe(16, 2, 2, false);
  // 131073 bytes over 16 units: ceil = 8193 -> 8200.
  EXPECT_EQ(StripeUnitLength(g162, kStripeUnitSize + 1, 0), 8200u);
  EXPECT_EQ(StripeUnitLength(g162, 16 * kStripeUnitSize - 1, 0), kStripeUnitSize);
  EXPECT_EQ(StripeUnitLength(g162, UINT64_MAX, (uint64_t{1} << 43) - 1), kStripeUnitSize);
  EXPECT_EQ(StripeUnitLength(g162, UINT64_MAX, uint64_t{1} << 43), 0u);
  EXPECT_EQ(StripeUnitLength(Mirrored(3, true), kGiB, 0), 0u);
  EXPECT_EQ(StripeUnitLength(g22, 0, 0), 0u);
}

// For k = 2..16 and sizes at and around stripe boundaries plus random ones:
// the units cover the file, waste less than 8 bytes per unit, stay 8-byte
// aligned, and agree with PlanGeometry's stripe_count.
TEST(StripeUnitLengthTest, CoversEverySize) {
  std::mt19937_64 rng(20240611);  // raw engine output is fixed by the standard
  int checked = 0;
  for (int k = 2; k <= kMaxDataUnits; ++k) {
    // +2 on k+2 drives of one node gives exactly k data units.
    const Geometry g = Plan("+2", kGiB, Uniform(1, k + 2));
    ASSERT_EQ(g.data_units, k);
    const uint64_t stripe_bytes = static_cast<uint64_t>(k) * kStripeUnitSize;
    std::vector<uint64_t> sizes;
    for (uint64_t stripes : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{1000}}) {
      for (int delta = -9; delta <= 9; ++delta) sizes.push_back(stripes * stripe_bytes + delta);
    }
    for (int i = 0; i < 300; ++i) sizes.push_back(kStripeUnitSize + rng() % (64 * kMiB));
    for (int i = 0; i < 50; ++i) sizes.push_back(rng() | kStripeUnitSize);
    sizes.push_back(UINT64_MAX);
    for (uint64_t size : sizes) {
      if (size < kStripeUnitSize) continue;
      SCOPED_TRACE("k=" + std::to_string(k) + " size=" + std::to_string(size));
      const Geometry planned = Plan("+2", size, Uniform(1, k + 2));
      const uint64_t count = planned.stripe_count;
      ASSERT_GE(count, 1u);
      const uint64_t before_last = (count - 1) * stripe_bytes;
      ASSERT_LT(before_last, size);
      const uint64_t remaining = size - before_last;
      ASSERT_LE(remaining, stripe_bytes);
      // Full stripes: spot-check the first and the one before the last.
      if (count > 1) {
        EXPECT_EQ(StripeUnitLength(planned, size, 0), kStripeUnitSize);
        EXPECT_EQ(StripeUnitLength(planned, size, count - 2), kStripeUnitSize);
      }
      const uint64_t last = StripeUnitLength(planned, size, count - 1);
      EXPECT_GT(last, 0u);
      EXPECT_LE(last, kStripeUnitSize);
      EXPECT_EQ(last % 8, 0u);
      EXPECT_GE(k * last, remaining);  // sum over stripes >= size
      EXPECT_LT(k * last - remaining, 8u * k);
      EXPECT_EQ(StripeUnitLength(planned, size, count), 0u);
      ++checked;
    }
  }
  EXPECT_GT(checked, 15 * 350);
}

// Small enough to sum every stripe explicitly.
TEST(StripeUnitLengthTest, SumsMatchSmallFiles) {
  for (int k = 2; k <= kMaxDataUnits; ++k) {
    for (uint64_t size = kStripeUnitSize; size < 3 * k * kStripeUnitSize; size += 4093) {
      const Geometry g = Plan("+2", size, Uniform(1, k + 2));
      uint64_t total = 0;
      for (uint64_t s = 0; s < g.stripe_count; ++s) total += k * StripeUnitLength(g, size, s);
      EXPECT_GE(total, size) << k << " " << size;
      EXPECT_LT(total - size, 8u * k) << k << " " << size;
    }
  }
}

}  // namespace
}  // namespace tessera::layout
