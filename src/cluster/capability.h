// What a node or drive in a given condition may be used for, at a given
// access level: the GMP capability tables.
//
// Three capabilities are tracked. Readable: data on the device may be read.
// Writable: data may be written to it. Restripe-from: repair should move
// blocks off it. Readable and writable each need a minimum access level,
// or can never be had ("never"); restripe-from does not depend on the
// level.
//
// Access levels are ordered; a caller asks at a level and gets every
// capability whose minimum is at or below it. kNormal is what ordinary I/O
// uses; the higher levels are for "last resort" access, e.g. restripe and
// repair reading from a soft-failed device:
//
//   normal < read_stalled < modify_stalled < read_soft_fail
//
// The tables hold exactly the rows the reference model gives (see
// docs/states.md). A condition without a row is an error, with one rule:
// a DEAD device's flags do not change its row (DEAD is already never
// readable, never writable and restriped from).
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>

#include "cluster/device_state.h"
#include "common/status.h"

namespace tessera::cluster {

enum class AccessLevel { kNormal, kReadStalled, kModifyStalled, kReadSoftFail };

inline constexpr std::array<AccessLevel, 4> kAllAccessLevels = {
    AccessLevel::kNormal,
    AccessLevel::kReadStalled,
    AccessLevel::kModifyStalled,
    AccessLevel::kReadSoftFail,
};

// "normal", "read_stalled", "modify_stalled", "read_soft_fail".
std::string_view AccessLevelName(AccessLevel level);
// Inverse of AccessLevelName; ignores case and accepts '-' or ' ' for '_'.
Result<AccessLevel> ParseAccessLevel(std::string_view text);

// The least access level that grants a capability; nullopt means never.
using MinimumLevel = std::optional<AccessLevel>;

// True when asking at `level` is enough for `minimum`.
bool Grants(AccessLevel level, MinimumLevel minimum);

// One row of a capability table.
struct CapabilityRow {
  DeviceCondition condition;
  MinimumLevel min_read;
  MinimumLevel min_write;
  bool restripe_from = false;
};

// The rows for nodes (nine) or drives (six), in the reference's order.
std::span<const CapabilityRow> CapabilityTable(DeviceKind kind);

// The row for `condition`, applying the DEAD rule above; nullptr when the
// table has none.
const CapabilityRow* FindCapabilityRow(DeviceKind kind, const DeviceCondition& condition);

struct Capabilities {
  bool readable = false;
  bool writable = false;
  bool restripe_from = false;
  bool operator==(const Capabilities&) const = default;
};

// The capabilities of a `kind` in `condition` when asked at `level`.
// InvalidArgument when the condition does not apply to the kind (a stalled
// node, a read-only drive) or has no row (GONE, STALLED with soft_failed).
Result<Capabilities> CapabilitiesOf(DeviceKind kind, const DeviceCondition& condition,
                                    AccessLevel level);

}  // namespace tessera::cluster
