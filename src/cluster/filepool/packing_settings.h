// The cluster's small-file packing settings (docs/packing.md, "Settings and
// file pool policies"), gathered from the shared configuration into one value
// for the SmartPools job and printed for `tessera packing --ls`.
//
// The settings themselves are declared in the registry (setting.cc) as
// packing_enabled, packing_max_file_size, packing_min_age,
// packing_dir_hint_max_entries, packing_container_min_size,
// packing_container_max_size and packing_unpack_recently_modified; every one
// is numeric (bool, size, duration or int), so a PackingSettings is built from
// whatever hands out setting numbers: a node's running values
// (ClusterAgent::SettingNumber, ConfigWatcher::running()) or a ConfigSnapshot
// read by an admin verb. A setting the source does not have takes the
// registry default.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/config/config_store.h"
#include "cluster/config/setting.h"
#include "common/status.h"

namespace tessera::cluster::filepool {

struct PackingSettings {
  bool enabled = false;                   // packing_enabled
  uint64_t max_file_size = 0;             // packing_max_file_size, bytes
  int64_t min_age_seconds = 0;            // packing_min_age
  int dir_hint_max_entries = 0;           // packing_dir_hint_max_entries
  uint64_t container_min_size = 0;        // packing_container_min_size, bytes
  uint64_t container_max_size = 0;        // packing_container_max_size, bytes
  bool unpack_recently_modified = false;  // packing_unpack_recently_modified

  friend bool operator==(const PackingSettings&, const PackingSettings&) = default;
};

// The names of the settings above, in the order `tessera packing --ls` prints them.
const std::vector<std::string_view>& PackingSettingNames();

// `number(name)` returns the setting's number (SettingValue::number). E.g.
// on a node:
//   PackingSettingsFrom([agent](std::string_view n) {
//     return agent->SettingNumber(std::string(n)); });
PackingSettings PackingSettingsFrom(const std::function<int64_t(std::string_view name)>& number);
// From running values (ConfigWatcher::running()); missing names: defaults.
PackingSettings PackingSettingsFrom(const std::map<std::string, config::SettingValue>& values);
// From a snapshot (ConfigStore::Load()); settings missing or in error: defaults.
PackingSettings PackingSettingsFrom(const config::ConfigSnapshot& snapshot);
// Every setting at its registry default.
PackingSettings DefaultPackingSettings();

// What one setting's value must satisfy given the others: the container
// minimum may not exceed the maximum, and a packed file must fit in a
// container (max_file_size <= container_max_size). InvalidArgument naming the
// settings and their values otherwise.
Status ValidatePackingSettings(const PackingSettings& settings);

// "0s", "45s", "5m", "1h", "1d": the largest unit that divides `seconds`.
std::string FormatAge(int64_t seconds);

// The `tessera packing --ls` listing: one "Label:" line per setting, values
// starting in column 37, e.g.
//   Enabled:                            Yes
//   Unpack recently modified:           No
//   Maximum file size:                  1016.0k
//   Minimum age before packing:         0s
//   Directory hint maximum entries:     16
//   Container minimum size:             1016.0k
//   Container maximum size:             1.0G
std::string FormatPackingSettings(const PackingSettings& settings);

}  // namespace tessera::cluster::filepool
