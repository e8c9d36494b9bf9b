#include "cluster/filepool/packing_target.h"

#include <algorithm>

namespace tessera::cluster::filepool {

PackingTarget DecidePackingTarget(const PackingSettings& settings, const FilePoolPolicy* policy,
                                  uint64_t size, int64_t modified_ns, int64_t now_ns) {
  if (!settings.enabled || policy == nullptr || !policy->enable_packing) {
    return PackingTarget::kNative;
  }
  const uint64_t max_size = policy->max_size ? *policy->max_size : settings.max_file_size;
  if (size > max_size) return PackingTarget::kNative;
  const int64_t min_age_seconds = std::max(policy->min_age_seconds, settings.min_age_seconds);
  // In seconds, so that nanoseconds cannot overflow for long ages.
  const int64_t age_seconds = (now_ns - modified_ns) / 1'000'000'000;
  if (now_ns < modified_ns || age_seconds < min_age_seconds) return PackingTarget::kNative;
  return PackingTarget::kContainer;
}

const char* PackingTargetName(PackingTarget target) {
  return target == PackingTarget::kContainer ? "container" : "native";
}

}  // namespace tessera::cluster::filepool
