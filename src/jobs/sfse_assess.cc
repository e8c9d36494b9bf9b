#include "jobs/sfse_assess.h"

#include <algorithm>

#include "common/units.h"
#include "io/piece_map.h"

namespace tessera::jobs {
namespace {

uint64_t ProtectionGroups(const meta::FileRecord& record) {
  return record.is_packed() ? 0 : io::StripeCount(record);
}

}  // namespace

SfseAssessor::SfseAssessor(uint64_t max_file_size, const layout::Geometry& container)
    : max_file_size_(max_file_size), container_(container) {}

void SfseAssessor::Add(const meta::FileRecord& record) {
  ++estimate_.files;
  const uint64_t physical = io::PhysicalBytes(record);
  estimate_.physical_bytes += physical;
  estimate_.protection_groups += ProtectionGroups(record);
  if (record.is_packed() || record.size == 0 || record.size > max_file_size_) return;
  ++estimate_.packable_files;
  estimate_.packable_logical_bytes += record.size;
  estimate_.packable_physical_bytes += physical;
  estimate_.packable_protection_groups += ProtectionGroups(record);
}

SfseEstimate SfseAssessor::Finish() const {
  SfseEstimate e = estimate_;
  e.container_geometry = container_.ToString();
  const uint64_t bytes = e.packable_logical_bytes;
  if (container_.kind == layout::Geometry::Kind::kStripe && container_.data_units > 0) {
    const uint64_t k = container_.data_units;
    const uint64_t width = container_.width();
    e.packed_physical_bytes = (bytes * width + k - 1) / k;
    const uint64_t stripe = k * container_.unit_size;
    e.packed_protection_groups = (bytes + stripe - 1) / stripe;
  } else {  // a cluster too small to stripe: containers would be mirrored
    e.packed_physical_bytes = bytes * static_cast<uint64_t>(std::max(1, container_.copies));
    e.packed_protection_groups = (bytes + kStripeUnitSize - 1) / kStripeUnitSize;
  }
  return e;
}

}  // namespace tessera::jobs
