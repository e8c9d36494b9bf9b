// Node and drive states of the OneFS Group Management Protocol (GMP) model.
//
// A device (a node or one of its drives) has exactly one liveness state,
// UP, DOWN, DEAD, STALLED or GONE, plus two independent flags, soft-failed
// and read-only. The seven names together are the DeviceState values; a
// DeviceCondition is one liveness plus the flags, which is what the
// capability tables (capability.h) are keyed by.
//
// Which combinations exist: STALLED applies to drives only, read-only to
// nodes only. Soft-failed, read-only and dead are persistent: they are set
// by an operator or by repair, stored in etcd, and survive restarts. UP,
// DOWN, STALLED and GONE are observed by the group protocol and never
// stored. A soft-failed device may move between DOWN and UP and keep its
// flag.
//
// Names print in lower case, as in the group notation ("soft_failed",
// "read_only"); parsing ignores case, accepts '-' for '_' and takes
// "smartfail"/"smartfailed" as soft_failed. Everything here is pure.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::cluster {

enum class DeviceKind { kNode, kDrive };

// "node" or "drive".
std::string_view DeviceKindName(DeviceKind kind);

enum class DeviceState {
  kUp,          // responding
  kDown,        // not responding
  kDead,        // may never return to UP; to be removed
  kStalled,     // a drive that responds too slowly
  kGone,        // removed
  kSoftFailed,  // being removed (smartfail in progress)
  kReadOnly,    // a node whose drives are not written
};

inline constexpr std::array<DeviceState, 7> kAllDeviceStates = {
    DeviceState::kUp,   DeviceState::kDown,       DeviceState::kDead,     DeviceState::kStalled,
    DeviceState::kGone, DeviceState::kSoftFailed, DeviceState::kReadOnly,
};

// "up", "down", "dead", "stalled", "gone", "soft_failed", "read_only".
std::string_view DeviceStateName(DeviceState state);

// Inverse of DeviceStateName, with the leniency described above;
// InvalidArgument naming the text and the valid names otherwise.
Result<DeviceState> ParseDeviceState(std::string_view text);

// True for soft_failed, read_only and dead: the states kept in etcd.
bool IsPersistent(DeviceState state);

// False for STALLED on a node and for read-only on a drive.
bool AppliesTo(DeviceState state, DeviceKind kind);

// The liveness part of a condition: the five mutually exclusive states.
enum class Liveness { kUp, kDown, kDead, kStalled, kGone };

inline constexpr std::array<Liveness, 5> kAllLiveness = {
    Liveness::kUp, Liveness::kDown, Liveness::kDead, Liveness::kStalled, Liveness::kGone,
};

// The DeviceState that names `liveness`.
DeviceState StateOf(Liveness liveness);

struct DeviceCondition {
  Liveness liveness = Liveness::kUp;
  bool soft_failed = false;
  bool read_only = false;

  // The states this condition is in, liveness first: e.g. {up, soft_failed}.
  std::vector<DeviceState> States() const;
  // "UP", "DOWN, soft_failed, read_only": the liveness in capitals, then the
  // flags, as the reference's tables write their rows.
  std::string ToString() const;

  bool operator==(const DeviceCondition&) const = default;
};

// OK when every state of `condition` applies to `kind`; InvalidArgument
// ("read_only applies to nodes only") otherwise.
Status ValidateCondition(DeviceKind kind, const DeviceCondition& condition);

}  // namespace tessera::cluster
