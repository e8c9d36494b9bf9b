// In-process tests of `tessera group` and `tessera timeline`.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cluster/group_command.h"
#include "cluster/timeline_command.h"
#include "tests/support/cli_run.h"

namespace tessera::cluster {
namespace {

using CommandRun = testing::CliRun;

CommandRun RunTessera(std::vector<std::string> args) {
  return testing::RunCli(
      [](CLI::App& app, std::shared_ptr<int> code, std::ostream* out, std::ostream* err) {
        AddGroupCommands(app, code, out, err);
        AddTimelineCommand(app, code, out, err);
      },
      std::move(args));
}

TEST(GroupCommandTest, ParsePrintsJson) {
  CommandRun run = RunTessera({"group", "--parse", "<2,288>: { 1-3:0-11, down: 4, smb: 1-3 }"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(nlohmann::json::parse(run.out),
            nlohmann::json::parse(R"({"sequence": {"initiator": 2, "serial": 288},
              "members": {"1": "0-11", "2": "0-11", "3": "0-11"}, "down": ["4"],
              "services": {"smb": "1-3"}})"));
}

TEST(GroupCommandTest, CanonicalPrintsCanonicalForm) {
  CommandRun run =
      RunTessera({"group", "--canonical", ": { 9:0-11, down: 1-2, 6-8, diskless: 6-8, 19 }"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "{ 9:0-11, down: 1-2,6-8, diskless: 6-8,19 }\n");
}

TEST(GroupCommandTest, BadInputFailsWithPosition) {
  CommandRun run = RunTessera({"group", "--canonical", "{ 1-3:0-11, down: }"});
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "tessera: not a group: at byte 18: expected a node id\n");
}

TEST(GroupCommandTest, UsageErrors) {
  CommandRun bare = RunTessera({"group"});
  EXPECT_EQ(bare.code, 2);
  EXPECT_NE(bare.err.find("cannot read the live group"), std::string::npos) << bare.err;
  EXPECT_EQ(RunTessera({"group", "--parse", "{ }", "--canonical", "{ }"}).code, 2);
  EXPECT_EQ(RunTessera({"group", "--parse"}).code, 2);
  // --cluster and --json belong to the live mode only.
  EXPECT_EQ(RunTessera({"group", "--parse", "{ }", "--json"}).code, 2);
  EXPECT_EQ(RunTessera({"group", "--canonical", "{ }", "--cluster", "x.json"}).code, 2);
}

TEST(GroupCommandTest, WithoutParseOrCanonicalRunsTheLiveRunnerWithItsFlags) {
  CLI::App app{"test"};
  auto exit_code = std::make_shared<int>(0);
  std::ostringstream out, err;
  std::optional<LiveGroupRequest> seen;
  AddGroupCommands(app, exit_code, &out, &err,
                   [&seen](const LiveGroupRequest& r, std::ostream& o, std::ostream&) {
                     seen = r;
                     o << "live\n";
                     return 7;
                   });
  const char* argv[] = {"tessera", "group", "--cluster", "/x/cluster.json", "--json"};
  app.parse(5, argv);
  EXPECT_EQ(*exit_code, 7);
  EXPECT_EQ(out.str(), "live\n");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->cluster_file, "/x/cluster.json");
  EXPECT_TRUE(seen->json);
}

TEST(TimelineCommandTest, PrintsTheExpectedTimeline) {
  std::string path = std::string(TESSERA_SHARED_DIR) + "/testdata/group/timeline-15-nodes.json";
  CommandRun run = RunTessera({"timeline", "--events", path});
  EXPECT_EQ(run.code, 0) << run.err;
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "shared test data not found at " << path;
  nlohmann::json doc = nlohmann::json::parse(in);
  std::string want;
  for (const auto& line : doc.at("expected_timeline")) want += line.get<std::string>() + "\n";
  EXPECT_EQ(run.out, want);
}

TEST(TimelineCommandTest, Errors) {
  EXPECT_EQ(RunTessera({"timeline"}).code, 2);
  CommandRun missing = RunTessera({"timeline", "--events", "/nonexistent/events.json"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("tessera: cannot read /nonexistent/events.json"), std::string::npos)
      << missing.err;
}

TEST(TimelineCommandTest, MergesLogsWithOffsets) {
  std::string dir = ::testing::TempDir();
  std::string a = dir + "/group_a.log", b = dir + "/group_b.log";
  std::ofstream(a) << "2026-11-21T21:00:00Z node=1 new group: { 1-3:0 }\n"
                      "2026-11-21T21:00:10Z node=1 new group: { 1-2:0, down: 3 }\n"
                      "2026-11-21T21:00:30Z node=1 new group: { 1-3:0 }\n";
  // Node 2's clock runs 5 s fast; it saw the same changes plus node 1 going.
  std::ofstream(b) << "2026-11-21T21:00:15Z node=2 new group: { 1-2:0, down: 3 }\n"
                      "2026-11-21T21:00:25Z node=2 noise without a group\n"
                      "2026-11-21T21:00:25Z node=2 new group: { 2:0, down: 1, 3 }\n";
  CommandRun run = RunTessera({"timeline", a, b, "--offset", "2=-5", "--lnn", "3=7"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "2026-11-21T21:00:10 7 down\n"
            "2026-11-21T21:00:20 1 down (7 still down)\n"
            "2026-11-21T21:00:30 1, 7 up (none down)\n");

  // Options before the logs take one value each: the logs stay logs.
  CommandRun options_first = RunTessera({"timeline", "--offset", "2=-5", "--lnn", "3=7", a, b});
  EXPECT_EQ(options_first.code, 0) << options_first.err;
  EXPECT_EQ(options_first.out, run.out);

  CommandRun skewed = RunTessera({"timeline", a, b});
  EXPECT_EQ(skewed.code, 0) << skewed.err;
  EXPECT_NE(skewed.out, run.out);

  EXPECT_EQ(RunTessera({"timeline", a, "--offset", "2"}).code, 2);
  EXPECT_EQ(RunTessera({"timeline", a, "--offset", "x=1"}).code, 2);
  EXPECT_EQ(RunTessera({"timeline", a, "--offset", "2=1s"}).code, 2);
  EXPECT_EQ(RunTessera({"timeline", a, "--lnn", "3=0"}).code, 2);
  EXPECT_EQ(RunTessera({"timeline", a, "--events", a}).code, 2);
  std::ofstream(b, std::ios::app) << "2026-11-21T21:00:40Z node=2 new group: { 2:0, down: }\n";
  CommandRun bad = RunTessera({"timeline", a, b});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err, "tessera: " + b + ": line 4: group: at byte 13: expected a node id\n");
}

}  // namespace
}  // namespace tessera::cluster
