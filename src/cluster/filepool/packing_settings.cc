#include "cluster/filepool/packing_settings.h"

#include <cstdio>

#include "common/units.h"

namespace tessera::cluster::filepool {
namespace {

using config::SettingValue;

constexpr std::string_view kEnabled = "packing_enabled";
constexpr std::string_view kMaxFileSize = "packing_max_file_size";
constexpr std::string_view kMinAge = "packing_min_age";
constexpr std::string_view kDirHint = "packing_dir_hint_max_entries";
constexpr std::string_view kContainerMin = "packing_container_min_size";
constexpr std::string_view kContainerMax = "packing_container_max_size";
constexpr std::string_view kUnpackRecent = "packing_unpack_recently_modified";

// The registry default's number; the registry test checks defaults parse.
int64_t DefaultNumber(std::string_view name) {
  const config::SettingDef* def = config::FindSetting(name);
  if (def == nullptr) return 0;
  Result<SettingValue> value = config::ParseSettingValue(*def, def->default_value);
  return value.ok() ? value->number : 0;
}

std::string Line(std::string_view label, const std::string& value) {
  std::string line(label);
  line += ':';
  if (line.size() < 36) line.append(36 - line.size(), ' ');
  return line + value + "\n";
}

}  // namespace

const std::vector<std::string_view>& PackingSettingNames() {
  static const std::vector<std::string_view> kNames = {
      kEnabled, kUnpackRecent, kMaxFileSize, kMinAge, kDirHint, kContainerMin, kContainerMax};
  return kNames;
}

PackingSettings PackingSettingsFrom(const std::function<int64_t(std::string_view name)>& number) {
  PackingSettings s;
  s.enabled = number(kEnabled) != 0;
  s.max_file_size = static_cast<uint64_t>(number(kMaxFileSize));
  s.min_age_seconds = number(kMinAge);
  s.dir_hint_max_entries = static_cast<int>(number(kDirHint));
  s.container_min_size = static_cast<uint64_t>(number(kContainerMin));
  s.container_max_size = static_cast<uint64_t>(number(kContainerMax));
  s.unpack_recently_modified = number(kUnpackRecent) != 0;
  return s;
}

PackingSettings PackingSettingsFrom(const std::map<std::string, SettingValue>& values) {
  return PackingSettingsFrom([&values](std::string_view name) {
    auto it = values.find(std::string(name));
    return it == values.end() ? DefaultNumber(name) : it->second.number;
  });
}

PackingSettings PackingSettingsFrom(const config::ConfigSnapshot& snapshot) {
  return PackingSettingsFrom([&snapshot](std::string_view name) {
    auto it = snapshot.values.find(std::string(name));
    return it == snapshot.values.end() ? DefaultNumber(name) : it->second.value.number;
  });
}

PackingSettings DefaultPackingSettings() { return PackingSettingsFrom(DefaultNumber); }

Status ValidatePackingSettings(const PackingSettings& s) {
  if (s.container_min_size > s.container_max_size) {
    return Status::InvalidArgument("container minimum size " + FormatSize(s.container_min_size) +
                                   " is larger than the container maximum size " +
                                   FormatSize(s.container_max_size) +
                                   " (packing_container_min_size <= packing_container_max_size)");
  }
  if (s.max_file_size > s.container_max_size) {
    return Status::InvalidArgument(
        "maximum file size " + FormatSize(s.max_file_size) +
        " is larger than the container maximum size " + FormatSize(s.container_max_size) +
        ": a packed file must fit in a container (packing_max_file_size <= "
        "packing_container_max_size)");
  }
  return Status::Ok();
}

std::string FormatAge(int64_t seconds) {
  if (seconds != 0) {
    if (seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
    if (seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
    if (seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  }
  return std::to_string(seconds) + "s";
}

std::string FormatPackingSettings(const PackingSettings& s) {
  std::string out;
  out += Line("Enabled", s.enabled ? "Yes" : "No");
  out += Line("Unpack recently modified", s.unpack_recently_modified ? "Yes" : "No");
  out += Line("Maximum file size", FormatSize(s.max_file_size));
  out += Line("Minimum age before packing", FormatAge(s.min_age_seconds));
  out += Line("Directory hint maximum entries", std::to_string(s.dir_hint_max_entries));
  out += Line("Container minimum size", FormatSize(s.container_min_size));
  out += Line("Container maximum size", FormatSize(s.container_max_size));
  return out;
}

}  // namespace tessera::cluster::filepool
