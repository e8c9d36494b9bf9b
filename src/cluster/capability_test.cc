#include "cluster/capability.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace tessera::cluster {
namespace {

// The two tables as the reference writes them ("Minimum Access Level for
// Capabilities Per Node State" / "... Per Drive State"), row by row.
struct LiteralRow {
  const char* states;
  const char* read;
  const char* write;
  const char* restripe_from;
};

const LiteralRow kReferenceNodeRows[] = {
    {"UP", "Normal", "Normal", "No"},
    {"UP, Smartfail", "Soft-fail", "Never", "Yes"},
    {"UP, Read-only", "Normal", "Never", "No"},
    {"UP, Smartfail, Read-only", "Soft-fail", "Never", "Yes"},
    {"DOWN", "Never", "Never", "No"},
    {"DOWN, Smartfail", "Never", "Never", "Yes"},
    {"DOWN, Read-only", "Never", "Never", "No"},
    {"DOWN, Smartfail, Read-only", "Never", "Never", "Yes"},
    {"DEAD", "Never", "Never", "Yes"},
};

const LiteralRow kReferenceDriveRows[] = {
    {"UP", "Normal", "Normal", "No"},  {"UP, Smartfail", "Soft-fail", "Never", "Yes"},
    {"DOWN", "Never", "Never", "No"},  {"DOWN, Smartfail", "Never", "Never", "Yes"},
    {"DEAD", "Never", "Never", "Yes"}, {"STALLED", "Read_Stalled", "Modify_Stalled", "No"},
};

// The access levels in the reference's order of increasing access; a
// capability is granted at a level when its cell is at or before it here.
const std::vector<std::string> kLevelOrder = {"Normal", "Read_Stalled", "Modify_Stalled",
                                              "Soft-fail"};
const std::map<std::string, AccessLevel> kLevelByCell = {
    {"Normal", AccessLevel::kNormal},
    {"Read_Stalled", AccessLevel::kReadStalled},
    {"Modify_Stalled", AccessLevel::kModifyStalled},
    {"Soft-fail", AccessLevel::kReadSoftFail},
};

int Rank(const std::string& cell) {
  for (size_t i = 0; i < kLevelOrder.size(); ++i) {
    if (kLevelOrder[i] == cell) return static_cast<int>(i);
  }
  ADD_FAILURE() << "unknown level cell " << cell;
  return -1;
}

bool Granted(const std::string& cell, AccessLevel level) {
  if (cell == "Never") return false;
  return Rank(cell) <= static_cast<int>(level);
}

DeviceCondition ParseStates(const std::string& text) {
  DeviceCondition c;
  std::stringstream in(text);
  std::string word;
  bool first = true;
  while (std::getline(in, word, ',')) {
    if (!word.empty() && word[0] == ' ') word.erase(0, 1);
    if (first) {
      first = false;
      if (word == "UP") {
        c.liveness = Liveness::kUp;
      } else if (word == "DOWN") {
        c.liveness = Liveness::kDown;
      } else if (word == "DEAD") {
        c.liveness = Liveness::kDead;
      } else if (word == "STALLED") {
        c.liveness = Liveness::kStalled;
      } else {
        ADD_FAILURE() << "bad liveness " << word;
      }
    } else if (word == "Smartfail") {
      c.soft_failed = true;
    } else if (word == "Read-only") {
      c.read_only = true;
    } else {
      ADD_FAILURE() << "bad flag " << word;
    }
  }
  return c;
}

void CheckTable(DeviceKind kind, std::span<const LiteralRow> literal) {
  std::span<const CapabilityRow> table = CapabilityTable(kind);
  ASSERT_EQ(table.size(), literal.size());
  for (size_t i = 0; i < literal.size(); ++i) {
    const LiteralRow& want = literal[i];
    SCOPED_TRACE(std::string(DeviceKindName(kind)) + " row \"" + want.states + "\"");
    DeviceCondition condition = ParseStates(want.states);
    // Same order as the reference, so the data reads like the source.
    EXPECT_EQ(table[i].condition, condition);
    const CapabilityRow* row = FindCapabilityRow(kind, condition);
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(row, &table[i]);
    auto expect_min = [](MinimumLevel got, const std::string& cell) {
      if (cell == "Never") {
        EXPECT_FALSE(got.has_value()) << cell;
      } else {
        ASSERT_TRUE(got.has_value()) << cell;
        EXPECT_EQ(*got, kLevelByCell.at(cell)) << cell;
      }
    };
    expect_min(row->min_read, want.read);
    expect_min(row->min_write, want.write);
    EXPECT_EQ(row->restripe_from, std::string(want.restripe_from) == "Yes");
    for (AccessLevel level : kAllAccessLevels) {
      SCOPED_TRACE(std::string("at ") + std::string(AccessLevelName(level)));
      Result<Capabilities> caps = CapabilitiesOf(kind, condition, level);
      ASSERT_TRUE(caps.ok()) << caps.status().ToString();
      EXPECT_EQ(caps->readable, Granted(want.read, level));
      EXPECT_EQ(caps->writable, Granted(want.write, level));
      EXPECT_EQ(caps->restripe_from, std::string(want.restripe_from) == "Yes");
    }
  }
}

TEST(CapabilityTest, NodeTableMatchesTheReference) {
  CheckTable(DeviceKind::kNode, kReferenceNodeRows);
}

TEST(CapabilityTest, DriveTableMatchesTheReference) {
  CheckTable(DeviceKind::kDrive, kReferenceDriveRows);
}

TEST(CapabilityTest, SpotChecks) {
  auto caps = [](DeviceKind kind, DeviceCondition c, AccessLevel level) {
    Result<Capabilities> r = CapabilitiesOf(kind, c, level);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Capabilities{};
  };
  const DeviceCondition stalled{Liveness::kStalled, false, false};
  EXPECT_EQ(caps(DeviceKind::kDrive, stalled, AccessLevel::kNormal),
            (Capabilities{false, false, false}));
  EXPECT_EQ(caps(DeviceKind::kDrive, stalled, AccessLevel::kReadStalled),
            (Capabilities{true, false, false}));
  EXPECT_EQ(caps(DeviceKind::kDrive, stalled, AccessLevel::kModifyStalled),
            (Capabilities{true, true, false}));
  const DeviceCondition up_sf{Liveness::kUp, true, false};
  EXPECT_EQ(caps(DeviceKind::kNode, up_sf, AccessLevel::kModifyStalled),
            (Capabilities{false, false, true}));
  EXPECT_EQ(caps(DeviceKind::kNode, up_sf, AccessLevel::kReadSoftFail),
            (Capabilities{true, false, true}));
  const DeviceCondition up_ro{Liveness::kUp, false, true};
  EXPECT_EQ(caps(DeviceKind::kNode, up_ro, AccessLevel::kNormal),
            (Capabilities{true, false, false}));
  EXPECT_EQ(caps(DeviceKind::kNode, {}, AccessLevel::kNormal), (Capabilities{true, true, false}));
}

// "The only group states affected by increasing access levels are
// soft-failed and stalled."
TEST(CapabilityTest, OnlySoftFailedAndStalledDependOnTheLevel) {
  for (DeviceKind kind : {DeviceKind::kNode, DeviceKind::kDrive}) {
    for (const CapabilityRow& row : CapabilityTable(kind)) {
      Result<Capabilities> low = CapabilitiesOf(kind, row.condition, AccessLevel::kNormal);
      Result<Capabilities> high = CapabilitiesOf(kind, row.condition, AccessLevel::kReadSoftFail);
      ASSERT_TRUE(low.ok() && high.ok());
      bool sensitive = row.condition.soft_failed || row.condition.liveness == Liveness::kStalled;
      bool up_or_stalled =
          row.condition.liveness == Liveness::kUp || row.condition.liveness == Liveness::kStalled;
      EXPECT_EQ(*low != *high, sensitive && up_or_stalled) << row.condition.ToString();
    }
  }
}

TEST(CapabilityTest, RaisingTheLevelNeverTakesACapabilityAway) {
  for (DeviceKind kind : {DeviceKind::kNode, DeviceKind::kDrive}) {
    for (const CapabilityRow& row : CapabilityTable(kind)) {
      Capabilities previous{};
      for (AccessLevel level : kAllAccessLevels) {
        Result<Capabilities> caps = CapabilitiesOf(kind, row.condition, level);
        ASSERT_TRUE(caps.ok());
        EXPECT_TRUE(!previous.readable || caps->readable) << row.condition.ToString();
        EXPECT_TRUE(!previous.writable || caps->writable) << row.condition.ToString();
        previous = *caps;
      }
    }
  }
}

TEST(CapabilityTest, DeadFlagsDoNotChangeTheRow) {
  for (DeviceKind kind : {DeviceKind::kNode, DeviceKind::kDrive}) {
    const CapabilityRow* dead = FindCapabilityRow(kind, {Liveness::kDead, false, false});
    ASSERT_NE(dead, nullptr);
    EXPECT_EQ(FindCapabilityRow(kind, {Liveness::kDead, true, false}), dead);
    EXPECT_EQ(FindCapabilityRow(kind, {Liveness::kDead, true, true}), dead);
    for (AccessLevel level : kAllAccessLevels) {
      Result<Capabilities> caps = CapabilitiesOf(kind, {Liveness::kDead, true, false}, level);
      ASSERT_TRUE(caps.ok());
      EXPECT_EQ(*caps, (Capabilities{false, false, true}));
    }
  }
}

// Every condition outside the reference's rows (and the DEAD rule) is an
// error, never a guessed answer.
TEST(CapabilityTest, ConditionsWithoutARowAreRejected) {
  for (DeviceKind kind : {DeviceKind::kNode, DeviceKind::kDrive}) {
    std::span<const LiteralRow> literal = kind == DeviceKind::kNode
                                              ? std::span<const LiteralRow>(kReferenceNodeRows)
                                              : std::span<const LiteralRow>(kReferenceDriveRows);
    for (Liveness liveness : kAllLiveness) {
      for (bool soft_failed : {false, true}) {
        for (bool read_only : {false, true}) {
          DeviceCondition c{liveness, soft_failed, read_only};
          bool listed = false;
          for (const LiteralRow& row : literal) listed |= ParseStates(row.states) == c;
          bool dead_rule = liveness == Liveness::kDead && (kind == DeviceKind::kNode || !read_only);
          Result<Capabilities> caps = CapabilitiesOf(kind, c, AccessLevel::kNormal);
          EXPECT_EQ(caps.ok(), listed || dead_rule)
              << DeviceKindName(kind) << " " << c.ToString() << ": " << caps.status().ToString();
          if (!caps.ok()) {
            EXPECT_EQ(caps.status().code(), StatusCode::kInvalidArgument);
          }
        }
      }
    }
  }
  Result<Capabilities> gone =
      CapabilitiesOf(DeviceKind::kNode, {Liveness::kGone, false, false}, AccessLevel::kNormal);
  EXPECT_EQ(gone.status().message(), "no capability row for a node that is GONE");
  Result<Capabilities> stalled_node =
      CapabilitiesOf(DeviceKind::kNode, {Liveness::kStalled, false, false}, AccessLevel::kNormal);
  EXPECT_EQ(stalled_node.status().message(), "stalled applies to drives only");
}

TEST(AccessLevelTest, NamesParseBackAndOrderIsIncreasing) {
  const char* names[] = {"normal", "read_stalled", "modify_stalled", "read_soft_fail"};
  for (size_t i = 0; i < kAllAccessLevels.size(); ++i) {
    EXPECT_EQ(AccessLevelName(kAllAccessLevels[i]), names[i]);
    Result<AccessLevel> parsed = ParseAccessLevel(names[i]);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kAllAccessLevels[i]);
  }
  EXPECT_EQ(*ParseAccessLevel("Read Stalled"), AccessLevel::kReadStalled);
  EXPECT_EQ(*ParseAccessLevel("Modify-Stalled"), AccessLevel::kModifyStalled);
  EXPECT_EQ(*ParseAccessLevel("READ_SOFT_FAIL"), AccessLevel::kReadSoftFail);
  EXPECT_FALSE(ParseAccessLevel("never").ok());
  EXPECT_FALSE(ParseAccessLevel("").ok());
  EXPECT_FALSE(ParseAccessLevel("soft-fail").ok());
}

TEST(AccessLevelTest, Grants) {
  EXPECT_FALSE(Grants(AccessLevel::kReadSoftFail, std::nullopt));
  for (AccessLevel asked : kAllAccessLevels) {
    for (AccessLevel minimum : kAllAccessLevels) {
      EXPECT_EQ(Grants(asked, minimum), static_cast<int>(asked) >= static_cast<int>(minimum));
    }
  }
  EXPECT_TRUE(Grants(AccessLevel::kModifyStalled, AccessLevel::kReadStalled));
  EXPECT_FALSE(Grants(AccessLevel::kReadStalled, AccessLevel::kModifyStalled));
}

}  // namespace
}  // namespace tessera::cluster
