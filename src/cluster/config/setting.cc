#include "cluster/config/setting.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>

#include "common/object_name.h"
#include "common/units.h"
#include "layout/protection_policy.h"

namespace tessera::cluster::config {
namespace {

constexpr int64_t kPiB = int64_t{1} << 50;
constexpr int64_t kGiB = int64_t{1} << 30;
constexpr int64_t kDay = 86400;

const std::vector<SettingDef>& Registry() {
  static const std::vector<SettingDef> kSettings = {
      {"cluster_name", SettingType::kString, SettingKind::kImmutable, "tessera", 1, 63,
       "Name of the cluster, fixed when it is created"},
      {"protection", SettingType::kPolicy, SettingKind::kRestart, "+2", 0, 0,
       "Protection policy for new files (+N, +Nd:Mn, Nx)"},
      {"segment_size", SettingType::kSize, SettingKind::kRestart, "64M", int64_t{1} << 20,
       int64_t{1} << 32, "Size of a drive segment file (1M..4G)"},
      {"max_file_size", SettingType::kSize, SettingKind::kLive, "1T", 1, 16 * kPiB,
       "Largest file a client may store (1..16P)"},
      {"compact_interval_seconds", SettingType::kDuration, SettingKind::kLive, "30", 1, 86400,
       "How often drives compact their segments (1s..1d)"},
      {"delete_grace_seconds", SettingType::kDuration, SettingKind::kRestart, "30", 0, 86400,
       "How long a replaced or deleted file's pieces outlive it, so reads already under way "
       "finish (0s..1d)"},
      {"http_threads", SettingType::kInt, SettingKind::kRestart, "64", 1, 4096,
       "Threads serving the node's HTTP API"},
      {"debug_logging", SettingType::kBool, SettingKind::kLive, "false", 0, 0,
       "Log at debug level"},
      {"metadata_shards", SettingType::kInt, SettingKind::kImmutable, "64", 1, 4096,
       "Number of metadata shards, fixed when the cluster is created"},
      {"node_lease_seconds", SettingType::kDuration, SettingKind::kRestart, "3", 2, 60,
       "TTL of a node's liveness lease: a stopped node is seen down within it (2s..60s)"},
      {"master_priority", SettingType::kInt, SettingKind::kLive, "0", -1000000, 1000000,
       "The node's priority in master elections (highest wins); a new master raises its own"},
      {"flexprotect_grace_seconds", SettingType::kDuration, SettingKind::kLive, "300", 1, 604800,
       "How long a node or drive may be down before the master starts FlexProtect (1s..7d)"},
      {"flexprotect_files_per_second", SettingType::kInt, SettingKind::kLive, "0", 0, 1000000,
       "FlexProtect's impact: at most this many files rebuilt per second (0: no limit)"},
      {"mediascan_impact", SettingType::kEnum, SettingKind::kLive, "low", 0, 0,
       "Impact of the MediaScan job (low, medium, high)", "low|medium|high"},
      {"master_takeover_command", SettingType::kCommand, SettingKind::kLive, "", 0, 4096,
       "Shell command run when the node becomes master (empty: none)"},
      {"master_release_command", SettingType::kCommand, SettingKind::kLive, "", 0, 4096,
       "Shell command run when the node stops being master (empty: none)"},
      // Small-file packing (docs/packing.md): read by the SmartPools job.
      {"packing_enabled", SettingType::kBool, SettingKind::kLive, "false", 0, 0,
       "Pack small files into containers where a file pool policy enables packing"},
      // 32M: a packed file never spans two container chunks (io/shadow_store.h).
      {"packing_max_file_size", SettingType::kSize, SettingKind::kLive, "1016K", 1, 32 * kMiB,
       "Largest file the SmartPools job packs, unless a policy says less (1..32M)"},
      {"packing_min_age", SettingType::kDuration, SettingKind::kLive, "0s", 0, 3650 * kDay,
       "Files modified more recently than this are never packed (0s..3650d)"},
      {"packing_dir_hint_max_entries", SettingType::kInt, SettingKind::kLive, "16", 1, 65536,
       "Listed for the reference layout; a directory's files are always packed together"},
      {"packing_container_min_size", SettingType::kSize, SettingKind::kLive, "1016K", 1, kGiB,
       "Pack only when at least this much is waiting; smaller containers are underfull"},
      {"packing_container_max_size", SettingType::kSize, SettingKind::kLive, "1G", 1, kGiB,
       "A container is closed when it reaches this size (1..1G)"},
      {"packing_unpack_recently_modified", SettingType::kBool, SettingKind::kLive, "false", 0, 0,
       "Unpack packed files modified within the minimum age (e.g. after raising it)"},
      {"smartpools_impact", SettingType::kEnum, SettingKind::kLive, "low", 0, 0,
       "Impact of the scheduled SmartPools job (low, medium, high)", "low|medium|high"},
      {"smartpools_schedule", SettingType::kTimeOfDay, SettingKind::kLive, "22:00", 0, 0,
       "Daily start time of the SmartPools job, HH:MM (24h), or off"},
      {"sstore_defrag_enabled", SettingType::kBool, SettingKind::kLive, "false", 0, 0,
       "Let the ShadowStoreDelete job defragment containers"},
  };
  return kSettings;
}

// Values come from etcd as well as the CLI, and messages end up in JSON
// feedback and logs: the text is quoted escaped and cut (QuoteForMessage).
Status Bad(const SettingDef& def, std::string_view text, std::string_view why) {
  return Status::InvalidArgument(std::string(def.name) + " " + QuoteForMessage(text) + ": " +
                                 std::string(why));
}

bool ParseInt(std::string_view text, int64_t& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

std::string Lower(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// "low|medium|high" -> {"low", "medium", "high"}.
std::vector<std::string_view> Choices(std::string_view choices) {
  std::vector<std::string_view> out;
  while (!choices.empty()) {
    size_t bar = choices.find('|');
    out.push_back(choices.substr(0, bar));
    choices = bar == std::string_view::npos ? std::string_view() : choices.substr(bar + 1);
  }
  return out;
}

std::string Range(const SettingDef& def, std::string_view unit) {
  return "must be between " + std::to_string(def.min) + std::string(unit) + " and " +
         std::to_string(def.max) + std::string(unit);
}

}  // namespace

const std::vector<SettingDef>& SettingRegistry() { return Registry(); }

const SettingDef* FindSetting(std::string_view name) {
  for (const SettingDef& def : Registry()) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

Result<const SettingDef*> LookupSetting(std::string_view name) {
  if (const SettingDef* def = FindSetting(name)) return def;
  std::string known;
  for (const SettingDef& def : Registry()) {
    known += known.empty() ? "" : ", ";
    known += def.name;
  }
  return Status::NotFound("no setting named '" + std::string(name) + "' (known: " + known + ")");
}

Result<SettingValue> ParseSettingValue(const SettingDef& def, std::string_view text) {
  SettingValue value;
  switch (def.type) {
    case SettingType::kInt: {
      int64_t n = 0;
      if (!ParseInt(text, n)) return Bad(def, text, "not an integer");
      if (n < def.min || n > def.max) return Bad(def, text, Range(def, ""));
      value.number = n;
      value.canonical = std::to_string(n);
      return value;
    }
    case SettingType::kSize: {
      std::optional<uint64_t> bytes = ParseSize(text);
      if (!bytes) return Bad(def, text, "not a size (e.g. 64M, 512G, 1T)");
      if (*bytes < static_cast<uint64_t>(def.min) || *bytes > static_cast<uint64_t>(def.max)) {
        return Bad(def, text,
                   "must be between " + FormatSize(def.min) + " and " + FormatSize(def.max));
      }
      value.number = static_cast<int64_t>(*bytes);
      value.canonical = std::to_string(*bytes);
      return value;
    }
    case SettingType::kBool: {
      std::string lower = Lower(text);
      if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") {
        value.number = 1;
      } else if (lower == "false" || lower == "no" || lower == "off" || lower == "0") {
        value.number = 0;
      } else {
        return Bad(def, text, "not a boolean (true or false)");
      }
      value.canonical = value.number ? "true" : "false";
      return value;
    }
    case SettingType::kString: {
      bool ok = !text.empty() && static_cast<int64_t>(text.size()) <= def.max &&
                static_cast<int64_t>(text.size()) >= def.min && std::islower(text[0]);
      for (char c : text) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
      }
      if (!ok) {
        return Bad(def, text,
                   "must be " + std::to_string(def.min) + ".." + std::to_string(def.max) +
                       " of a-z 0-9 -, starting with a letter");
      }
      value.canonical = std::string(text);
      return value;
    }
    case SettingType::kCommand: {
      bool ok = static_cast<int64_t>(text.size()) <= def.max;
      for (char c : text) ok = ok && (c == '\t' || (c >= ' ' && c <= '~'));
      if (!ok) {
        return Bad(
            def, text,
            "must be at most " + std::to_string(def.max) + " printable characters on one line");
      }
      value.canonical = std::string(text);
      return value;
    }
    case SettingType::kDuration: {
      std::string_view digits = text;
      int64_t unit = 1;
      if (!digits.empty()) {
        switch (digits.back()) {
          case 's':
            unit = 1;
            break;
          case 'm':
            unit = 60;
            break;
          case 'h':
            unit = 3600;
            break;
          case 'd':
            unit = 86400;
            break;
          default:
            unit = 0;
            break;
        }
        if (unit != 0) digits.remove_suffix(1);
        if (unit == 0) unit = 1;
      }
      int64_t n = 0;
      if (digits.empty() || digits[0] == '-' || digits[0] == '+' || !ParseInt(digits, n) ||
          n > std::numeric_limits<int64_t>::max() / unit) {
        return Bad(def, text, "not a duration (e.g. 30, 30s, 5m, 1h, 1d)");
      }
      n *= unit;
      if (n < def.min || n > def.max) return Bad(def, text, Range(def, "s"));
      value.number = n;
      value.canonical = std::to_string(n);
      return value;
    }
    case SettingType::kEnum: {
      std::string lower = Lower(text);
      std::vector<std::string_view> choices = Choices(def.choices);
      for (size_t i = 0; i < choices.size(); ++i) {
        if (lower == choices[i]) {
          value.canonical = lower;
          value.number = static_cast<int64_t>(i);
          return value;
        }
      }
      std::string list;
      for (std::string_view c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
      return Bad(def, text, "must be one of " + list);
    }
    case SettingType::kTimeOfDay: {
      if (Lower(text) == "off") {
        value.canonical = "off";
        value.number = -1;
        return value;
      }
      // H:MM or HH:MM, 00:00..23:59.
      int64_t hours = 0, minutes = 0;
      size_t colon = text.find(':');
      bool ok = colon != std::string_view::npos && (colon == 1 || colon == 2) &&
                text.size() == colon + 3 && std::isdigit(static_cast<unsigned char>(text[0])) &&
                ParseInt(text.substr(0, colon), hours) &&
                std::isdigit(static_cast<unsigned char>(text[colon + 1])) &&
                ParseInt(text.substr(colon + 1), minutes) && hours >= 0 && hours <= 23 &&
                minutes >= 0 && minutes <= 59;
      if (!ok) return Bad(def, text, "not a time of day (HH:MM, 00:00..23:59) or off");
      char buf[8];
      std::snprintf(buf, sizeof(buf), "%02d:%02d", static_cast<int>(hours),
                    static_cast<int>(minutes));
      value.canonical = buf;
      value.number = hours * 60 + minutes;
      return value;
    }
    case SettingType::kPolicy: {
      Result<layout::ProtectionPolicy> policy = layout::ProtectionPolicy::Parse(text);
      // Parse's error already reads "protection '<text>': why".
      if (!policy.ok()) return policy.status();
      value.canonical = policy->ToString();
      return value;
    }
  }
  return Status::Internal("unknown setting type");
}

std::string_view SettingTypeName(SettingType type) {
  switch (type) {
    case SettingType::kInt:
      return "int";
    case SettingType::kSize:
      return "size";
    case SettingType::kBool:
      return "bool";
    case SettingType::kString:
      return "string";
    case SettingType::kDuration:
      return "duration";
    case SettingType::kPolicy:
      return "policy";
    case SettingType::kCommand:
      return "command";
    case SettingType::kEnum:
      return "enum";
    case SettingType::kTimeOfDay:
      return "time";
  }
  return "?";
}

std::string_view SettingKindName(SettingKind kind) {
  switch (kind) {
    case SettingKind::kLive:
      return "live";
    case SettingKind::kRestart:
      return "restart";
    case SettingKind::kImmutable:
      return "immutable";
  }
  return "?";
}

const std::vector<SettingBound>& SettingBounds() {
  static const std::vector<SettingBound> kBounds = {
      {"packing_container_min_size", "packing_container_max_size",
       "a container could never hold the minimum, so nothing would be packed"},
      {"packing_max_file_size", "packing_container_max_size",
       "a packed file must fit in a container"},
  };
  return kBounds;
}

Status CheckSettingBound(const SettingBound& bound, const SettingValue& lesser,
                         const SettingValue& greater) {
  if (lesser.number <= greater.number) return Status::Ok();
  return Status::InvalidArgument(std::string(bound.lesser) + " (" + lesser.canonical +
                                 ") may not exceed " + std::string(bound.greater) + " (" +
                                 greater.canonical + "): " + std::string(bound.why));
}

Status ValidateSettingName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok) {
    return Status::InvalidArgument("setting name '" + std::string(name) +
                                   "' must be 1..64 of a-z 0-9 _, starting with a letter");
  }
  if (name == "hosts" || name == "shared" || name == "update" || name == "feedback") {
    return Status::InvalidArgument("setting name '" + std::string(name) + "' is a reserved key");
  }
  return Status::Ok();
}

}  // namespace tessera::cluster::config
