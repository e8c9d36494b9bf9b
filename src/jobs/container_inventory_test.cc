#include "jobs/container_inventory.h"

#include <gtest/gtest.h>

#include "io/piece_map.h"

namespace tessera::jobs {
namespace {

constexpr uint64_t kUnit = 128 * 1024;

// A chunk written 4+2 with `size` bytes.
meta::FileRecord Chunk(uint64_t sin, uint32_t n, uint64_t size) {
  meta::FileRecord r;
  r.ns = std::string(io::kShadowStoreNamespace);
  r.path = io::ChunkPath({sin, n});
  r.object_id = sin * 100 + n;
  r.size = size;
  r.created_ns = 1000 + n;
  r.protection = "+2";
  if (size > 0) {
    r.geometry.kind = layout::Geometry::Kind::kStripe;
    r.geometry.data_units = 4;
    r.geometry.parity_units = 2;
    r.geometry.unit_size = kUnit;
    r.geometry.stripe_count = (size + 4 * kUnit - 1) / (4 * kUnit);
    for (uint32_t d = 0; d < 6; ++d) r.drives.push_back({d + 1, 0});
  }
  return r;
}

meta::FileRecord Packed(const std::string& path, uint64_t sin, uint64_t offset, uint64_t size) {
  meta::FileRecord r;
  r.ns = "archive";
  r.path = path;
  r.size = size;
  r.packed = meta::ContainerExtent{sin, offset};
  return r;
}

TEST(ContainerInventoryTest, CountsLiveBytesAndRefsPerChunkAndContainer) {
  ContainerInventory inv;
  const uint64_t stripe = 4 * kUnit;
  inv.Add(Packed("a", 5, 0, stripe));                     // chunk 0, stripe 0
  inv.Add(Chunk(5, 0, 2 * stripe));                       // order does not matter
  inv.Add(Packed("b", 5, io::ChunkBase(1) + 100, 1000));  // chunk 1
  inv.Add(Chunk(5, 1, 4096 * 2));
  inv.Add(Packed("lost", 5, io::ChunkBase(2), 10));  // no chunk 2
  inv.Add(Packed("nowhere", 6, 0, 10));              // no container 6
  meta::FileRecord native;
  native.ns = "archive";
  native.path = "n";
  native.size = 77;
  inv.Add(native);
  inv.Finish();

  ASSERT_EQ(inv.containers().size(), 1u);
  const ContainerUsage& c = inv.containers().at(5);
  EXPECT_EQ(c.refs, 2u);
  EXPECT_EQ(c.lsize, stripe + 1000);
  EXPECT_EQ(c.filesize, 2 * stripe + 8192);
  EXPECT_EQ(c.psize,
            io::PhysicalBytes(Chunk(5, 0, 2 * stripe)) + io::PhysicalBytes(Chunk(5, 1, 8192)));
  EXPECT_EQ(c.created_ns, 1000);
  EXPECT_EQ(c.next_chunk(), 2u);
  EXPECT_EQ(inv.dangling_refs(), 2u);

  const ChunkUsage& first = c.chunks.at(0);
  EXPECT_EQ(first.refs, 1u);
  // Stripe 0 is whole, stripe 1 empty: no hole costs parity.
  EXPECT_DOUBLE_EQ(first.fragmentation(), 0.0);
  EXPECT_NEAR(first.efficiency(), 0.5 * 4.0 / 6.0, 0.001);
  EXPECT_DOUBLE_EQ(first.max_efficiency(), 4.0 / 6.0);
  EXPECT_TRUE(first.NeedsDefrag(0.9));

  const ChunkUsage& second = c.chunks.at(1);
  EXPECT_EQ(second.extents, (std::vector<std::pair<uint64_t, uint64_t>>{{100, 1000}}));
  EXPECT_DOUBLE_EQ(second.fragmentation(), (8192.0 - 1000.0) / 8192.0);
}

TEST(ContainerInventoryTest, AFullChunkNeedsNoDefragAndAFreedOneCountsForNothing) {
  ContainerInventory inv;
  const uint64_t size = 8 * 4 * kUnit;
  inv.Add(Chunk(9, 0, size));
  for (uint64_t off = 0; off < size; off += 64 * 1024) {
    inv.Add(Packed("f" + std::to_string(off), 9, off, 64 * 1024));
  }
  inv.Add(Chunk(9, 1, 0));  // freed
  inv.Finish();
  const ContainerUsage& c = inv.containers().at(9);
  const ChunkUsage& full = c.chunks.at(0);
  EXPECT_EQ(full.live_bytes, size);
  EXPECT_DOUBLE_EQ(full.fragmentation(), 0.0);
  EXPECT_GT(full.efficiency(), 0.99 * full.max_efficiency());
  EXPECT_FALSE(full.NeedsDefrag(0.9));
  EXPECT_TRUE(c.chunks.at(1).freed());
  EXPECT_FALSE(c.chunks.at(1).NeedsDefrag(0.9));
  EXPECT_EQ(c.filesize, size);
  EXPECT_EQ(c.next_chunk(), 2u) << "a freed chunk's number is never used again";
}

TEST(ContainerInventoryTest, FragmentationCountsHolesOnlyInStripesThatStillHoldData) {
  ContainerInventory inv;
  const uint64_t stripe = 4 * kUnit;
  inv.Add(Chunk(3, 0, 3 * stripe));
  inv.Add(Packed("x", 3, stripe / 4, stripe / 4));  // a quarter of stripe 0
  inv.Add(Packed("y", 3, 2 * stripe, stripe));      // all of stripe 2
  inv.Finish();
  const ChunkUsage& c = inv.containers().at(3).chunks.at(0);
  EXPECT_DOUBLE_EQ(c.fragmentation(), (0.75 * stripe) / (3.0 * stripe));
}

}  // namespace
}  // namespace tessera::jobs
