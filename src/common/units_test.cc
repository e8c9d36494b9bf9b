#include "common/units.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

TEST(UnitsTest, LayoutConstants) {
  EXPECT_EQ(kBlockSize, 8192u);
  EXPECT_EQ(kStripeUnitSize, 131072u);
}

TEST(UnitsTest, FormatSize) {
  EXPECT_EQ(FormatSize(0), "0");
  EXPECT_EQ(FormatSize(1023), "1023");
  EXPECT_EQ(FormatSize(1024), "1.0k");
  EXPECT_EQ(FormatSize(1016 * kKiB), "1016.0k");
  EXPECT_EQ(FormatSize(kGiB), "1.0G");
  EXPECT_EQ(FormatSize(12 * kMiB + 512 * kKiB), "12.5M");
}

TEST(UnitsTest, ParseDecimal) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("1048576"), 1048576u);
  EXPECT_EQ(ParseDecimal("9999999999999999999"), 9999999999999999999ull);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1k", "0x10", "10000000000000000000"}) {
    EXPECT_FALSE(ParseDecimal(bad).has_value()) << bad;
  }
}

TEST(UnitsTest, ParseSize) {
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("1016k"), 1016 * kKiB);
  EXPECT_EQ(ParseSize("1016.0k"), 1016 * kKiB);
  EXPECT_EQ(ParseSize("128KiB"), 128 * kKiB);
  EXPECT_EQ(ParseSize("1GiB"), kGiB);
  EXPECT_EQ(ParseSize("1m"), kMiB);
  EXPECT_EQ(ParseSize("16P"), 16 * 1024 * 1024 * kGiB);
  EXPECT_EQ(ParseSize("2pib"), 2 * 1024 * 1024 * kGiB);
  EXPECT_EQ(ParseSize(""), std::nullopt);
  EXPECT_EQ(ParseSize("k"), std::nullopt);
  EXPECT_EQ(ParseSize("12q"), std::nullopt);
  EXPECT_EQ(ParseSize("-5"), std::nullopt);
  EXPECT_EQ(ParseSize("99999999999T"), std::nullopt);
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, kKiB, 1016 * kKiB, kGiB, 3 * 1024 * 1024 * kGiB}) {
    EXPECT_EQ(ParseSize(FormatSize(v)), v) << v;
  }
}

}  // namespace
}  // namespace tessera
