#include "cluster/device_state.h"

#include <cctype>

namespace tessera::cluster {

std::string_view DeviceKindName(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kNode:
      return "node";
    case DeviceKind::kDrive:
      return "drive";
  }
  return "?";
}

std::string_view DeviceStateName(DeviceState state) {
  switch (state) {
    case DeviceState::kUp:
      return "up";
    case DeviceState::kDown:
      return "down";
    case DeviceState::kDead:
      return "dead";
    case DeviceState::kStalled:
      return "stalled";
    case DeviceState::kGone:
      return "gone";
    case DeviceState::kSoftFailed:
      return "soft_failed";
    case DeviceState::kReadOnly:
      return "read_only";
  }
  return "?";
}

Result<DeviceState> ParseDeviceState(std::string_view text) {
  std::string folded;
  folded.reserve(text.size());
  for (char c : text) {
    folded.push_back(c == '-' ? '_'
                              : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (folded == "smartfail" || folded == "smartfailed") return DeviceState::kSoftFailed;
  for (DeviceState state : kAllDeviceStates) {
    if (folded == DeviceStateName(state)) return state;
  }
  std::string valid;
  for (DeviceState state : kAllDeviceStates) {
    if (!valid.empty()) valid += ", ";
    valid += DeviceStateName(state);
  }
  return Status::InvalidArgument("unknown device state \"" + std::string(text) +
                                 "\"; expected one of " + valid);
}

bool IsPersistent(DeviceState state) {
  return state == DeviceState::kSoftFailed || state == DeviceState::kReadOnly ||
         state == DeviceState::kDead;
}

bool AppliesTo(DeviceState state, DeviceKind kind) {
  if (state == DeviceState::kStalled) return kind == DeviceKind::kDrive;
  if (state == DeviceState::kReadOnly) return kind == DeviceKind::kNode;
  return true;
}

DeviceState StateOf(Liveness liveness) {
  switch (liveness) {
    case Liveness::kUp:
      return DeviceState::kUp;
    case Liveness::kDown:
      return DeviceState::kDown;
    case Liveness::kDead:
      return DeviceState::kDead;
    case Liveness::kStalled:
      return DeviceState::kStalled;
    case Liveness::kGone:
      return DeviceState::kGone;
  }
  return DeviceState::kGone;
}

std::vector<DeviceState> DeviceCondition::States() const {
  std::vector<DeviceState> states = {StateOf(liveness)};
  if (soft_failed) states.push_back(DeviceState::kSoftFailed);
  if (read_only) states.push_back(DeviceState::kReadOnly);
  return states;
}

std::string DeviceCondition::ToString() const {
  std::string out;
  for (DeviceState state : States()) {
    if (!out.empty()) {
      out += ", ";
      out += DeviceStateName(state);
    } else {
      for (char c : DeviceStateName(state)) {
        out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      }
    }
  }
  return out;
}

Status ValidateCondition(DeviceKind kind, const DeviceCondition& condition) {
  for (DeviceState state : condition.States()) {
    if (!AppliesTo(state, kind)) {
      DeviceKind other = kind == DeviceKind::kNode ? DeviceKind::kDrive : DeviceKind::kNode;
      return Status::InvalidArgument(std::string(DeviceStateName(state)) + " applies to " +
                                     std::string(DeviceKindName(other)) + "s only");
    }
  }
  return Status::Ok();
}

}  // namespace tessera::cluster
