#include "cluster/filepool/packing_settings.h"

#include <gtest/gtest.h>

namespace tessera::cluster::filepool {
namespace {

using config::SettingValue;

TEST(PackingSettingsTest, DefaultsAreTheRegistryDefaults) {
  PackingSettings s = DefaultPackingSettings();
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.max_file_size, 1016u * 1024);
  EXPECT_EQ(s.min_age_seconds, 0);
  EXPECT_EQ(s.dir_hint_max_entries, 16);
  EXPECT_EQ(s.container_min_size, 1016u * 1024);
  EXPECT_EQ(s.container_max_size, uint64_t{1} << 30);
  EXPECT_FALSE(s.unpack_recently_modified);
  EXPECT_TRUE(ValidatePackingSettings(s).ok());
  for (std::string_view name : PackingSettingNames()) {
    EXPECT_NE(config::FindSetting(name), nullptr) << name;
  }
}

TEST(PackingSettingsTest, FromNumbersRunningValuesAndSnapshots) {
  PackingSettings s = PackingSettingsFrom([](std::string_view name) -> int64_t {
    if (name == "packing_enabled") return 1;
    if (name == "packing_max_file_size") return 512 * 1024;
    if (name == "packing_min_age") return 3600;
    if (name == "packing_dir_hint_max_entries") return 8;
    if (name == "packing_container_min_size") return 2 << 20;
    if (name == "packing_container_max_size") return 64 << 20;
    if (name == "packing_unpack_recently_modified") return 1;
    ADD_FAILURE() << "asked for " << name;
    return 0;
  });
  EXPECT_EQ(s, (PackingSettings{true, 512 * 1024, 3600, 8, 2 << 20, 64 << 20, true}));

  std::map<std::string, SettingValue> running = {{"packing_enabled", {"true", 1}},
                                                 {"packing_min_age", {"60", 60}},
                                                 {"max_file_size", {"1", 1}}};
  PackingSettings from_running = PackingSettingsFrom(running);
  PackingSettings want = DefaultPackingSettings();
  want.enabled = true;
  want.min_age_seconds = 60;
  EXPECT_EQ(from_running, want);

  config::ConfigSnapshot snapshot;
  config::ResolvedSetting resolved;
  resolved.value.canonical = "4096";
  resolved.value.number = 4096;
  resolved.source = "packing_max_file_size";
  snapshot.values.emplace("packing_max_file_size", resolved);
  snapshot.errors["packing_min_age"] = Status::InvalidArgument("broken");
  PackingSettings from_snapshot = PackingSettingsFrom(snapshot);
  want = DefaultPackingSettings();
  want.max_file_size = 4096;
  EXPECT_EQ(from_snapshot, want);
}

TEST(PackingSettingsTest, ContainerAndFileSizesMustAgree) {
  PackingSettings s = DefaultPackingSettings();
  s.container_min_size = s.container_max_size + 1;
  Status bad = ValidatePackingSettings(s);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("container minimum size"), std::string::npos) << bad.message();

  s = DefaultPackingSettings();
  s.container_max_size = 1 << 20;
  s.container_min_size = 1 << 20;
  s.max_file_size = (1 << 20) + 1;
  bad = ValidatePackingSettings(s);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("must fit in a container"), std::string::npos) << bad.message();
  s.max_file_size = 1 << 20;
  EXPECT_TRUE(ValidatePackingSettings(s).ok());
}

TEST(PackingSettingsTest, FormatAge) {
  EXPECT_EQ(FormatAge(0), "0s");
  EXPECT_EQ(FormatAge(45), "45s");
  EXPECT_EQ(FormatAge(90), "90s");
  EXPECT_EQ(FormatAge(300), "5m");
  EXPECT_EQ(FormatAge(3600), "1h");
  EXPECT_EQ(FormatAge(5400), "90m");
  EXPECT_EQ(FormatAge(86400), "1d");
  EXPECT_EQ(FormatAge(90000), "25h");
  EXPECT_EQ(FormatAge(7 * 86400), "7d");
}

TEST(PackingSettingsTest, ListingLayout) {
  EXPECT_EQ(FormatPackingSettings(DefaultPackingSettings()),
            "Enabled:                            No\n"
            "Unpack recently modified:           No\n"
            "Maximum file size:                  1016.0k\n"
            "Minimum age before packing:         0s\n"
            "Directory hint maximum entries:     16\n"
            "Container minimum size:             1016.0k\n"
            "Container maximum size:             1.0G\n");
  PackingSettings s{true, 512 * 1024, 3600, 32, 1 << 20, 256 << 20, true};
  EXPECT_EQ(FormatPackingSettings(s),
            "Enabled:                            Yes\n"
            "Unpack recently modified:           Yes\n"
            "Maximum file size:                  512.0k\n"
            "Minimum age before packing:         1h\n"
            "Directory hint maximum entries:     32\n"
            "Container minimum size:             1.0M\n"
            "Container maximum size:             256.0M\n");
}

}  // namespace
}  // namespace tessera::cluster::filepool
