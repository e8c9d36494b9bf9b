#include "ec/reed_solomon.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace tessera::ec {
namespace {

// Odd lengths and lengths around SIMD widths exercise ISA-L's scalar path
// (short units) and its tail handling (lengths that are not a multiple of the
// vector width), not just the aligned fast path.
constexpr size_t kUnitSizes[] = {1, 7, 64, 4097, 131072};

ReedSolomon MakeCodec(int k, int m) {
  Result<ReedSolomon> codec = ReedSolomon::Create(k, m);
  EXPECT_TRUE(codec.ok()) << codec.status().ToString();
  return std::move(codec).value();
}

void FillRandom(std::vector<uint8_t>& buf, std::mt19937_64& rng) {
  size_t i = 0;
  for (; i + 8 <= buf.size(); i += 8) {
    uint64_t word = rng();
    std::memcpy(&buf[i], &word, 8);
  }
  for (; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(rng());
}

// k+m owned units of one length: data first, then parity.
struct Stripe {
  Stripe(int k, int m, size_t unit_size, uint64_t seed)
      : k(k), m(m), unit_size(unit_size), units(k + m, std::vector<uint8_t>(unit_size)) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < k; ++i) FillRandom(units[i], rng);
  }

  std::vector<const uint8_t*> DataPtrs() const {
    std::vector<const uint8_t*> p;
    for (int i = 0; i < k; ++i) p.push_back(units[i].data());
    return p;
  }
  std::vector<uint8_t*> ParityPtrs() {
    std::vector<uint8_t*> p;
    for (int i = k; i < k + m; ++i) p.push_back(units[i].data());
    return p;
  }
  std::vector<uint8_t*> UnitPtrs() {
    std::vector<uint8_t*> p;
    for (auto& u : units) p.push_back(u.data());
    return p;
  }
  void Encode(const ReedSolomon& codec) {
    std::vector<const uint8_t*> data = DataPtrs();
    std::vector<uint8_t*> parity = ParityPtrs();
    codec.Encode(unit_size, data, parity);
  }

  int k;
  int m;
  size_t unit_size;
  std::vector<std::vector<uint8_t>> units;
};

std::string DescribeLost(unsigned lost_mask, int n) {
  std::string s = "lost {";
  for (int i = 0; i < n; ++i) {
    if (lost_mask >> i & 1) s += (s.back() == '{' ? "" : ",") + std::to_string(i);
  }
  return s + "}";
}

// Damages the units in lost_mask (every byte flipped, so a unit the codec
// forgets to write cannot pass), reconstructs, and compares the whole stripe
// with `original`.
testing::AssertionResult LoseAndRebuild(const ReedSolomon& codec, Stripe& stripe,
                                        const Stripe& original, unsigned lost_mask) {
  const int n = stripe.k + stripe.m;
  std::vector<bool> present(n);
  for (int i = 0; i < n; ++i) {
    present[i] = !(lost_mask >> i & 1);
    if (!present[i]) {
      for (uint8_t& b : stripe.units[i]) b = static_cast<uint8_t>(~b);
    }
  }
  std::vector<uint8_t*> units = stripe.UnitPtrs();
  Status st = codec.Reconstruct(stripe.unit_size, units, present);
  if (!st.ok()) {
    return testing::AssertionFailure() << DescribeLost(lost_mask, n) << ": " << st.ToString();
  }
  for (int i = 0; i < n; ++i) {
    if (stripe.units[i] != original.units[i]) {
      size_t at = 0;
      while (stripe.units[i][at] == original.units[i][at]) ++at;
      stripe.units = original.units;  // let the caller carry on with a clean stripe
      return testing::AssertionFailure()
             << "RS(" << stripe.k << "," << stripe.m << ") unit_size " << stripe.unit_size << " "
             << DescribeLost(lost_mask, n) << ": unit " << i << " differs at byte " << at;
    }
  }
  return testing::AssertionSuccess();
}

// GF(2^8) with ISA-L's polynomial x^8+x^4+x^3+x^2+1, written out independently
// so the test pins the on-disk code rather than whatever ISA-L computes.
uint8_t RefMul(uint8_t a, uint8_t b) {
  uint8_t product = 0;
  while (b != 0) {
    if (b & 1) product ^= a;
    a = static_cast<uint8_t>((a << 1) ^ ((a & 0x80) ? 0x1d : 0));
    b >>= 1;
  }
  return product;
}

uint8_t RefInv(uint8_t a) {
  for (int b = 1; b < 256; ++b) {
    if (RefMul(a, static_cast<uint8_t>(b)) == 1) return static_cast<uint8_t>(b);
  }
  return 0;
}

TEST(ReedSolomonCreateTest, AcceptsOnlySupportedGeometries) {
  for (auto [k, m] : {std::pair{0, 2}, {17, 2}, {-1, 2}, {4, 5}, {4, -1}, {0, 0}}) {
    Result<ReedSolomon> codec = ReedSolomon::Create(k, m);
    ASSERT_FALSE(codec.ok()) << k << "," << m;
    EXPECT_EQ(codec.status().code(), StatusCode::kInvalidArgument) << k << "," << m;
  }
  for (auto [k, m] : {std::pair{1, 0}, {1, 4}, {16, 0}, {16, 4}, {10, 4}}) {
    Result<ReedSolomon> codec = ReedSolomon::Create(k, m);
    ASSERT_TRUE(codec.ok()) << codec.status().ToString();
    EXPECT_EQ(codec->data_units(), k);
    EXPECT_EQ(codec->parity_units(), m);
    EXPECT_EQ(codec->total_units(), k + m);
  }
}

TEST(ReedSolomonEncodeTest, ReferenceFieldIsIsalField) {
  // Guards the reference below: x * x^7 wraps to the reduction polynomial.
  EXPECT_EQ(RefMul(0x80, 2), 0x1d);
  EXPECT_EQ(RefMul(2, RefInv(2)), 1);
  EXPECT_EQ(RefInv(2), 0x8e);
}

// Parity must equal the Cauchy code P[p] = sum_j D[j] / ((k+p) xor j). Any
// change to the generator would make stripes already on disk undecodable.
TEST(ReedSolomonEncodeTest, MatchesReferenceCauchyCode) {
  for (auto [k, m] : {std::pair{1, 1}, {2, 1}, {4, 2}, {10, 4}, {16, 4}}) {
    ReedSolomon codec = MakeCodec(k, m);
    for (size_t unit_size : {size_t{1}, size_t{7}, size_t{64}, size_t{4097}}) {
      Stripe stripe(k, m, unit_size, 7 * k + m);
      stripe.Encode(codec);
      for (int p = 0; p < m; ++p) {
        std::vector<uint8_t> expected(unit_size, 0);
        for (int j = 0; j < k; ++j) {
          const uint8_t coefficient = RefInv(static_cast<uint8_t>((k + p) ^ j));
          for (size_t b = 0; b < unit_size; ++b) {
            expected[b] ^= RefMul(coefficient, stripe.units[j][b]);
          }
        }
        ASSERT_EQ(stripe.units[k + p], expected)
            << "RS(" << k << "," << m << ") unit_size " << unit_size << " parity " << p;
      }
    }
  }
}

// Every Cauchy coefficient is non-zero, so one changed data byte must change
// every parity unit at that offset and nowhere else.
TEST(ReedSolomonEncodeTest, OneDataByteChangesEveryParityAtThatOffsetOnly) {
  for (auto [k, m] : {std::pair{2, 1}, {4, 2}, {10, 4}, {16, 4}}) {
    ReedSolomon codec = MakeCodec(k, m);
    Stripe stripe(k, m, 4097, 100 + k);
    stripe.Encode(codec);
    const std::vector<std::vector<uint8_t>> before = stripe.units;
    for (int j = 0; j < k; ++j) {
      for (size_t offset : {size_t{0}, size_t{31}, size_t{2048}, size_t{4096}}) {
        stripe.units[j][offset] ^= 0x01;
        stripe.Encode(codec);
        for (int p = k; p < k + m; ++p) {
          for (size_t b = 0; b < stripe.unit_size; ++b) {
            if (b == offset) {
              ASSERT_NE(stripe.units[p][b], before[p][b]) << "data " << j << " parity " << p;
            } else {
              ASSERT_EQ(stripe.units[p][b], before[p][b])
                  << "data " << j << " parity " << p << " byte " << b;
            }
          }
        }
        stripe.units[j][offset] ^= 0x01;
      }
    }
    stripe.Encode(codec);
    EXPECT_EQ(stripe.units, before);
  }
}

TEST(ReedSolomonEncodeTest, NoParityLeavesDataAlone) {
  ReedSolomon codec = MakeCodec(4, 0);
  Stripe stripe(4, 0, 64, 5);
  const std::vector<std::vector<uint8_t>> before = stripe.units;
  stripe.Encode(codec);
  EXPECT_EQ(stripe.units, before);
}

TEST(ReedSolomonEncodeDeathTest, WrongSpanLengthsAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ReedSolomon codec = MakeCodec(4, 2);
  Stripe stripe(4, 2, 64, 1);
  std::vector<const uint8_t*> data = stripe.DataPtrs();
  std::vector<uint8_t*> parity = stripe.ParityPtrs();
  std::vector<const uint8_t*> short_data(data.begin(), data.end() - 1);
  std::vector<uint8_t*> long_parity = parity;
  long_parity.push_back(parity[0]);
  EXPECT_DEATH(codec.Encode(64, short_data, parity), "data span length");
  EXPECT_DEATH(codec.Encode(64, data, long_parity), "parity span length");
}

class ReedSolomonGeometryTest : public testing::TestWithParam<std::tuple<int, int>> {};

// Every pattern of 1..m lost units, data and parity alike, is rebuilt exactly.
TEST_P(ReedSolomonGeometryTest, RebuildsEveryErasurePattern) {
  const auto [k, m] = GetParam();
  const int n = k + m;
  ReedSolomon codec = MakeCodec(k, m);
  for (size_t unit_size : kUnitSizes) {
    Stripe original(k, m, unit_size, 1000 * k + 10 * m + unit_size);
    original.Encode(codec);
    Stripe stripe = original;
    int patterns = 0;
    for (unsigned lost = 1; lost < (1u << n); ++lost) {
      if (std::popcount(lost) > m) continue;
      ASSERT_TRUE(LoseAndRebuild(codec, stripe, original, lost));
      ++patterns;
    }
    // Sanity check on the enumeration itself: sum of C(n, 1..m).
    int expected = 0;
    for (int lost = 1, choose = 1; lost <= m; ++lost) {
      choose = choose * (n - lost + 1) / lost;
      expected += choose;
    }
    EXPECT_EQ(patterns, expected);
  }
}

TEST_P(ReedSolomonGeometryTest, FewerThanKSurvivorsIsUnavailableAndWritesNothing) {
  const auto [k, m] = GetParam();
  const int n = k + m;
  ReedSolomon codec = MakeCodec(k, m);
  Stripe stripe(k, m, 257, 42);
  stripe.Encode(codec);
  const std::vector<std::vector<uint8_t>> before = stripe.units;
  std::mt19937 rng(k * 31 + m);
  for (int trial = 0; trial < 20; ++trial) {
    // Lose between m+1 and n units.
    const int lose = m + 1 + static_cast<int>(rng() % (n - m));
    std::vector<bool> present(n, true);
    for (int lost = 0; lost < lose;) {
      const int i = static_cast<int>(rng() % n);
      if (present[i]) present[i] = false, ++lost;
    }
    std::vector<uint8_t*> units = stripe.UnitPtrs();
    Status st = codec.Reconstruct(stripe.unit_size, units, present);
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
    const std::string counts = std::to_string(n - lose) + " of " + std::to_string(n) +
                               " units present, " + std::to_string(k) + " needed";
    EXPECT_NE(st.message().find(counts), std::string::npos)
        << "message '" << st.message() << "' lacks '" << counts << "'";
    EXPECT_EQ(stripe.units, before);
  }
}

TEST_P(ReedSolomonGeometryTest, NothingMissingIsANoOp) {
  const auto [k, m] = GetParam();
  ReedSolomon codec = MakeCodec(k, m);
  Stripe stripe(k, m, 97, 3);
  stripe.Encode(codec);
  // Deliberately wrong parity: with every unit present it must not be touched.
  for (int p = k; p < k + m; ++p) stripe.units[p].assign(stripe.unit_size, 0xEE);
  const std::vector<std::vector<uint8_t>> before = stripe.units;
  std::vector<uint8_t*> units = stripe.UnitPtrs();
  ASSERT_TRUE(codec.Reconstruct(stripe.unit_size, units, std::vector<bool>(k + m, true)).ok());
  EXPECT_EQ(stripe.units, before);
}

INSTANTIATE_TEST_SUITE_P(Geometries, ReedSolomonGeometryTest,
                         testing::Values(std::tuple{2, 1}, std::tuple{4, 2}, std::tuple{8, 2},
                                         std::tuple{10, 4}, std::tuple{16, 4}, std::tuple{1, 0},
                                         std::tuple{1, 1}, std::tuple{3, 3}, std::tuple{6, 3},
                                         std::tuple{12, 4}),
                         [](const testing::TestParamInfo<std::tuple<int, int>>& info) {
                           return "RS_" + std::to_string(std::get<0>(info.param)) + "_" +
                                  std::to_string(std::get<1>(info.param));
                         });

// MDS for every supported geometry: losing exactly m units leaves a unique set
// of k survivors, so covering every such pattern covers every k x k decode
// matrix Reconstruct can ever build (with fewer losses it uses the lowest k
// survivors, which is one of these sets).
TEST(ReedSolomonMdsTest, EveryGeometryRebuildsEveryMaximalErasure) {
  for (int k = 1; k <= ReedSolomon::kMaxDataUnits; ++k) {
    for (int m = 0; m <= ReedSolomon::kMaxParityUnits; ++m) {
      const int n = k + m;
      ReedSolomon codec = MakeCodec(k, m);
      Stripe original(k, m, 67, 17 * k + m);
      original.Encode(codec);
      Stripe stripe = original;
      for (unsigned lost = 1; lost < (1u << n); ++lost) {
        if (std::popcount(lost) != m) continue;
        ASSERT_TRUE(LoseAndRebuild(codec, stripe, original, lost));
      }
    }
  }
}

TEST(ReedSolomonReconstructTest, NoParityCannotRebuild) {
  ReedSolomon codec = MakeCodec(1, 0);
  Stripe stripe(1, 0, 16, 9);
  std::vector<uint8_t*> units = stripe.UnitPtrs();
  EXPECT_TRUE(codec.Reconstruct(16, units, {true}).ok());
  Status st = codec.Reconstruct(16, units, {false});
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("0 of 1 units present, 1 needed"), std::string::npos) << st.message();
}

TEST(ReedSolomonReconstructTest, MalformedArgumentsAreInvalidArgument) {
  ReedSolomon codec = MakeCodec(4, 2);
  Stripe stripe(4, 2, 64, 11);
  stripe.Encode(codec);
  std::vector<uint8_t*> units = stripe.UnitPtrs();
  std::vector<bool> present = {false, true, true, true, true, true};

  std::vector<uint8_t*> too_few(units.begin(), units.end() - 1);
  EXPECT_EQ(codec.Reconstruct(64, too_few, present).code(), StatusCode::kInvalidArgument);
  std::vector<bool> too_many_flags = present;
  too_many_flags.push_back(true);
  EXPECT_EQ(codec.Reconstruct(64, units, too_many_flags).code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t*> with_null = units;
  with_null[0] = nullptr;
  EXPECT_EQ(codec.Reconstruct(64, with_null, present).code(), StatusCode::kInvalidArgument);
}

// Decode tables are cached per codec by present mask and shared by copies; a
// cache keyed too coarsely (say, by the number of missing units) would hand a
// pattern the tables of another one.
TEST(ReedSolomonReconstructTest, CachedTablesMatchTheirPattern) {
  ReedSolomon codec = MakeCodec(6, 3);
  const ReedSolomon copy = codec;
  Stripe original(6, 3, 129, 77);
  original.Encode(codec);
  Stripe stripe = original;
  // Two rounds so the second one runs entirely on cached tables, alternating
  // codec and copy so each uses entries the other built.
  for (int round = 0; round < 2; ++round) {
    for (unsigned lost = 1; lost < (1u << 9); ++lost) {
      if (std::popcount(lost) > 3) continue;
      const ReedSolomon& user = (lost + round) % 2 == 0 ? codec : copy;
      ASSERT_TRUE(LoseAndRebuild(user, stripe, original, lost)) << "round " << round;
    }
  }
}

// The codec is shared by every I/O thread of a node; concurrent rebuilds of
// different patterns must not interfere.
TEST(ReedSolomonReconstructTest, SharedCodecRebuildsConcurrently) {
  ReedSolomon codec = MakeCodec(10, 4);
  constexpr int kThreads = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&codec, &failures, t] {
      Stripe original(10, 4, 4097, 500 + t);
      original.Encode(codec);
      Stripe stripe = original;
      std::mt19937 rng(t);
      for (int iter = 0; iter < 300; ++iter) {
        unsigned lost = 0;
        const int lose = 1 + static_cast<int>(rng() % 4);
        while (std::popcount(lost) < lose) lost |= 1u << (rng() % 14);
        if (!LoseAndRebuild(codec, stripe, original, lost)) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace tessera::ec
