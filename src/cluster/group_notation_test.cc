#include "cluster/group_notation.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace tessera::cluster {
namespace {

nlohmann::ordered_json LoadJson(const std::string& relative) {
  std::string path = std::string(TESSERA_SHARED_DIR) + "/" + relative;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return nlohmann::ordered_json::parse(buffer.str());
}

const nlohmann::ordered_json& Vectors() {
  static const nlohmann::ordered_json vectors =
      LoadJson("testdata/group/notation.json").at("vectors");
  return vectors;
}

GroupState MustParse(std::string_view text) {
  Result<GroupState> state = ParseGroupNotation(text);
  EXPECT_TRUE(state.ok()) << text << ": " << state.status().ToString();
  return state.ok() ? *state : GroupState{};
}

TEST(IdSetTest, MergesRangesAndPrints) {
  IdSet set;
  EXPECT_EQ(set.ToString(), "");
  set.Insert(5);
  set.Insert(3);
  EXPECT_EQ(set.ToString(), "3,5");
  set.Insert(4);
  EXPECT_EQ(set.ToString(), "3-5");
  EXPECT_EQ(set.ranges().size(), 1u);
  set.InsertRange(10, 11);
  EXPECT_EQ(set.ToString(), "3-5,10-11");
  set.InsertRange(0, 20);
  EXPECT_EQ(set.ToString(), "0-20");
  EXPECT_EQ(set.size(), 21u);
  EXPECT_TRUE(set.Contains(0));
  EXPECT_TRUE(set.Contains(20));
  EXPECT_FALSE(set.Contains(21));
  EXPECT_EQ(IdSet({1, 2}).ToString(), "1-2");
  EXPECT_EQ(IdSet({9, 1, 3}).ToVector(), (std::vector<uint32_t>{1, 3, 9}));
  EXPECT_EQ(IdSet({1, 2, 3}), IdSet({3, 2, 1}));
  EXPECT_NE(IdSet({1, 2}), IdSet({1, 3}));
}

TEST(IdSetTest, MatchesAStdSetUnderRandomInserts) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    IdSet set;
    std::set<uint32_t> model;
    for (int i = 0; i < 20; ++i) {
      uint32_t a = rng() % 60;
      uint32_t b = a + rng() % 5;
      set.InsertRange(a, b);
      for (uint32_t id = a; id <= b; ++id) model.insert(id);
    }
    EXPECT_EQ(set.ToVector(), std::vector<uint32_t>(model.begin(), model.end()));
    for (size_t i = 1; i < set.ranges().size(); ++i) {
      EXPECT_GT(set.ranges()[i].first, set.ranges()[i - 1].last + 1);
    }
  }
}

TEST(GroupNotationTest, VectorsAreLoaded) { EXPECT_GE(Vectors().size(), 20u); }

TEST(GroupNotationTest, EveryVectorParsesToItsMeaning) {
  for (const auto& vector : Vectors()) {
    std::string input = vector.at("input");
    SCOPED_TRACE(input);
    Result<GroupState> state = ParseGroupNotation(input);
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    nlohmann::ordered_json want = vector;
    want.erase("input");
    nlohmann::ordered_json got = GroupToJson(*state);
    // Key order of the top level and of members is not part of the meaning;
    // compare as unordered JSON, then check the service order separately.
    EXPECT_EQ(nlohmann::json::parse(got.dump()), nlohmann::json::parse(want.dump()));
    if (want.contains("services")) {
      ASSERT_TRUE(got.contains("services"));
      EXPECT_EQ(got["services"].dump(), want["services"].dump());
    }
  }
}

TEST(GroupNotationTest, VectorsFormatCanonically) {
  // Inputs not already in canonical form, with their canonical form.
  const std::map<std::string, std::string> rewritten = {
      {"<889a65> (5) :{ 1-3:0-5, smb: 1-3, nfs: 1-3, all_enabled_protocols: 1-3, isi_cbind_d: 1,3 "
       "}",
       "<889a65> (5): { 1-3:0-5, smb: 1-3, nfs: 1-3, all_enabled_protocols: 1-3, isi_cbind_d: 1,3 "
       "}"},
      {"{ 1:0-11, 2:0-9,11, 3:0-11, 4:0-11, 5:0-11, 6:0-11, dead: 2:10 }",
       "{ 1:0-11, 2:0-9,11, 3-6:0-11, dead: 2:10 }"},
      {"{ 1-2:0-11, 6-8, 9,13-15:0-11, 16:0,2-12, 17-18:0-11, 19-21, diskless: 6-8, 19-21 }",
       "{ 1-2:0-11, 6-8, 9,13-15:0-11, 16:0,2-12, 17-18:0-11, 19-21, diskless: 6-8,19-21 }"},
      {": { 9:0-11, down: 1-2, 6-8, 13-21, diskless: 6-8, 19-21 }",
       "{ 9:0-11, down: 1-2,6-8,13-21, diskless: 6-8,19-21 }"},
      {"{ 1-2:0-23, 4:0-23, down: 3 }", "{ 1-2,4:0-23, down: 3 }"},
      {"<1,270>: { 1:0-11, down: 2, 6-11, diskless: 6-8 }",
       "<1,270>: { 1:0-11, down: 2,6-11, diskless: 6-8 }"},
  };
  size_t rewrites_seen = 0;
  for (const auto& vector : Vectors()) {
    std::string input = vector.at("input");
    SCOPED_TRACE(input);
    GroupState state = MustParse(input);
    std::string canonical = FormatGroupNotation(state);
    auto it = rewritten.find(input);
    if (it != rewritten.end()) {
      ++rewrites_seen;
      EXPECT_EQ(canonical, it->second);
    } else {
      EXPECT_EQ(canonical, input);
    }
    // Round trip: the canonical form means the same and is a fixed point.
    GroupState again = MustParse(canonical);
    EXPECT_EQ(again, state);
    EXPECT_EQ(FormatGroupNotation(again), canonical);
  }
  EXPECT_EQ(rewrites_seen, rewritten.size());
}

TEST(GroupNotationTest, ParsesStructure) {
  GroupState state = MustParse(
      "<3,6>: { 1-2:0-11, 3:0-3,5-11, down: 3:4, soft_failed: 3:4, diskless: 4, smb: 1-3 }");
  EXPECT_EQ(state.sequence, Sequence(SerialSequence{3, 6}));
  ASSERT_EQ(state.members.size(), 3u);
  EXPECT_EQ(state.members.at(1), IdSet({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(state.members.at(3).ToString(), "0-3,5-11");
  ASSERT_EQ(state.down.size(), 1u);
  EXPECT_EQ(state.down[0], (DeviceRef{3, IdSet({4})}));
  EXPECT_EQ(state.soft_failed, state.down);
  EXPECT_EQ(state.diskless, IdSet({4}));
  ASSERT_EQ(state.services.size(), 1u);
  EXPECT_EQ(state.services[0].first, "smb");
  EXPECT_EQ(state.services[0].second, IdSet({1, 2, 3}));
  EXPECT_TRUE(state.dead.empty());
  EXPECT_TRUE(state.read_only.empty());

  GroupState cookie = MustParse("<00ff> (0): { }");
  EXPECT_EQ(cookie.sequence, Sequence(CookieSequence{"00ff", 0}));
  EXPECT_TRUE(cookie.members.empty());
  EXPECT_EQ(FormatGroupNotation(cookie), "<00ff> (0): { }");
}

TEST(GroupNotationTest, AcceptsWhitespaceVariants) {
  GroupState want = MustParse("{ 1-3:0-11, down: 4 }");
  EXPECT_EQ(MustParse("{1-3:0-11, down: 4}"), want);
  EXPECT_EQ(MustParse("  {\t1-3:0-11,   down:4 }  "), want);
  EXPECT_EQ(MustParse(": { 1-3:0-11, down: 4 }"), want);
  EXPECT_EQ(MustParse("{ 1,2-3:0-5,6-11, down: 4 }"), want);
  EXPECT_EQ(MustParse("<1,2> : { }").sequence, Sequence(SerialSequence{1, 2}));
}

TEST(GroupNotationTest, RepeatedLabelsAccumulate) {
  GroupState state = MustParse("{ 1:0, down: 2, smb: 1, down: 3, smb: 4, nfs: 1 }");
  EXPECT_EQ(state.down, (std::vector<DeviceRef>{{2, std::nullopt}, {3, std::nullopt}}));
  ASSERT_EQ(state.services.size(), 2u);
  EXPECT_EQ(state.services[0].second, IdSet({1, 4}));
  EXPECT_EQ(FormatGroupNotation(state), "{ 1:0, down: 2-3, smb: 1,4, nfs: 1 }");
}

TEST(GroupNotationTest, DeviceListsKeepTheirOrder) {
  GroupState state = MustParse("{ down: 5, 2, 3:1, 4:1, 6:1, 1:1, 7 }");
  std::vector<std::string> refs;
  for (const DeviceRef& ref : state.down) refs.push_back(ref.ToString());
  EXPECT_EQ(refs, (std::vector<std::string>{"5", "2", "3:1", "4:1", "6:1", "1:1", "7"}));
  EXPECT_EQ(FormatGroupNotation(state), "{ down: 5, 2, 3-4,6:1, 1:1, 7 }");
  EXPECT_EQ(MustParse(FormatGroupNotation(state)), state);
  EXPECT_EQ(state.NodesDown(), IdSet({2, 5, 7}));
}

// Soft-failed and read-only nodes take no new data; a soft-failed drive
// alone does not make its node so.
TEST(GroupNotationTest, NodesNotWritable) {
  GroupState state =
      MustParse("{ 1-6:0-1, down: 7, soft_failed: 2, 7, 3:1, read_only: 4-5, dead: 8 }");
  EXPECT_EQ(state.NodesNotWritable(), IdSet({2, 4, 5, 7}));
  EXPECT_TRUE(MustParse("{ 1-3:0 }").NodesNotWritable().empty());
}

TEST(GroupNotationTest, JsonShape) {
  GroupState state = MustParse(
      "<889a65> (5) :{ 1:0-1, 2, down: 3, 4:0, dead: 5, stalled: 1:2, read_only: 1, "
      "diskless: 2, smb: 1-2 }");
  EXPECT_EQ(GroupToJson(state).dump(),
            R"({"sequence":{"cookie":"889a65","generation":5},"members":{"1":"0-1","2":""},)"
            R"("down":["3","4:0"],"dead":["5"],"stalled":["1:2"],"read_only":"1",)"
            R"("diskless":"2","services":{"smb":"1-2"}})");
  EXPECT_EQ(GroupToJson(GroupState{}).dump(), R"({"sequence":null,"members":{}})");
}

struct BadInput {
  std::string text;
  size_t byte;
  std::string expected;  // a fragment of the message
};

TEST(GroupNotationTest, MalformedInputsNameTheBytePosition) {
  const std::vector<BadInput> cases = {
      {"", 0, "expected '{'"},
      {"   ", 3, "expected '{'"},
      {"1-3:0-11 }", 0, "expected '{'"},
      {"{ 1-3:0-11", 10, "expected ', ' or '}'"},
      {"{ 1-3:0-11 } x", 13, "expected end of input"},
      {"{ 1-3:0-11, }", 12, "expected a node id or a label"},
      {"{ 1-3:0-11, down: }", 18, "expected a node id"},
      {"{ 1-3:0-11, down }", 16, "expected ':' after 'down'"},
      {"{ 1-3: }", 6, "expected a drive number"},
      {"{ 1-:0 }", 4, "expected a node id"},
      {"{ 0:0 }", 2, "node id 0 is below 1"},
      {"{ 5-3:0 }", 4, "expected a range end of at least 5"},
      {"{ 3,1:0 }", 4, "ascending order"},
      {"{ 1-5,4:0 }", 6, "ascending order"},
      {"{ 1:0-3,2 }", 8, "ascending order"},
      {"{ 1:0, 1:2 }", 7, "node 1 is already a member"},
      {"{ 1-3:0, 2 }", 9, "node 2 is already a member"},
      {"{ 4096:0 }", 2, "node id is larger than the limit 4095"},
      {"{ 1:4096 }", 4, "drive number is larger than the limit 4095"},
      {"{ 99999999999999999999999:0 }", 2, "larger than the limit"},
      {"{ 1:0, diskless: 2:0 }", 18, "takes node ids, not drives"},
      {"{ 1:0, read_only: 2:0 }", 19, "takes node ids, not drives"},
      {"{ 1:0, smb: 2:0 }", 13, "takes node ids, not drives"},
      {"{ 1:0,x }", 5, "expected ', ' or '}'"},
      {"{ 1:0 ,2 }", 6, "expected ', ' or '}'"},
      {"{ 1:0,, 2 }", 5, "expected ', ' or '}'"},
      {"{ 1:0, down: 2 3 }", 15, "expected ', ' or '}'"},
      {"<", 1, "expected an initiator id or a hex cookie"},
      {"<2,> { }", 3, "expected a serial number"},
      {"<2,5 { }", 4, "expected '>'"},
      {"<2,5> { }", 6, "expected ':' after the sequence"},
      {"<abc>: { }", 5, "expected '(' and a generation"},
      {"<abc> (x): { }", 7, "expected a generation number"},
      {"<abc> (5: { }", 8, "expected ')'"},
      {"<abc,5>: { }", 1, "expected an initiator id"},
      {"<11111111111111111> (1): { }", 1, "at most 16 hex digits"},
      {"<1,18446744073709551616>: { }", 3, "serial number is larger than the limit"},
      {"::{ }", 1, "expected '{'"},
      {"{ 1:0 } }", 8, "expected end of input"},
      {"{ 1:0, -1 }", 7, "expected a node id or a label"},
      {std::string("{ 1:0\0 }", 8), 5, "expected ', ' or '}'"},
  };
  for (const BadInput& c : cases) {
    SCOPED_TRACE(c.text);
    Result<GroupState> state = ParseGroupNotation(c.text);
    ASSERT_FALSE(state.ok());
    EXPECT_EQ(state.status().code(), StatusCode::kInvalidArgument);
    std::string prefix = "at byte " + std::to_string(c.byte) + ": ";
    EXPECT_EQ(state.status().message().substr(0, prefix.size()), prefix)
        << state.status().message();
    EXPECT_NE(state.status().message().find(c.expected), std::string::npos)
        << state.status().message();
  }
}

IdSet RandomSet(std::mt19937& rng, uint32_t min, uint32_t max, int max_spans) {
  IdSet set;
  int spans = 1 + static_cast<int>(rng() % max_spans);
  for (int i = 0; i < spans; ++i) {
    uint32_t first = min + rng() % (max - min + 1);
    uint32_t last = std::min<uint32_t>(max, first + (rng() % 3 == 0 ? rng() % 12 : 0));
    set.InsertRange(first, last);
  }
  return set;
}

uint32_t RandomNode(std::mt19937& rng) {
  return rng() % 10 == 0 ? kMaxNodeId - rng() % 3 : 1 + rng() % 30;
}

std::vector<DeviceRef> RandomRefs(std::mt19937& rng) {
  std::vector<DeviceRef> refs;
  int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) {
    DeviceRef ref{RandomNode(rng), std::nullopt};
    if (rng() % 2) ref.drives = RandomSet(rng, 0, rng() % 4 == 0 ? kMaxDriveLnum : 40, 3);
    refs.push_back(ref);
  }
  return refs;
}

GroupState RandomState(std::mt19937& rng) {
  GroupState state;
  switch (rng() % 3) {
    case 0:
      break;
    case 1:
      state.sequence = SerialSequence{static_cast<uint32_t>(rng()),
                                      (static_cast<uint64_t>(rng()) << 32) | rng()};
      break;
    default: {
      std::string cookie;
      int digits = 1 + static_cast<int>(rng() % 16);
      for (int i = 0; i < digits; ++i) cookie += "0123456789abcdefABCDEF"[rng() % 22];
      state.sequence = CookieSequence{cookie, rng() % 1000};
    }
  }
  int members = static_cast<int>(rng() % 12);
  std::vector<IdSet> drive_sets = {IdSet(), RandomSet(rng, 0, 30, 3), RandomSet(rng, 0, 30, 3)};
  for (int i = 0; i < members; ++i) {
    state.members[RandomNode(rng)] = drive_sets[rng() % drive_sets.size()];
  }
  state.down = RandomRefs(rng);
  state.soft_failed = RandomRefs(rng);
  state.dead = RandomRefs(rng);
  state.stalled = RandomRefs(rng);
  if (rng() % 2) state.read_only = RandomSet(rng, 1, kMaxNodeId, 3);
  if (rng() % 2) state.diskless = RandomSet(rng, 1, 40, 3);
  static const char* const kNames[] = {"smb", "nfs", "hdfs", "s3", "isi_cbind_d", "_x", "Svc9"};
  std::vector<std::string> names(std::begin(kNames), std::end(kNames));
  std::shuffle(names.begin(), names.end(), rng);
  int services = static_cast<int>(rng() % names.size());
  for (int i = 0; i < services; ++i) {
    state.services.emplace_back(names[i], RandomSet(rng, 1, 40, 3));
  }
  return state;
}

TEST(GroupNotationTest, RandomStatesRoundTrip) {
  std::mt19937 rng(20261121);
  for (int i = 0; i < 5000; ++i) {
    GroupState state = RandomState(rng);
    std::string text = FormatGroupNotation(state);
    SCOPED_TRACE(text);
    Result<GroupState> parsed = ParseGroupNotation(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    ASSERT_EQ(*parsed, state);
    ASSERT_EQ(FormatGroupNotation(*parsed), text);
    ASSERT_EQ(GroupToJson(*parsed), GroupToJson(state));
  }
}

TEST(GroupNotationTest, TruncationsOfValidInputNeverCrashAndAreRejected) {
  for (const auto& vector : Vectors()) {
    std::string input = vector.at("input");
    for (size_t n = 0; n + 1 < input.size(); ++n) {
      // Every proper prefix lacks the closing '}', so none may parse.
      EXPECT_FALSE(ParseGroupNotation(input.substr(0, n)).ok()) << input.substr(0, n);
    }
  }
}

}  // namespace
}  // namespace tessera::cluster
