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

#include "cluster/jobs/packing_reports.h"
#include "layout/geometry.h"
#include "meta/file_record.h"

namespace tessera::jobs {

using cluster::SfseEstimate;

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

}  // namespace tessera::jobs
