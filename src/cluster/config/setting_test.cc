#include "cluster/config/setting.h"

#include <gtest/gtest.h>

#include <set>

#include "common/object_name.h"

namespace tessera::cluster::config {
namespace {

TEST(SettingRegistryTest, IsWellFormed) {
  std::set<std::string_view> names;
  ASSERT_GE(SettingRegistry().size(), 5u);
  for (const SettingDef& def : SettingRegistry()) {
    SCOPED_TRACE(std::string(def.name));
    EXPECT_TRUE(ValidateSettingName(def.name).ok());
    EXPECT_TRUE(names.insert(def.name).second) << "duplicate";
    Result<SettingValue> v = ParseSettingValue(def, def.default_value);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_FALSE(def.help.empty());
    EXPECT_EQ(FindSetting(def.name), &def);
    EXPECT_EQ(def.type == SettingType::kEnum, !def.choices.empty()) << "choices only for enums";
  }
  EXPECT_EQ(FindSetting("nope"), nullptr);
  Result<const SettingDef*> missing = LookupSetting("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("max_file_size"), std::string::npos);
}

TEST(SettingRegistryTest, KindsOfTheRealSettings) {
  const std::pair<const char*, SettingKind> kinds[] = {
      {"cluster_name", SettingKind::kImmutable},        {"protection", SettingKind::kRestart},
      {"segment_size", SettingKind::kRestart},          {"max_file_size", SettingKind::kLive},
      {"compact_interval_seconds", SettingKind::kLive},
  };
  for (const auto& [name, kind] : kinds) {
    ASSERT_NE(FindSetting(name), nullptr) << name;
    EXPECT_EQ(FindSetting(name)->kind, kind) << name;
  }
}

TEST(SettingRegistryTest, ReservedAndMalformedNames) {
  for (const char* name : {"hosts", "shared", "update", "feedback", "", "1a", "A", "a-b", "a/b"}) {
    EXPECT_FALSE(ValidateSettingName(name).ok()) << name;
  }
}

struct ValueCase {
  const char* setting;
  const char* text;
  const char* canonical;  // nullptr: must be refused
  int64_t number;
};

TEST(SettingValueTest, ValidationTable) {
  const std::string too_long_command(4097, 'x');
  const ValueCase cases[] = {
      {"max_file_size", "1T", "1099511627776", 1099511627776},
      {"max_file_size", "512G", "549755813888", 549755813888},
      {"max_file_size", "4096", "4096", 4096},
      {"max_file_size", "0", nullptr, 0},
      {"max_file_size", "12Q", nullptr, 0},
      {"max_file_size", "", nullptr, 0},
      {"max_file_size", "17P", nullptr, 0},
      {"max_file_size", "16P", "18014398509481984", 18014398509481984},
      {"delete_grace_seconds", "0", "0", 0},
      {"delete_grace_seconds", "1d", "86400", 86400},
      {"delete_grace_seconds", "2d", nullptr, 0},
      {"segment_size", "1M", "1048576", 1048576},
      {"segment_size", "4G", "4294967296", 4294967296},
      {"segment_size", "1023k", nullptr, 0},
      {"segment_size", "5G", nullptr, 0},
      {"compact_interval_seconds", "30", "30", 30},
      {"compact_interval_seconds", "30s", "30", 30},
      {"compact_interval_seconds", "5m", "300", 300},
      {"compact_interval_seconds", "2h", "7200", 7200},
      {"compact_interval_seconds", "1d", "86400", 86400},
      {"compact_interval_seconds", "2d", nullptr, 0},
      {"compact_interval_seconds", "0", nullptr, 0},
      {"compact_interval_seconds", "-5", nullptr, 0},
      {"compact_interval_seconds", "5x", nullptr, 0},
      {"compact_interval_seconds", "m", nullptr, 0},
      {"compact_interval_seconds", "99999999999999999999d", nullptr, 0},
      {"http_threads", "64", "64", 64},
      {"http_threads", "1", "1", 1},
      {"http_threads", "4096", "4096", 4096},
      {"http_threads", "0", nullptr, 0},
      {"http_threads", "4097", nullptr, 0},
      {"http_threads", "6.5", nullptr, 0},
      {"http_threads", " 6", nullptr, 0},
      {"debug_logging", "true", "true", 1},
      {"debug_logging", "YES", "true", 1},
      {"debug_logging", "off", "false", 0},
      {"debug_logging", "0", "false", 0},
      {"debug_logging", "maybe", nullptr, 0},
      {"protection", "+2", "+2", 0},
      {"protection", "+2d:1n", "+2d:1n", 0},
      {"protection", "+2:1", "+2d:1n", 0},
      {"protection", "+2d:2n", "+2", 0},
      {"protection", "3x", "3x", 0},
      {"protection", "+5", nullptr, 0},
      {"protection", "two", nullptr, 0},
      {"node_lease_seconds", "3", "3", 3},
      {"node_lease_seconds", "1m", "60", 60},
      {"node_lease_seconds", "1", nullptr, 0},
      {"node_lease_seconds", "61", nullptr, 0},
      {"flexprotect_grace_seconds", "5m", "300", 300},
      {"flexprotect_grace_seconds", "2", "2", 2},
      {"flexprotect_grace_seconds", "0", nullptr, 0},
      {"flexprotect_grace_seconds", "8d", nullptr, 0},
      {"flexprotect_files_per_second", "0", "0", 0},
      {"flexprotect_files_per_second", "20", "20", 20},
      {"flexprotect_files_per_second", "-1", nullptr, 0},
      {"master_priority", "100", "100", 100},
      {"master_priority", "-5", "-5", -5},
      {"master_priority", "1000001", nullptr, 0},
      {"master_takeover_command", "", "", 0},
      {"master_takeover_command", "touch /tmp/lock && echo 'up'", "touch /tmp/lock && echo 'up'",
       0},
      {"master_takeover_command", "a\tb", "a\tb", 0},
      {"master_takeover_command", "two\nlines", nullptr, 0},
      {"master_release_command", too_long_command.c_str(), nullptr, 0},
      {"cluster_name", "prod-1", "prod-1", 0},
      {"cluster_name", "Prod", nullptr, 0},
      {"cluster_name", "1prod", nullptr, 0},
      {"cluster_name", "pr od", nullptr, 0},
      {"cluster_name", "", nullptr, 0},
      {"cluster_name", "a23456789012345678901234567890123456789012345678901234567890123",
       "a23456789012345678901234567890123456789012345678901234567890123", 0},
      {"cluster_name", "a234567890123456789012345678901234567890123456789012345678901234", nullptr,
       0},
      {"packing_enabled", "false", "false", 0},
      {"packing_enabled", "Yes", "true", 1},
      {"packing_max_file_size", "1016K", "1040384", 1040384},
      {"packing_max_file_size", "1016.0k", "1040384", 1040384},
      {"packing_max_file_size", "512K", "524288", 524288},
      {"packing_max_file_size", "32M", "33554432", 33554432},
      {"packing_max_file_size", "1G", nullptr, 0},
      {"packing_max_file_size", "1025M", nullptr, 0},
      {"packing_max_file_size", "0", nullptr, 0},
      {"packing_min_age", "0s", "0", 0},
      {"packing_min_age", "0", "0", 0},
      {"packing_min_age", "1h", "3600", 3600},
      {"packing_min_age", "3650d", "315360000", 315360000},
      {"packing_min_age", "3651d", nullptr, 0},
      {"packing_min_age", "-1", nullptr, 0},
      {"packing_dir_hint_max_entries", "16", "16", 16},
      {"packing_dir_hint_max_entries", "0", nullptr, 0},
      {"packing_container_min_size", "1016K", "1040384", 1040384},
      {"packing_container_max_size", "1G", "1073741824", 1073741824},
      {"packing_container_max_size", "2G", nullptr, 0},
      {"packing_unpack_recently_modified", "off", "false", 0},
      {"smartpools_impact", "low", "low", 0},
      {"smartpools_impact", "Medium", "medium", 1},
      {"smartpools_impact", "HIGH", "high", 2},
      {"smartpools_impact", "paranoid", nullptr, 0},
      {"smartpools_impact", "", nullptr, 0},
      {"smartpools_impact", "low|medium", nullptr, 0},
      {"mediascan_impact", "high", "high", 2},
      {"mediascan_impact", "none", nullptr, 0},
      {"smartpools_schedule", "22:00", "22:00", 1320},
      {"smartpools_schedule", "7:05", "07:05", 425},
      {"smartpools_schedule", "00:00", "00:00", 0},
      {"smartpools_schedule", "23:59", "23:59", 1439},
      {"smartpools_schedule", "OFF", "off", -1},
      {"smartpools_schedule", "24:00", nullptr, 0},
      {"smartpools_schedule", "12:60", nullptr, 0},
      {"smartpools_schedule", "12:5", nullptr, 0},
      {"smartpools_schedule", "123:00", nullptr, 0},
      {"smartpools_schedule", "-1:00", nullptr, 0},
      {"smartpools_schedule", "1:-5", nullptr, 0},
      {"smartpools_schedule", "+1:05", nullptr, 0},
      {"smartpools_schedule", "22", nullptr, 0},
      {"smartpools_schedule", "", nullptr, 0},
      {"smartpools_schedule", "never", nullptr, 0},
      {"sstore_defrag_enabled", "true", "true", 1},
  };
  for (const ValueCase& c : cases) {
    SCOPED_TRACE(std::string(c.setting) + " = '" + c.text + "'");
    const SettingDef* def = FindSetting(c.setting);
    ASSERT_NE(def, nullptr);
    Result<SettingValue> v = ParseSettingValue(*def, c.text);
    if (c.canonical == nullptr) {
      ASSERT_FALSE(v.ok()) << v->canonical;
      EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
      // The value is quoted escaped and cut (QuoteForMessage).
      const std::string prefix = std::string(c.setting) + " " + QuoteForMessage(c.text) + ": ";
      EXPECT_EQ(v.status().message().rfind(prefix, 0), 0u) << v.status().message();
      EXPECT_EQ(v.status().message().find(prefix, 1), std::string::npos)
          << "said twice: " << v.status().message();
    } else {
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      EXPECT_EQ(v->canonical, c.canonical);
      EXPECT_EQ(v->number, c.number);
    }
  }
}

// A size past the bounds is told the bounds, not that it is no size.
TEST(SettingValueTest, ASizePastTheBoundsNamesThem) {
  Result<SettingValue> v = ParseSettingValue(*FindSetting("max_file_size"), "17P");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("must be between 1 and 16.0P"), std::string::npos)
      << v.status().message();
}

}  // namespace
}  // namespace tessera::cluster::config
