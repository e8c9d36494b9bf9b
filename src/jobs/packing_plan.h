// What the SmartPools job does with one file: the pure rules that turn a
// file record, the file pool policy that matches it and the packing
// settings into the file's packing attributes and an action. No I/O.
//
//   packing_policy  container iff the matching policy enables packing.
//   packing_target  container iff the policy is container and the file is
//                   eligible: packing enabled, 1 byte to the maximum size
//                   (the setting, lowered by the policy's own, never above
//                   one container chunk), and not modified within the
//                   minimum age (the larger of the setting's and the
//                   policy's). A packed file under a packing policy stays
//                   packed (its target stays container) even when the
//                   settings change, except that with
//                   unpack_recently_modified a packed file modified within
//                   the minimum age (say, after the age was raised) is
//                   unpacked; otherwise only a policy that stops packing
//                   unpacks files.
//   action          pack a native file whose target is container; repack
//                   a packed file whose container has another protection
//                   than the cluster's now; unpack a packed file whose
//                   policy is native; else only store attributes that
//                   changed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "meta/file_record.h"

namespace tessera::jobs {

struct PackingRules {
  bool enabled = false;
  uint64_t max_file_size = 1016 * 1024;
  int64_t min_age_seconds = 0;
  bool unpack_recently_modified = false;
};

// The parts of a file pool policy that decide packing.
struct PackingPolicyRules {
  bool enable_packing = false;
  int64_t min_age_seconds = 0;
  std::optional<uint64_t> max_size;
};

enum class PackAction { kNone, kPack, kRepack, kUnpack, kSetAttributes };
std::string_view PackActionName(PackAction action);

// Why an eligible-by-policy file is not packed (the report's skip counters).
enum class PackSkip { kNone, kPackingDisabled, kEmpty, kTooLarge, kTooRecent };
// "Skipped packing: ..." as the job report prints it; "" for kNone.
std::string_view PackSkipCounter(PackSkip skip);

struct PackingDecision {
  meta::PackingPlace policy = meta::PackingPlace::kNative;
  meta::PackingPlace target = meta::PackingPlace::kNative;
  PackAction action = PackAction::kNone;
  PackSkip skip = PackSkip::kNone;
};

// `policy`: the matching policy, or nullptr when none matches.
// `container_protection`: for a packed file, the protection its container
// chunk was written under. `protection`: what new containers get.
PackingDecision DecidePacking(const meta::FileRecord& record, const PackingPolicyRules* policy,
                              const PackingRules& rules, int64_t now_ns,
                              std::string_view container_protection, std::string_view protection);

}  // namespace tessera::jobs
