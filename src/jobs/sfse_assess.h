// The small file storage efficiency assessment (`tessera sfse-assess`):
// what packing the files under a path would save, without moving any data.
//
// A file counts as packable when it is native and 1 byte to the maximum
// file size. Today it costs its own pieces (io::PhysicalBytes) and its
// protection groups (a mirrored file one per 128 KiB unit, a striped file
// one per stripe). Packed, its bytes would cost what the widest container
// geometry asks (k + m over k) and share that geometry's stripes.
// Savings are quoted against all the files assessed. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "layout/geometry.h"
#include "meta/file_record.h"

namespace tessera::jobs {

struct SfseEstimate {
  uint64_t files = 0;           // assessed
  uint64_t packable_files = 0;
  uint64_t physical_bytes = 0;  // of every assessed file, today
  uint64_t packable_logical_bytes = 0;
  uint64_t packable_physical_bytes = 0;  // of the packable files, today
  uint64_t packed_physical_bytes = 0;    // of the packable files, once packed (estimate)
  uint64_t protection_groups = 0;        // of every assessed file, today
  uint64_t packable_protection_groups = 0;
  uint64_t packed_protection_groups = 0;

  uint64_t raw_space_saving() const;
  double raw_space_saving_percent() const;
  uint64_t pg_reduction() const;
  double pg_reduction_percent() const;
};

class SfseAssessor {
 public:
  // `container`: the geometry of a full container chunk on this cluster.
  SfseAssessor(uint64_t max_file_size, const layout::Geometry& container);
  void Add(const meta::FileRecord& record);
  SfseEstimate Finish() const;

 private:
  uint64_t max_file_size_;
  layout::Geometry container_;
  SfseEstimate estimate_;
};

// "SFSE estimation summary:", "* Raw space saving: 1.7G (25.86%)",
// "* PG reduction: 25978 (78.73%)".
std::string FormatSfseEstimate(const SfseEstimate& estimate);

}  // namespace tessera::jobs
