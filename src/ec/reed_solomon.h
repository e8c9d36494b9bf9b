// Reed-Solomon erasure code over GF(2^8) with a Cauchy generator matrix,
// computed by ISA-L. A stripe has k data units and m parity units of equal
// length; any k of the k+m units rebuild the rest. A Cauchy matrix makes every
// k x k submatrix invertible by construction (ISA-L's Vandermonde generator
// only happens to be MDS for small k and m), and the generator fixes the
// parity bytes on disk: changing it makes existing stripes undecodable.
//
// A ReedSolomon is immutable once created and safe to share between threads.
// Units are caller-owned buffers of any length and alignment. Encode never
// allocates. Reconstruct needs decode tables for the erasure pattern (which
// units are present); building them inverts a k x k matrix, about 20 us for
// k = 16, while ISA-L rebuilds four 128 KiB units in about 90 us on AVX-512.
// So each codec keeps the tables of recently seen patterns in a small bounded
// cache behind a shared_mutex, and Reconstruct allocates only for a pattern
// that is not cached. Copies of a codec share its cache. Create one codec per
// geometry and keep it: a codec created per stripe pays the inversion on
// every degraded read.
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
  // data.size() must be k and parity.size() must be m, else the process
  // aborts (checked in release builds too: a mismatch is a caller bug that
  // would otherwise overrun the span). With m == 0 this does nothing.
  void Encode(size_t unit_size, std::span<const uint8_t* const> data,
              std::span<uint8_t* const> parity) const;

  // units holds k+m buffers of `unit_size` bytes (data first, then parity);
  // present[i] says whether units[i] holds valid bytes. Every missing unit is
  // rebuilt in place from k present ones; present units are only read.
  // Unavailable (nothing written) if fewer than k units are present;
  // InvalidArgument if units or present do not have k+m entries, or if a
  // unit is null when there is something to rebuild.
  Status Reconstruct(size_t unit_size, std::span<uint8_t* const> units,
                     const std::vector<bool>& present) const;

 private:
  class DecodeCache;

  ReedSolomon(int k, int m);

  int k_;
  int m_;
  std::vector<uint8_t> encode_matrix_;  // (k+m) x k, identity on top
  std::vector<uint8_t> encode_tables_;  // ISA-L expanded tables for the parity rows
  // Internally synchronized, hence usable from const methods.
  std::shared_ptr<DecodeCache> decode_cache_;
};

}  // namespace tessera::ec
