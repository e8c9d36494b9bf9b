#include "node/hook_runner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace tessera::node {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(HookRunnerTest, RunsTheCommandWithItsEnvironment) {
  testing::TempDir dir;
  std::string out = dir.path() + "/out";
  Status s = RunHook("echo \"$TESSERA_MASTER_TOKEN $TESSERA_ARRAY_ID\" > " + out,
                     {{"TESSERA_MASTER_TOKEN", "42"}, {"TESSERA_ARRAY_ID", "3"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Read(out), "42 3\n");
}

TEST(HookRunnerTest, ReportsFailuresAndTimeouts) {
  Status failed = RunHook("exit 3", {});
  EXPECT_EQ(failed.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(failed.message().find("exited with status 3"), std::string::npos);
  EXPECT_EQ(RunHook("", {}).code(), StatusCode::kInvalidArgument);
  auto start = std::chrono::steady_clock::now();
  Status slow = RunHook("sleep 30", {}, std::chrono::milliseconds(200));
  EXPECT_EQ(slow.code(), StatusCode::kUnavailable) << slow.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace tessera::node
