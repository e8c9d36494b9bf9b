// Where a file should live, by the packing settings and its file pool policy
// (docs/packing.md): in a container, or native. This is the file's
// packing_target; the SmartPools job packs or unpacks to reach it.
//
// A file's target is container when all of these hold:
//   - packing is enabled (packing_enabled);
//   - its policy (MatchFilePoolPolicy; none: native) enables packing;
//   - it was last modified at least max(policy min age, packing_min_age) ago;
//   - its size is at most the policy's max_size, or packing_max_file_size
//     when the policy has none.
// Else native.
//
// Pure; thread-safe.
#pragma once

#include <cstdint>

#include "cluster/filepool/filepool_policy.h"
#include "cluster/filepool/packing_settings.h"

namespace tessera::cluster::filepool {

enum class PackingTarget { kNative, kContainer };

// `policy` may be nullptr (no policy matches the file).
PackingTarget DecidePackingTarget(const PackingSettings& settings, const FilePoolPolicy* policy,
                                  uint64_t size, int64_t modified_ns, int64_t now_ns);

// "container" or "native", as the file attribute spells it.
const char* PackingTargetName(PackingTarget target);

}  // namespace tessera::cluster::filepool
