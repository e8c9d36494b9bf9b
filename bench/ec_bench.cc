// ReedSolomon against raw ISA-L on the same buffers, to show what the codec's
// per-call work (argument checks, pointer marshalling and, for Reconstruct,
// finding the decode tables of the erasure pattern) costs at real unit sizes.
// The raw variants precompute their tables outside the timed loop.
//
// Throughput counts data bytes (k units) per stripe. Development machines are
// shared, and load from other processes moves separate codec and raw runs by
// tens of percent, so the Paired benchmarks also alternate codec and raw calls
// within one loop, time each call in thread CPU time (time spent descheduled
// counts for neither side), and report raw_time / codec_time as codec_vs_raw
// (1.0 means the codec keeps all of raw ISA-L's throughput).
#include <benchmark/benchmark.h>
#include <isa-l/erasure_code.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ec/reed_solomon.h"

namespace tessera::ec {
namespace {

constexpr size_t kUnitSize = 128 * 1024;

// One stripe of k+m units with random data and valid parity.
struct Stripe {
  Stripe(int k, int m, size_t unit_size)
      : k(k),
        m(m),
        unit_size(unit_size),
        codec(std::move(ReedSolomon::Create(k, m)).value()),
        units(k + m, std::vector<uint8_t>(unit_size)) {
    std::mt19937_64 rng(k * 100 + m);
    for (int i = 0; i < k; ++i) {
      for (uint8_t& b : units[i]) b = static_cast<uint8_t>(rng());
    }
    std::vector<uint8_t*> data = Ptrs(0, k);
    codec.Encode(unit_size, std::vector<const uint8_t*>(data.begin(), data.end()), Ptrs(k, k + m));
  }

  std::vector<uint8_t*> Ptrs(int begin, int end) {
    std::vector<uint8_t*> p;
    for (int i = begin; i < end; ++i) p.push_back(units[i].data());
    return p;
  }

  int k;
  int m;
  size_t unit_size;
  ReedSolomon codec;
  std::vector<std::vector<uint8_t>> units;
};

// Computing parity: ReedSolomon::Encode against ec_encode_data.
class EncodeCase {
 public:
  EncodeCase(int k, int m, size_t unit_size)
      : s_(k, m, unit_size), tables_(32 * k * m), data_(s_.Ptrs(0, k)), parity_(s_.Ptrs(k, k + m)) {
    std::vector<uint8_t> matrix((k + m) * k);
    gf_gen_cauchy1_matrix(matrix.data(), k + m, k);
    ec_init_tables(k, m, matrix.data() + k * k, tables_.data());
    const_data_.assign(data_.begin(), data_.end());
  }

  const Stripe& stripe() const { return s_; }
  // Both sides produce the parity Stripe computed at construction.
  bool Verify() {
    const std::vector<std::vector<uint8_t>> expected = s_.units;
    for (int i = s_.k; i < s_.k + s_.m; ++i) s_.units[i].assign(s_.unit_size, 0);
    Codec();
    bool ok = s_.units == expected;
    for (int i = s_.k; i < s_.k + s_.m; ++i) s_.units[i].assign(s_.unit_size, 0);
    Raw();
    return ok && s_.units == expected;
  }
  void Codec() { s_.codec.Encode(s_.unit_size, const_data_, parity_); }
  void Raw() {
    ec_encode_data(static_cast<int>(s_.unit_size), s_.k, s_.m, tables_.data(), data_.data(),
                   parity_.data());
  }

 private:
  Stripe s_;
  std::vector<uint8_t> tables_;
  std::vector<uint8_t*> data_;
  std::vector<const uint8_t*> const_data_;
  std::vector<uint8_t*> parity_;
};

// Losing data units 0..m-1, the most expensive case: every rebuilt unit needs
// the inverted matrix and all k survivors (units m..m+k-1 on both sides).
class ReconstructCase {
 public:
  ReconstructCase(int k, int m, size_t unit_size)
      : s_(k, m, unit_size),
        present_(k + m, true),
        units_(s_.Ptrs(0, k + m)),
        sources_(s_.Ptrs(m, m + k)),
        outputs_(s_.Ptrs(0, m)),
        tables_(32 * k * m) {
    for (int i = 0; i < m; ++i) present_[i] = false;
    std::vector<uint8_t> matrix((k + m) * k);
    gf_gen_cauchy1_matrix(matrix.data(), k + m, k);
    std::vector<uint8_t> b(matrix.begin() + m * k, matrix.begin() + (m + k) * k);
    std::vector<uint8_t> b_inv(k * k);
    invertible_ = gf_invert_matrix(b.data(), b_inv.data(), k) == 0;
    // The lost data units' rows are the first m rows of B^-1.
    ec_init_tables(k, m, b_inv.data(), tables_.data());
  }

  const Stripe& stripe() const { return s_; }
  bool Verify() {
    const std::vector<std::vector<uint8_t>> expected = s_.units;
    for (int i = 0; i < s_.m; ++i) s_.units[i].assign(s_.unit_size, 0);
    bool ok = Codec().ok() && s_.units == expected;
    for (int i = 0; i < s_.m; ++i) s_.units[i].assign(s_.unit_size, 0);
    Raw();
    return ok && invertible_ && s_.units == expected;
  }
  Status Codec() { return s_.codec.Reconstruct(s_.unit_size, units_, present_); }
  void Raw() {
    ec_encode_data(static_cast<int>(s_.unit_size), s_.k, s_.m, tables_.data(), sources_.data(),
                   outputs_.data());
  }

 private:
  Stripe s_;
  std::vector<bool> present_;
  std::vector<uint8_t*> units_;
  std::vector<uint8_t*> sources_;
  std::vector<uint8_t*> outputs_;
  std::vector<uint8_t> tables_;
  bool invertible_ = false;
};

std::chrono::nanoseconds ThreadCpuTime() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

void SetThroughput(benchmark::State& state, const Stripe& stripe) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * stripe.k *
                          static_cast<int64_t>(stripe.unit_size));
}

template <typename Case>
void RunCodec(benchmark::State& state, int k, int m, size_t unit_size) {
  Case c(k, m, unit_size);
  if (!c.Verify()) return state.SkipWithError("codec and raw ISA-L disagree");
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.Codec());
    benchmark::ClobberMemory();
  }
  SetThroughput(state, c.stripe());
}

// DoNotOptimize needs a value; Encode returns none.
template <>
void RunCodec<EncodeCase>(benchmark::State& state, int k, int m, size_t unit_size) {
  EncodeCase c(k, m, unit_size);
  if (!c.Verify()) return state.SkipWithError("codec and raw ISA-L disagree");
  for (auto _ : state) {
    c.Codec();
    benchmark::ClobberMemory();
  }
  SetThroughput(state, c.stripe());
}

template <typename Case>
void RunRaw(benchmark::State& state, int k, int m, size_t unit_size) {
  Case c(k, m, unit_size);
  if (!c.Verify()) return state.SkipWithError("codec and raw ISA-L disagree");
  for (auto _ : state) {
    c.Raw();
    benchmark::ClobberMemory();
  }
  SetThroughput(state, c.stripe());
}

template <typename Case>
void RunPaired(benchmark::State& state, int k, int m, size_t unit_size) {
  Case c(k, m, unit_size);
  if (!c.Verify()) return state.SkipWithError("codec and raw ISA-L disagree");
  std::chrono::nanoseconds codec_time{0};
  std::chrono::nanoseconds raw_time{0};
  bool codec_first = true;
  for (auto _ : state) {
    // Alternating which side goes first cancels any warm-cache advantage.
    for (int side = 0; side < 2; ++side) {
      const std::chrono::nanoseconds start = ThreadCpuTime();
      if ((side == 0) == codec_first) {
        (void)c.Codec();
      } else {
        c.Raw();
      }
      benchmark::ClobberMemory();
      ((side == 0) == codec_first ? codec_time : raw_time) += ThreadCpuTime() - start;
    }
    codec_first = !codec_first;
  }
  state.counters["codec_vs_raw"] =
      std::chrono::duration<double>(raw_time) / std::chrono::duration<double>(codec_time);
  // Two stripes per iteration, one coded by each side.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 * k *
                          static_cast<int64_t>(unit_size));
}

// Fixed per-call cost of Reconstruct, with next to no data to code.
void ReconstructFixedCost(benchmark::State& state, int k, int m) {
  ReconstructCase c(k, m, 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.Codec());
    benchmark::ClobberMemory();
  }
}

void RegisterAll() {
  const std::pair<int, int> kGeometries[] = {{4, 2}, {8, 2}, {10, 4}, {16, 4}};
  for (auto [k, m] : kGeometries) {
    const std::string g = "/k:" + std::to_string(k) + "/m:" + std::to_string(m);
    benchmark::RegisterBenchmark(("Encode/codec" + g).c_str(), RunCodec<EncodeCase>, k, m,
                                 kUnitSize);
    benchmark::RegisterBenchmark(("Encode/raw" + g).c_str(), RunRaw<EncodeCase>, k, m, kUnitSize);
    benchmark::RegisterBenchmark(("Reconstruct/codec" + g).c_str(), RunCodec<ReconstructCase>, k, m,
                                 kUnitSize);
    benchmark::RegisterBenchmark(("Reconstruct/raw" + g).c_str(), RunRaw<ReconstructCase>, k, m,
                                 kUnitSize);
  }
  for (auto [k, m] : kGeometries) {
    const std::string g = "/k:" + std::to_string(k) + "/m:" + std::to_string(m);
    benchmark::RegisterBenchmark(("Paired/Encode" + g).c_str(), RunPaired<EncodeCase>, k, m,
                                 kUnitSize);
    benchmark::RegisterBenchmark(("Paired/Reconstruct" + g).c_str(), RunPaired<ReconstructCase>, k,
                                 m, kUnitSize);
  }
  for (auto [k, m] : kGeometries) {
    const std::string g = "/k:" + std::to_string(k) + "/m:" + std::to_string(m);
    benchmark::RegisterBenchmark(("ReconstructFixedCost/codec" + g).c_str(), ReconstructFixedCost,
                                 k, m);
  }
}

}  // namespace
}  // namespace tessera::ec

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  tessera::ec::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
