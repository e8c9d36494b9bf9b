#include "cluster/group_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cluster/group_notation.h"

namespace tessera::cluster {
namespace {

TEST(GroupLogTest, ParsesTimes) {
  EXPECT_EQ(*ParseLogTime("1970-01-01T00:00:00"), 0);
  EXPECT_EQ(*ParseLogTime("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*ParseLogTime("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(*ParseLogTime("1970-01-01T00:00:01.123456"), 1123);
  EXPECT_EQ(*ParseLogTime("2020-06-15T06:44:38"), 1592203478000);
  EXPECT_EQ(*ParseLogTime("2020-06-15T08:07:50-04:00"), *ParseLogTime("2020-06-15T12:07:50Z"));
  EXPECT_EQ(*ParseLogTime("2020-06-15-T08:07:50 -04:00"), *ParseLogTime("2020-06-15T12:07:50"));
  EXPECT_EQ(*ParseLogTime("2024-02-29T23:59:59+01:30"), *ParseLogTime("2024-02-29T22:29:59"));
  for (const char* bad : {"", "2020-06-15", "2020-6-15T00:00:00", "2020-13-01T00:00:00",
                          "2020-06-15T24:00:00", "2020-06-15T00:00:00.", "2020-06-15T00:00:00+5",
                          "2020-06-15T00:00:00Zx", "2020-06-15T00:00:00Z +01:00"}) {
    EXPECT_FALSE(ParseLogTime(bad).ok()) << bad;
  }
}

TEST(GroupLogTest, FormatsTimes) {
  EXPECT_EQ(FormatLogTime(0), "1970-01-01T00:00:00");
  EXPECT_EQ(FormatLogTime(1592203478000), "2020-06-15T06:44:38");
  EXPECT_EQ(FormatLogTime(1592203478250), "2020-06-15T06:44:38.250");
  EXPECT_EQ(FormatLogTime(-1), "1969-12-31T23:59:59.999");
  for (int64_t ms : {int64_t{951782399000}, int64_t{4102444800123}, int64_t{1}}) {
    EXPECT_EQ(*ParseLogTime(FormatLogTime(ms)), ms);
  }
}

TEST(GroupLogTest, ReadsGroupLines) {
  Result<std::vector<LoggedGroup>> log = ParseGroupLog(
      "2026-11-21T21:00:00.250Z node=3 gmp: new group: { 1-3:0-11, down: 4 }\r\n"
      "2026-11-21T21:00:01Z node=3 starting drive scan\n"
      "\n"
      "2020-06-15-T08:07:50 -04:00 <0.4> tme-1 (id1) kernel: new group: : { 1:0-4, down: 2-3 }");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].time_ms, *ParseLogTime("2026-11-21T21:00:00.250"));
  EXPECT_EQ((*log)[0].node, std::optional<uint32_t>(3));
  EXPECT_EQ(FormatGroupNotation((*log)[0].group), "{ 1-3:0-11, down: 4 }");
  EXPECT_EQ((*log)[1].time_ms, *ParseLogTime("2020-06-15T12:07:50"));
  EXPECT_FALSE((*log)[1].node.has_value());
  EXPECT_EQ(FormatGroupNotation((*log)[1].group), "{ 1:0-4, down: 2-3 }");
}

TEST(GroupLogTest, BadLinesNameTheLine) {
  struct Case {
    std::string text;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"ok\nnew group: { 1 }", "line 2: no time"},
           {"x\ny\nyesterday new group: { 1 }", "line 3: 'yesterday' is not a time"},
           {"2026-11-21T21:00:00Z node=a new group: { 1 }", "line 1: 'node=a' does not name"},
           {"2026-11-21T21:00:00Z new group: { 1, }", "line 1: group: at byte 5: expected"},
       }) {
    Result<std::vector<LoggedGroup>> log = ParseGroupLog(c.text);
    ASSERT_FALSE(log.ok()) << c.text;
    EXPECT_NE(log.status().message().find(c.message), std::string::npos) << log.status().message();
  }
}

// The 15-node events written as the logs of three nodes with skewed clocks:
// node 20 logs every change, nodes 14 and 17 the ones they took part in.
TEST(GroupLogTest, MergedLogsGiveTheExpectedTimeline) {
  std::string path = std::string(TESSERA_SHARED_DIR) + "/testdata/group/timeline-15-nodes.json";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "shared test data not found at " << path;
  nlohmann::json doc = nlohmann::json::parse(in);
  std::map<uint32_t, uint32_t> lnns;
  for (const auto& [id, lnn] : doc.at("lnn_of_array_id").items()) {
    lnns[static_cast<uint32_t>(std::stoul(id))] = lnn.get<uint32_t>();
  }
  const std::map<uint32_t, int64_t> skew_ms = {{20, 0}, {14, 2500}, {17, -1500}};
  std::map<uint32_t, std::string> logs;
  for (const auto& event : doc.at("events")) {
    int64_t t = *ParseLogTime(event.at("time").get<std::string>());
    for (const auto& [node, skew] : skew_ms) {
      if (node != 20 && t % 2000 != 0) continue;  // other nodes log only some changes
      logs[node] += FormatLogTime(t + skew) + "Z node=" + std::to_string(node) + " gmp-" +
                    event.at("kind").get<std::string>() +
                    " new group: " + event.at("group").get<std::string>() + "\n";
    }
  }
  std::vector<std::vector<LoggedGroup>> parsed;
  for (const auto& [node, text] : logs) {
    Result<std::vector<LoggedGroup>> log = ParseGroupLog(text);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    parsed.push_back(*log);
  }
  std::map<uint32_t, int64_t> offsets;
  for (const auto& [node, skew] : skew_ms) offsets[node] = -skew;
  std::vector<GroupEvent> events = MergeGroupLogs(parsed, offsets);
  EXPECT_EQ(events.size(), doc.at("events").size());
  Result<std::vector<std::string>> lines = BuildTimeline(events, lnns, 20);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_EQ(*lines, doc.at("expected_timeline").get<std::vector<std::string>>());

  // Without the clock corrections the skewed copies reorder the changes.
  std::vector<GroupEvent> skewed = MergeGroupLogs(parsed, {});
  Result<std::vector<std::string>> wrong = BuildTimeline(skewed, lnns, 20);
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE(*wrong, doc.at("expected_timeline").get<std::vector<std::string>>());
}

TEST(GroupLogTest, MergeDropsRepeatsIgnoringTheSequence) {
  auto group = [](const char* text) { return *ParseGroupNotation(text); };
  std::vector<std::vector<LoggedGroup>> logs = {
      {{1000, 1, group("<1,5>: { 1-2:0 }")}, {3000, 1, group("<1,6>: { 1:0, down: 2 }")}},
      {{1200, 2, group("<2,9>: { 1-2:0 }")}, {2000, 2, group("{ 1-2:0, down: 3 }")}},
  };
  // Node 1 runs 0.5 s slow: its copy of "{ 1-2:0 }" comes second and goes.
  std::vector<GroupEvent> events = MergeGroupLogs(logs, {{1, 500}});
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].time, "1970-01-01T00:00:01.200");
  EXPECT_EQ(FormatGroupNotation(events[0].group), "<2,9>: { 1-2:0 }");
  EXPECT_EQ(FormatGroupNotation(events[1].group), "{ 1-2:0, down: 3 }");
  EXPECT_EQ(events[2].time, "1970-01-01T00:00:03.500");
  // Uncorrected, node 1's copy is the earlier one and node 2's goes.
  std::vector<GroupEvent> raw = MergeGroupLogs(logs, {});
  ASSERT_EQ(raw.size(), 3u);
  EXPECT_EQ(raw[0].time, "1970-01-01T00:00:01");
  EXPECT_EQ(FormatGroupNotation(raw[0].group), "<1,5>: { 1-2:0 }");
}

}  // namespace
}  // namespace tessera::cluster
