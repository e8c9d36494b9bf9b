// Reed-Solomon erasure code over GF(2^8) with a Cauchy generator matrix,
// computed by ISA-L. A stripe has k data units and m parity units of equal
// length; any k of the k+m units rebuild the rest (the code is MDS for every
// k <= 16, m <= 4, which the plain Vandermonde generator is not).
//
// A ReedSolomon is immutable once created and safe to share between threads.
// Units are caller-owned buffers; the codec never allocates per call except
// for the decode tables of a new erasure pattern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"

namespace tessera::ec {

class ReedSolomon {
 public:
  static constexpr int kMaxDataUnits = 16;
  static constexpr int kMaxParityUnits = 4;

  // InvalidArgument unless 1 <= k <= 16 and 0 <= m <= 4.
  static Result<ReedSolomon> Create(int data_units, int parity_units);

  int data_units() const { return k_; }
  int parity_units() const { return m_; }
  int total_units() const { return k_ + m_; }

  // Computes the m parity units from the k data units, each `unit_size` bytes.
  void Encode(size_t unit_size, std::span<const uint8_t* const> data,
              std::span<uint8_t* const> parity) const;

  // units holds k+m buffers of `unit_size` bytes (data first, then parity);
  // present[i] says whether units[i] holds valid bytes. Every missing unit is
  // rebuilt in place. Unavailable if fewer than k units are present.
  Status Reconstruct(size_t unit_size, std::span<uint8_t* const> units,
                     const std::vector<bool>& present) const;

 private:
  ReedSolomon(int k, int m);

  int k_;
  int m_;
  std::vector<uint8_t> encode_matrix_;  // (k+m) x k, identity on top
  std::vector<uint8_t> encode_tables_;  // ISA-L expanded tables for the parity rows
};

}  // namespace tessera::ec
