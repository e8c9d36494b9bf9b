#include "cluster/capability.h"

#include <cctype>
#include <string>

namespace tessera::cluster {
namespace {

constexpr MinimumLevel kNever = std::nullopt;
constexpr MinimumLevel kNormal = AccessLevel::kNormal;
constexpr MinimumLevel kSoftFail = AccessLevel::kReadSoftFail;
constexpr MinimumLevel kReadStalled = AccessLevel::kReadStalled;
constexpr MinimumLevel kModifyStalled = AccessLevel::kModifyStalled;

constexpr DeviceCondition Cond(Liveness liveness, bool soft_failed = false,
                               bool read_only = false) {
  return DeviceCondition{liveness, soft_failed, read_only};
}

// Minimum access level per node state.
const CapabilityRow kNodeTable[] = {
    {Cond(Liveness::kUp), kNormal, kNormal, false},
    {Cond(Liveness::kUp, /*soft_failed=*/true), kSoftFail, kNever, true},
    {Cond(Liveness::kUp, false, /*read_only=*/true), kNormal, kNever, false},
    {Cond(Liveness::kUp, true, true), kSoftFail, kNever, true},
    {Cond(Liveness::kDown), kNever, kNever, false},
    {Cond(Liveness::kDown, true), kNever, kNever, true},
    {Cond(Liveness::kDown, false, true), kNever, kNever, false},
    {Cond(Liveness::kDown, true, true), kNever, kNever, true},
    {Cond(Liveness::kDead), kNever, kNever, true},
};

// Minimum access level per drive state.
const CapabilityRow kDriveTable[] = {
    {Cond(Liveness::kUp), kNormal, kNormal, false},
    {Cond(Liveness::kUp, true), kSoftFail, kNever, true},
    {Cond(Liveness::kDown), kNever, kNever, false},
    {Cond(Liveness::kDown, true), kNever, kNever, true},
    {Cond(Liveness::kDead), kNever, kNever, true},
    {Cond(Liveness::kStalled), kReadStalled, kModifyStalled, false},
};

}  // namespace

std::string_view AccessLevelName(AccessLevel level) {
  switch (level) {
    case AccessLevel::kNormal:
      return "normal";
    case AccessLevel::kReadStalled:
      return "read_stalled";
    case AccessLevel::kModifyStalled:
      return "modify_stalled";
    case AccessLevel::kReadSoftFail:
      return "read_soft_fail";
  }
  return "?";
}

Result<AccessLevel> ParseAccessLevel(std::string_view text) {
  std::string folded;
  folded.reserve(text.size());
  for (char c : text) {
    folded.push_back(c == '-' || c == ' '
                         ? '_'
                         : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string valid;
  for (AccessLevel level : kAllAccessLevels) {
    if (folded == AccessLevelName(level)) return level;
    if (!valid.empty()) valid += ", ";
    valid += AccessLevelName(level);
  }
  return Status::InvalidArgument("unknown access level \"" + std::string(text) +
                                 "\"; expected one of " + valid);
}

bool Grants(AccessLevel level, MinimumLevel minimum) {
  return minimum.has_value() && static_cast<int>(level) >= static_cast<int>(*minimum);
}

std::span<const CapabilityRow> CapabilityTable(DeviceKind kind) {
  if (kind == DeviceKind::kNode) return kNodeTable;
  return kDriveTable;
}

const CapabilityRow* FindCapabilityRow(DeviceKind kind, const DeviceCondition& condition) {
  DeviceCondition key = condition;
  if (key.liveness == Liveness::kDead) key = DeviceCondition{Liveness::kDead, false, false};
  for (const CapabilityRow& row : CapabilityTable(kind)) {
    if (row.condition == key) return &row;
  }
  return nullptr;
}

Result<Capabilities> CapabilitiesOf(DeviceKind kind, const DeviceCondition& condition,
                                    AccessLevel level) {
  RETURN_IF_ERROR(ValidateCondition(kind, condition));
  const CapabilityRow* row = FindCapabilityRow(kind, condition);
  if (row == nullptr) {
    return Status::InvalidArgument("no capability row for a " + std::string(DeviceKindName(kind)) +
                                   " that is " + condition.ToString());
  }
  return Capabilities{Grants(level, row->min_read), Grants(level, row->min_write),
                      row->restripe_from};
}

}  // namespace tessera::cluster
