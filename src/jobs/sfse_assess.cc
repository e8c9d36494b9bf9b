#include "jobs/sfse_assess.h"

#include <algorithm>
#include <cstdio>

#include "common/units.h"
#include "io/piece_map.h"

namespace tessera::jobs {
namespace {

uint64_t ProtectionGroups(const meta::FileRecord& record) {
  return record.is_packed() ? 0 : io::StripeCount(record);
}

double Percent(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

}  // namespace

uint64_t SfseEstimate::raw_space_saving() const {
  return packable_physical_bytes > packed_physical_bytes
             ? packable_physical_bytes - packed_physical_bytes
             : 0;
}
double SfseEstimate::raw_space_saving_percent() const {
  return Percent(raw_space_saving(), physical_bytes);
}
uint64_t SfseEstimate::pg_reduction() const {
  return packable_protection_groups > packed_protection_groups
             ? packable_protection_groups - packed_protection_groups
             : 0;
}
double SfseEstimate::pg_reduction_percent() const {
  return Percent(pg_reduction(), protection_groups);
}

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

std::string FormatSfseEstimate(const SfseEstimate& e) {
  char saving[96], pg[96];
  std::snprintf(saving, sizeof saving, "* Raw space saving: %s (%.2f%%)",
                FormatSize(e.raw_space_saving()).c_str(), e.raw_space_saving_percent());
  std::snprintf(pg, sizeof pg, "* PG reduction: %llu (%.2f%%)",
                static_cast<unsigned long long>(e.pg_reduction()), e.pg_reduction_percent());
  return "SFSE estimation summary:\n" + std::string(saving) + "\n" + pg + "\n" +
         "  (" + std::to_string(e.packable_files) + " of " + std::to_string(e.files) +
         " files packable, " + FormatSize(e.packable_logical_bytes) + " of data)\n";
}

}  // namespace tessera::jobs
