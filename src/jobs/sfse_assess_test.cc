#include "jobs/sfse_assess.h"

#include <gtest/gtest.h>

#include "io/piece_map.h"

namespace tessera::jobs {
namespace {

constexpr uint64_t kUnit = 128 * 1024;

meta::FileRecord Mirrored(uint64_t size) {
  meta::FileRecord r;
  r.ns = "a";
  r.path = "m" + std::to_string(size);
  r.size = size;
  r.geometry.kind = layout::Geometry::Kind::kMirror;
  r.geometry.copies = 3;
  r.drives = {{1, 0}, {2, 0}, {3, 0}};
  return r;
}

meta::FileRecord Striped(uint64_t size) {
  meta::FileRecord r;
  r.ns = "a";
  r.path = "s" + std::to_string(size);
  r.size = size;
  r.geometry.kind = layout::Geometry::Kind::kStripe;
  r.geometry.data_units = 4;
  r.geometry.parity_units = 2;
  r.geometry.unit_size = kUnit;
  r.geometry.stripe_count = (size + 4 * kUnit - 1) / (4 * kUnit);
  for (uint32_t n = 1; n <= 6; ++n) r.drives.push_back({n, 0});
  return r;
}

layout::Geometry Container() {
  layout::Geometry g;
  g.kind = layout::Geometry::Kind::kStripe;
  g.data_units = 4;
  g.parity_units = 2;
  g.unit_size = kUnit;
  return g;
}

TEST(SfseAssessorTest, EstimatesWhatPackingSmallFilesSaves) {
  SfseAssessor assessor(1016 * 1024, Container());
  std::vector<meta::FileRecord> files = {Mirrored(4096), Mirrored(100000), Striped(600000),
                                         Striped(2 << 20), Mirrored(0)};
  meta::FileRecord packed = Mirrored(5000);
  packed.geometry = {};
  packed.drives.clear();
  packed.packed = meta::ContainerExtent{1, 0};
  files.push_back(packed);
  uint64_t physical = 0, small_physical = 0, groups = 0;
  for (const meta::FileRecord& f : files) {
    assessor.Add(f);
    physical += io::PhysicalBytes(f);
    groups += io::StripeCount(f);
  }
  for (const meta::FileRecord& f : {files[0], files[1], files[2]}) {
    small_physical += io::PhysicalBytes(f);
  }
  cluster::SfseEstimate e = assessor.Finish();
  EXPECT_EQ(e.files, 6u);
  EXPECT_EQ(e.packable_files, 3u) << "the 2 MiB, empty and packed files are not packable";
  EXPECT_EQ(e.physical_bytes, physical);
  EXPECT_EQ(e.packable_physical_bytes, small_physical);
  EXPECT_EQ(e.packable_logical_bytes, 4096u + 100000 + 600000);
  EXPECT_EQ(e.packed_physical_bytes, (704096u * 6 + 3) / 4);
  EXPECT_EQ(e.protection_groups, groups);
  EXPECT_EQ(e.packable_protection_groups, 1u + 1 + 2);
  EXPECT_EQ(e.packed_protection_groups, 2u);  // 704096 bytes in 512 KiB stripes
  EXPECT_GT(e.raw_space_saving(), 0u);
  EXPECT_EQ(e.container_geometry, Container().ToString());
}

}  // namespace
}  // namespace tessera::jobs
