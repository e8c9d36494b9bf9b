#include "cluster/timeline.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cluster/group_notation.h"

namespace tessera::cluster {
namespace {

std::string ReadShared(const std::string& relative) {
  std::ifstream in(std::string(TESSERA_SHARED_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<GroupEvent> Events(const std::vector<std::pair<std::string, std::string>>& specs) {
  std::vector<GroupEvent> events;
  for (const auto& [time, notation] : specs) {
    Result<GroupState> group = ParseGroupNotation(notation);
    EXPECT_TRUE(group.ok()) << notation << ": " << group.status().ToString();
    events.push_back(GroupEvent{time, "", group.ok() ? *group : GroupState{}});
  }
  return events;
}

std::vector<std::string> MustBuild(const std::vector<GroupEvent>& events,
                                   const std::map<uint32_t, uint32_t>& lnns = {},
                                   std::optional<uint32_t> observer = std::nullopt) {
  Result<std::vector<std::string>> lines = BuildTimeline(events, lnns, observer);
  EXPECT_TRUE(lines.ok()) << lines.status().ToString();
  return lines.ok() ? *lines : std::vector<std::string>{};
}

TEST(TimelineTest, FifteenNodeOutageMatchesExpectedTimeline) {
  std::string text = ReadShared("testdata/group/timeline-15-nodes.json");
  Result<TimelineInput> input = ParseTimelineEvents(text);
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  EXPECT_EQ(input->events.size(), 14u);
  EXPECT_EQ(input->observer, std::optional<uint32_t>(20));
  EXPECT_EQ(input->lnn_of_array_id.at(9), 6u);
  std::vector<std::string> want =
      nlohmann::json::parse(text).at("expected_timeline").get<std::vector<std::string>>();
  ASSERT_EQ(want.size(), 13u);
  EXPECT_EQ(MustBuild(input->events, input->lnn_of_array_id, input->observer), want);
}

TEST(TimelineTest, BaselineAloneGivesNoLines) {
  EXPECT_TRUE(MustBuild(Events({{"t0", "{ 1-3:0-11 }"}})).empty());
  EXPECT_TRUE(MustBuild({}).empty());
  // Nodes already down in the baseline are not reported as going down.
  EXPECT_EQ(MustBuild(Events({{"t0", "{ 1:0, down: 2 }"}, {"t1", "{ 1:0, down: 2-3 }"}})),
            (std::vector<std::string>{"t1 3 down (2 still down)"}));
}

TEST(TimelineTest, UnmappedIdsUseTheArrayIdAndSortByName) {
  std::map<uint32_t, uint32_t> lnns = {{7, 1}, {2, 9}};
  auto events =
      Events({{"t0", "{ 1-2,7:0 }"}, {"t1", "{ 1:0, down: 2, 7 }"}, {"t2", "{ 1-2,7:0 }"}});
  EXPECT_EQ(MustBuild(events, lnns),
            (std::vector<std::string>{"t1 1, 9 down", "t2 1, 9 up (none down)"}));
  EXPECT_EQ(MustBuild(events),
            (std::vector<std::string>{"t1 2, 7 down", "t2 2, 7 up (none down)"}));
}

TEST(TimelineTest, MixedAndRemovedChanges) {
  auto events = Events({{"t0", "{ 1-3:0, down: 4 }"},
                        {"t1", "{ 1,4:0, down: 2-3 }"},
                        {"t2", "{ 1,4:0, down: 2 }"},
                        {"t3", "{ 1,4:0, down: 3 }"},
                        {"t4", "{ 1,4:0 }"}});
  EXPECT_EQ(MustBuild(events), (std::vector<std::string>{
                                   "t1 4 up, 2, 3 down",
                                   "t2 3 removed (2 still down)",
                                   "t3 3 down, 2 removed",
                                   "t4 3 removed (none down)",
                               }));
}

TEST(TimelineTest, IgnoresChangesThatKeepTheDownSet) {
  auto events = Events({{"t0", "{ 1-3:0-11, down: 4 }"},
                        {"t1", "{ 1-2:0-11, 3:0-10, down: 4, 3:11, soft_failed: 3:11 }"},
                        {"t2", "<1,5>: { 1-3:0-11, down: 4, diskless: 2, smb: 1 }"},
                        {"t3", "{ 1-4:0-11 }"}});
  EXPECT_EQ(MustBuild(events), (std::vector<std::string>{"t3 4 up (none down)"}));
}

TEST(TimelineTest, ObserverMustBeAMember) {
  auto events = Events({{"t0", "{ 1-3:0 }"}, {"t1", "{ 1-2:0, down: 3 }"}});
  EXPECT_EQ(MustBuild(events, {}, 2), (std::vector<std::string>{"t1 3 down"}));
  Result<std::vector<std::string>> lines = BuildTimeline(events, {}, 3);
  ASSERT_FALSE(lines.ok());
  EXPECT_EQ(lines.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(lines.status().message().find("event 1 at t1: observer array id 3"), std::string::npos)
      << lines.status().message();
}

TEST(TimelineTest, EventsFileErrors) {
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"not json", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {"{}", "needs an \"events\" array"},
      {R"({"events": [{"time": "t0"}]})", "event 0: needs string fields"},
      {R"({"events": [{"time": "t0", "group": "{ 1 }"}, {"time": "t1", "group": "{ 1:x }"}]})",
       "event 1 group: at byte 4: expected a drive number"},
      {R"({"lnn_of_array_id": {"x": 1}, "events": []})", "lnn_of_array_id key 'x' is not a number"},
      {R"({"lnn_of_array_id": {"1": "a"}, "events": []})", "lnn_of_array_id[1] must be a number"},
      {R"({"observer_array_id": -1, "events": []})", "observer_array_id must be"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    Result<TimelineInput> input = ParseTimelineEvents(c.json);
    ASSERT_FALSE(input.ok());
    EXPECT_EQ(input.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(input.status().message().find(c.message), std::string::npos)
        << input.status().message();
  }
  Result<TimelineInput> ok = ParseTimelineEvents(
      R"({"events": [{"time": "t0", "kind": "merge", "group": "{ 1 }"}], "extra": 1})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->events[0].kind, "merge");
  EXPECT_FALSE(ok->observer.has_value());
}

}  // namespace
}  // namespace tessera::cluster
