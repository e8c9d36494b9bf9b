// The settings registry: every shared setting of a Tessera cluster, declared
// once with its name, type, default, bounds and kind. It is the single source
// of truth for what `tessera config` accepts, what ConfigStore validates
// before writing, what ConfigWatcher applies live, and what
// `tessera config list` prints.
//
// Values travel as text. ParseSettingValue validates a text against its
// setting and returns a SettingValue whose `canonical` spelling is what two
// values are compared by ("1T" and "1099511627776" are the same size):
//   kInt       decimal integer in [min, max]                    "64"
//   kSize      ParseSize ("64M", "1T", "4096") in [min, max]    bytes
//   kBool      true/false/yes/no/on/off/1/0 (any case)          "true"/"false"
//   kString    1..max_length of [a-z0-9-], starting with a letter
//   kDuration  N, Ns, Nm, Nh or Nd, in [min, max] seconds       seconds
//   kPolicy    a protection policy (layout/protection_policy.h)  "+2d:1n"
//   kCommand   a shell command: 0..max printable ASCII characters, one line
//   kEnum      one of `choices` ("low|medium|high"), any case      "medium"
//   kTimeOfDay a daily time "HH:MM" (24h) or "off"                  "22:00"/"off"
//              number: minutes after midnight, -1 for "off"
// Pure functions over a static table; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::cluster::config {

enum class SettingType {
  kInt,
  kSize,
  kBool,
  kString,
  kDuration,
  kPolicy,
  kCommand,
  kEnum,
  kTimeOfDay,
};

// When a changed value takes effect on a running node.
enum class SettingKind {
  kLive,       // applied by ConfigWatcher as soon as an update is announced
  kRestart,    // read at start only; a change waits for the node's restart
  kImmutable,  // fixed when the cluster is created; running nodes ignore changes
};

struct SettingDef {
  std::string_view name;  // [a-z][a-z0-9_]*, not a reserved key (hosts, shared, update, feedback)
  SettingType type;
  SettingKind kind;
  std::string_view default_value;  // must parse; checked by tests
  int64_t min = 0;                 // kInt, kSize (bytes), kDuration (seconds)
  int64_t max = 0;
  std::string_view help;
  std::string_view choices = {};  // kEnum: the accepted values, '|'-separated, lower case
};

struct SettingValue {
  std::string canonical;  // see the table above
  int64_t number = 0;     // kInt value, kSize bytes, kDuration seconds, kBool 0/1,
                          // kEnum index in choices, kTimeOfDay minutes (-1 off); else 0

  friend bool operator==(const SettingValue&, const SettingValue&) = default;
};

// Every setting, in the order `tessera config list` prints them.
const std::vector<SettingDef>& SettingRegistry();
// nullptr if no setting has that name.
const SettingDef* FindSetting(std::string_view name);
// NotFound listing the known names when there is no such setting.
Result<const SettingDef*> LookupSetting(std::string_view name);

// InvalidArgument naming the setting, the value and what is wrong, e.g.
// "max_file_size '12Q': not a size (e.g. 512G, 1T)".
Result<SettingValue> ParseSettingValue(const SettingDef& def, std::string_view text);

// A setting whose value may not exceed another's: both numeric, compared by
// SettingValue::number. `why` says what breaks otherwise.
struct SettingBound {
  std::string_view lesser;
  std::string_view greater;
  std::string_view why;
};
const std::vector<SettingBound>& SettingBounds();
// Whether the two values keep `bound`: InvalidArgument naming both settings,
// their values and why, e.g. "packing_max_file_size (2M) may not exceed
// packing_container_max_size (1M): a packed file must fit in a container".
Status CheckSettingBound(const SettingBound& bound, const SettingValue& lesser,
                         const SettingValue& greater);

std::string_view SettingTypeName(SettingType type);  // "int", "size", ...
std::string_view SettingKindName(SettingKind kind);  // "live", "restart", "immutable"

// OK iff `name` may name a setting: 1..64 of [a-z0-9_] starting with a letter
// and not one of the reserved top-level keys. Used to check the registry.
Status ValidateSettingName(std::string_view name);

}  // namespace tessera::cluster::config
