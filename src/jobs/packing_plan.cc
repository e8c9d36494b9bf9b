#include "jobs/packing_plan.h"

#include <algorithm>

#include "io/shadow_store.h"

namespace tessera::jobs {

using meta::PackingPlace;

std::string_view PackActionName(PackAction action) {
  switch (action) {
    case PackAction::kNone:
      return "none";
    case PackAction::kPack:
      return "pack";
    case PackAction::kRepack:
      return "repack";
    case PackAction::kUnpack:
      return "unpack";
    case PackAction::kSetAttributes:
      return "set attributes";
  }
  return "?";
}

std::string_view PackSkipCounter(PackSkip skip) {
  switch (skip) {
    case PackSkip::kNone:
      return "";
    case PackSkip::kPackingDisabled:
      return "Skipped packing: packing disabled";
    case PackSkip::kEmpty:
      return "Skipped packing: empty files";
    case PackSkip::kTooLarge:
      return "Skipped packing: larger than maximum size";
    case PackSkip::kTooRecent:
      return "Skipped packing: modified within minimum age";
  }
  return "";
}

namespace {

bool TooRecent(const meta::FileRecord& record, const PackingPolicyRules& policy,
               const PackingRules& rules, int64_t now_ns) {
  int64_t min_age_ns = std::max(rules.min_age_seconds, policy.min_age_seconds) * 1'000'000'000;
  return now_ns - record.modified_ns < min_age_ns;
}

PackSkip WhyNotEligible(const meta::FileRecord& record, const PackingPolicyRules& policy,
                        const PackingRules& rules, int64_t now_ns) {
  if (!rules.enabled) return PackSkip::kPackingDisabled;
  if (record.size == 0) return PackSkip::kEmpty;
  uint64_t max_size = std::min(rules.max_file_size, io::kContainerChunkSize);
  if (policy.max_size) max_size = std::min(max_size, *policy.max_size);
  if (record.size > max_size) return PackSkip::kTooLarge;
  if (TooRecent(record, policy, rules, now_ns)) return PackSkip::kTooRecent;
  return PackSkip::kNone;
}

}  // namespace

PackingDecision DecidePacking(const meta::FileRecord& record, const PackingPolicyRules* policy,
                              const PackingRules& rules, int64_t now_ns,
                              std::string_view container_protection, std::string_view protection) {
  PackingDecision d;
  if (policy != nullptr && policy->enable_packing) {
    d.policy = PackingPlace::kContainer;
    if (record.is_packed() && rules.unpack_recently_modified &&
        TooRecent(record, *policy, rules, now_ns)) {
      d.action = PackAction::kUnpack;
      d.skip = PackSkip::kTooRecent;
    } else if (record.is_packed()) {
      d.target = PackingPlace::kContainer;
      if (container_protection != protection) d.action = PackAction::kRepack;
    } else {
      d.skip = WhyNotEligible(record, *policy, rules, now_ns);
      if (d.skip == PackSkip::kNone) {
        d.target = PackingPlace::kContainer;
        d.action = PackAction::kPack;
      }
    }
  } else if (record.is_packed()) {
    d.action = PackAction::kUnpack;
  }
  if (d.action == PackAction::kNone &&
      (record.packing_policy != d.policy || record.packing_target != d.target)) {
    d.action = PackAction::kSetAttributes;
  }
  return d;
}

}  // namespace tessera::jobs
