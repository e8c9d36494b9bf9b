#include "cluster/membership/master.h"

#include <gtest/gtest.h>

namespace tessera::cluster {
namespace {

TEST(MasterTest, HighestPriorityWinsAndTiesGoToTheLowestId) {
  EXPECT_EQ(ChooseMaster({}), std::nullopt);
  EXPECT_EQ(ChooseMaster({{7, 0}}), 7u);
  EXPECT_EQ(ChooseMaster({{7, 100}, {9, 40}, {13, 10}}), 7u);
  EXPECT_EQ(ChooseMaster({{7, 10}, {9, 40}, {13, 100}}), 13u);
  EXPECT_EQ(ChooseMaster({{3, 5}, {2, 5}, {4, 5}}), 2u);
  EXPECT_EQ(ChooseMaster({{1, -5}, {2, -1}}), 2u);
  // Exhaustively over small sets: the chosen one has the maximum priority and
  // no other with that priority has a lower id.
  for (int mask = 1; mask < 64; ++mask) {
    std::map<uint32_t, int64_t> candidates;
    for (uint32_t id = 1; id <= 6; ++id) {
      if (mask & (1 << (id - 1))) candidates[id] = static_cast<int64_t>((id * 7) % 3);
    }
    std::optional<uint32_t> chosen = ChooseMaster(candidates);
    ASSERT_TRUE(chosen.has_value());
    for (const auto& [id, priority] : candidates) {
      EXPECT_LE(priority, candidates[*chosen]);
      if (priority == candidates[*chosen]) {
        EXPECT_GE(id, *chosen);
      }
    }
  }
}

TEST(MasterTest, RecordRoundTripsAndRejectsGarbage) {
  MasterRecord record{5, 101, 0};
  Result<MasterRecord> parsed = ParseMasterRecord(MasterRecordJson(record), 42);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->array_id, 5u);
  EXPECT_EQ(parsed->priority, 101);
  EXPECT_EQ(parsed->token, 42);
  for (const char* bad :
       {"", "{}", "[]", R"({"array_id":0,"priority":1})", R"({"array_id":-1,"priority":1})",
        R"({"array_id":1})", R"({"array_id":1,"priority":"x"})"}) {
    EXPECT_FALSE(ParseMasterRecord(bad, 1).ok()) << bad;
  }
}

}  // namespace
}  // namespace tessera::cluster
