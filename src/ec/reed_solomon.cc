#include "ec/reed_solomon.h"

#include <isa-l/erasure_code.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace tessera::ec {
namespace {

constexpr int kMaxTotalUnits = ReedSolomon::kMaxDataUnits + ReedSolomon::kMaxParityUnits;

// ISA-L expands every matrix coefficient into a 32-byte multiplication table.
constexpr size_t kTableBytesPerCoefficient = 32;

// ISA-L takes lengths as int. Larger units are coded in slices; the code is
// bytewise, so slicing does not change the result. A multiple of 64 keeps every
// slice but the last on the SIMD fast path.
constexpr size_t kMaxSliceBytes = size_t{1} << 30;
static_assert(kMaxSliceBytes <= static_cast<size_t>(INT_MAX) && kMaxSliceBytes % 64 == 0);

// Encode has no Status to return, and a wrong span length would make ISA-L
// read or write past the caller's pointer arrays, so the check stays on in
// release builds: it costs a few compares per call.
void CheckOrDie(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "tessera::ec::ReedSolomon: %s\n", what);
  std::abort();
}

// outputs[j] = sum over i of coefficient(j, i) * sources[i], for every byte,
// with `tables` built by ec_init_tables for a (outputs x sources) matrix.
void ApplyTables(size_t len, int num_sources, int num_outputs, const uint8_t* tables,
                 const uint8_t* const* sources, uint8_t* const* outputs) {
  std::array<unsigned char*, ReedSolomon::kMaxDataUnits> src;
  std::array<unsigned char*, ReedSolomon::kMaxParityUnits> dst;
  for (size_t offset = 0; offset < len; offset += kMaxSliceBytes) {
    const size_t slice = std::min(len - offset, kMaxSliceBytes);
    // ISA-L's API is not const-correct; it only reads the sources and tables.
    for (int i = 0; i < num_sources; ++i) src[i] = const_cast<uint8_t*>(sources[i]) + offset;
    for (int j = 0; j < num_outputs; ++j) dst[j] = outputs[j] + offset;
    ec_encode_data(static_cast<int>(slice), num_sources, num_outputs,
                   const_cast<unsigned char*>(tables), src.data(), dst.data());
  }
}

// ISA-L tables that compute the `missing` units from the k `survivors`.
//
// The survivors satisfy S = B * D, where B holds their generator rows, so
// D = B^-1 * S and any unit u is E[u] * B^-1 * S. Missing data rows come
// straight from B^-1; missing parity rows need the product.
Result<std::vector<uint8_t>> BuildDecodeTables(int k, const std::vector<uint8_t>& encode_matrix,
                                               std::span<const int> survivors,
                                               std::span<const int> missing) {
  std::array<uint8_t, ReedSolomon::kMaxDataUnits * ReedSolomon::kMaxDataUnits> b;
  std::array<uint8_t, ReedSolomon::kMaxDataUnits * ReedSolomon::kMaxDataUnits> b_inv;
  for (int r = 0; r < k; ++r) {
    std::memcpy(&b[r * k], &encode_matrix[survivors[r] * k], k);
  }
  if (gf_invert_matrix(b.data(), b_inv.data(), k) != 0) {
    // Cannot happen with a Cauchy generator; it would mean the matrix is corrupt.
    return Status::Internal("Reed-Solomon decode matrix is singular for k=" + std::to_string(k));
  }

  std::array<uint8_t, ReedSolomon::kMaxParityUnits * ReedSolomon::kMaxDataUnits> rows;
  for (size_t j = 0; j < missing.size(); ++j) {
    const int u = missing[j];
    uint8_t* row = &rows[j * k];
    if (u < k) {
      std::memcpy(row, &b_inv[u * k], k);  // E[u] is the u-th identity row
      continue;
    }
    const uint8_t* e = &encode_matrix[u * k];
    for (int c = 0; c < k; ++c) {
      uint8_t acc = 0;
      for (int t = 0; t < k; ++t) acc ^= gf_mul(e[t], b_inv[t * k + c]);
      row[c] = acc;
    }
  }

  std::vector<uint8_t> tables(kTableBytesPerCoefficient * k * missing.size());
  ec_init_tables(k, static_cast<int>(missing.size()), rows.data(), tables.data());
  return tables;
}

}  // namespace

// Decode tables by present mask. Bounded so that a node that sees many
// patterns (several drives down, declustered placement) cannot grow it without
// limit: 256 entries hold every one- and two-unit loss of the widest geometry
// (20 + 190 patterns of 16+4) and take at most 512 KiB.
class ReedSolomon::DecodeCache {
 public:
  // Shared so that an entry evicted while another thread codes with it stays alive.
  using Tables = std::shared_ptr<const std::vector<uint8_t>>;

  Tables Find(uint32_t present_mask) const {
    std::shared_lock lock(mu_);
    auto it = tables_.find(present_mask);
    return it == tables_.end() ? nullptr : it->second;
  }

  // Returns the cached entry, which is `tables` unless another thread won a race.
  Tables Insert(uint32_t present_mask, Tables tables) {
    std::unique_lock lock(mu_);
    if (tables_.size() >= kCapacity && !tables_.contains(present_mask)) {
      // Evicting an arbitrary entry is enough: a rebuild revisits a few
      // patterns many times, and LRU order would turn every hit into a write.
      tables_.erase(tables_.begin());
    }
    return tables_.try_emplace(present_mask, std::move(tables)).first->second;
  }

 private:
  static constexpr size_t kCapacity = 256;

  mutable std::shared_mutex mu_;
  std::unordered_map<uint32_t, Tables> tables_;  // guarded by mu_
};

Result<ReedSolomon> ReedSolomon::Create(int data_units, int parity_units) {
  if (data_units < 1 || data_units > kMaxDataUnits) {
    return Status::InvalidArgument("Reed-Solomon needs 1 to " + std::to_string(kMaxDataUnits) +
                                   " data units, got " + std::to_string(data_units));
  }
  if (parity_units < 0 || parity_units > kMaxParityUnits) {
    return Status::InvalidArgument("Reed-Solomon needs 0 to " + std::to_string(kMaxParityUnits) +
                                   " parity units, got " + std::to_string(parity_units));
  }
  return ReedSolomon(data_units, parity_units);
}

ReedSolomon::ReedSolomon(int k, int m)
    : k_(k),
      m_(m),
      encode_matrix_(static_cast<size_t>((k + m) * k)),
      encode_tables_(kTableBytesPerCoefficient * static_cast<size_t>(k * m)),
      decode_cache_(std::make_shared<DecodeCache>()) {
  // ISA-L calls the total row count "m".
  gf_gen_cauchy1_matrix(encode_matrix_.data(), k + m, k);
  if (m > 0) ec_init_tables(k, m, encode_matrix_.data() + k * k, encode_tables_.data());
}

void ReedSolomon::Encode(size_t unit_size, std::span<const uint8_t* const> data,
                         std::span<uint8_t* const> parity) const {
  CheckOrDie(data.size() == static_cast<size_t>(k_), "Encode: data span length != k");
  CheckOrDie(parity.size() == static_cast<size_t>(m_), "Encode: parity span length != m");
  if (m_ == 0 || unit_size == 0) return;
  CheckOrDie(std::none_of(data.begin(), data.end(), [](const uint8_t* p) { return p == nullptr; }),
             "Encode: null data unit");
  CheckOrDie(std::none_of(parity.begin(), parity.end(), [](uint8_t* p) { return p == nullptr; }),
             "Encode: null parity unit");
  ApplyTables(unit_size, k_, m_, encode_tables_.data(), data.data(), parity.data());
}

Status ReedSolomon::Reconstruct(size_t unit_size, std::span<uint8_t* const> units,
                                const std::vector<bool>& present) const {
  const int n = total_units();
  if (units.size() != static_cast<size_t>(n) || present.size() != static_cast<size_t>(n)) {
    return Status::InvalidArgument("Reconstruct for RS(" + std::to_string(k_) + "," +
                                   std::to_string(m_) + ") needs " + std::to_string(n) +
                                   " units and present flags, got " + std::to_string(units.size()) +
                                   " units and " + std::to_string(present.size()) + " flags");
  }

  // Any k survivors determine the stripe (MDS). Taking the lowest indices makes
  // the choice a function of the present mask, which is what the cache keys on.
  std::array<int, kMaxDataUnits> survivors;
  std::array<int, kMaxTotalUnits> missing;
  int num_present = 0;
  int num_missing = 0;
  uint32_t present_mask = 0;
  for (int i = 0; i < n; ++i) {
    if (!present[i]) {
      missing[num_missing++] = i;
      continue;
    }
    present_mask |= uint32_t{1} << i;
    if (num_present < k_) survivors[num_present] = i;
    ++num_present;
  }
  if (num_present < k_) {
    return Status::Unavailable("cannot rebuild RS(" + std::to_string(k_) + "," +
                               std::to_string(m_) + ") stripe: " + std::to_string(num_present) +
                               " of " + std::to_string(n) + " units present, " +
                               std::to_string(k_) + " needed");
  }
  if (num_missing == 0 || unit_size == 0) return Status::Ok();
  for (int i = 0; i < n; ++i) {
    if (units[i] == nullptr) {
      return Status::InvalidArgument("Reconstruct: unit " + std::to_string(i) + " is null");
    }
  }

  DecodeCache::Tables tables = decode_cache_->Find(present_mask);
  if (tables == nullptr) {
    ASSIGN_OR_RETURN(
        std::vector<uint8_t> built,
        BuildDecodeTables(k_, encode_matrix_, {survivors.data(), static_cast<size_t>(k_)},
                          {missing.data(), static_cast<size_t>(num_missing)}));
    tables = decode_cache_->Insert(present_mask,
                                   std::make_shared<const std::vector<uint8_t>>(std::move(built)));
  }

  std::array<const uint8_t*, kMaxDataUnits> sources;
  std::array<uint8_t*, kMaxParityUnits> outputs;
  for (int r = 0; r < k_; ++r) sources[r] = units[survivors[r]];
  for (int j = 0; j < num_missing; ++j) outputs[j] = units[missing[j]];
  ApplyTables(unit_size, k_, num_missing, tables->data(), sources.data(), outputs.data());
  return Status::Ok();
}

}  // namespace tessera::ec
