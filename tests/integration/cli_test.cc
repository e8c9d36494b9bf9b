// The operator CLI (`tessera put/get/ls/stat/rm/cp -r`) against a real node.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/units.h"
#include "tests/integration/test_files.h"
#include "tests/support/cli_run.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<NodeProcess>(FourDriveNode(dir_.path()));
    ASSERT_TRUE(node_->Start()) << node_->ReadLog();
  }

  CommandResult Tessera(std::vector<std::string> args) {
    args.insert(args.begin(), TesseraBinary());
    return RunCommand(args, {"TESSERA_NODE=" + node_->url()});
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
};

TEST_F(CliTest, PutGetStatLsRm) {
  std::string local = dir_.Sub("in.bin");
  std::string content = Content(700 * kKiB, 4);
  WriteFile(local, content);
  auto put = Tessera({"put", local, "arch/x/in.bin"});
  ASSERT_EQ(put.exit_code, 0) << put.output;
  EXPECT_NE(put.output.find("arch/x/in.bin"), std::string::npos) << put.output;

  auto get = Tessera({"get", "arch/x/in.bin", dir_.Sub("out.bin")});
  ASSERT_EQ(get.exit_code, 0) << get.output;
  EXPECT_TRUE(ReadFileOrEmpty(dir_.Sub("out.bin")) == content);

  auto stat = Tessera({"stat", "arch/x/in.bin"});
  ASSERT_EQ(stat.exit_code, 0) << stat.output;
  EXPECT_NE(stat.output.find("2+2"), std::string::npos) << stat.output;
  EXPECT_NE(stat.output.find("parity"), std::string::npos) << stat.output;
  EXPECT_NE(stat.output.find("1:3"), std::string::npos) << "units name their node:lnum\n"
                                                        << stat.output;

  auto ls = Tessera({"ls", "arch/x/"});
  ASSERT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_NE(ls.output.find("x/in.bin"), std::string::npos) << ls.output;

  auto rm = Tessera({"rm", "arch/x/in.bin"});
  ASSERT_EQ(rm.exit_code, 0) << rm.output;
  auto missing = Tessera({"get", "arch/x/in.bin", dir_.Sub("gone.bin")});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("NotFound"), std::string::npos) << missing.output;
  EXPECT_FALSE(fs::exists(dir_.Sub("gone.bin"))) << "a failed get must leave no file";
}

TEST_F(CliTest, RecursiveCopyLoadsATree) {
  std::string src = dir_.Sub("tree");
  for (int d = 0; d < 3; ++d) {
    for (int f = 0; f < 20; ++f) {
      WriteFile(src + "/d" + std::to_string(d) + "/f" + std::to_string(f),
                Content(1000 + f * 9000, d * 100 + f));
    }
  }
  auto cp = Tessera({"cp", "-r", src, "bulk/load", "-j", "8"});
  ASSERT_EQ(cp.exit_code, 0) << cp.output;
  EXPECT_NE(cp.output.find("60"), std::string::npos) << "the summary counts the files\n"
                                                     << cp.output;
  httplib::Client client("127.0.0.1", node_->port());
  for (int d = 0; d < 3; ++d) {
    for (int f = 0; f < 20; ++f) {
      std::string rel = "d" + std::to_string(d) + "/f" + std::to_string(f);
      auto res = GetFile(client, "bulk/load/" + rel);
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << rel;
      EXPECT_TRUE(res->body == Content(1000 + f * 9000, d * 100 + f)) << rel;
    }
  }
  auto no_r = Tessera({"cp", src, "bulk/x"});
  EXPECT_NE(no_r.exit_code, 0);
}

TEST_F(CliTest, ClearErrorsForBadInput) {
  auto bad_ref = Tessera({"get", "no-slash", dir_.Sub("o")});
  EXPECT_NE(bad_ref.exit_code, 0);
  auto bad_path = Tessera({"put", "/etc/hostname", "ns/a/../b"});
  EXPECT_EQ(bad_path.exit_code, 2) << "a malformed NS/PATH is a usage error\n" << bad_path.output;
  EXPECT_NE(bad_path.output.find("InvalidArgument"), std::string::npos) << bad_path.output;
  auto missing_local = Tessera({"put", dir_.Sub("nope"), "ns/a"});
  EXPECT_EQ(missing_local.exit_code, 1) << missing_local.output;
  auto unreachable = RunCommand(
      {TesseraBinary(), "ls", "ns/", "--node", "http://127.0.0.1:" + std::to_string(FreePort())});
  EXPECT_EQ(unreachable.exit_code, 1) << unreachable.output;
  EXPECT_NE(unreachable.output.find("cannot reach"), std::string::npos) << unreachable.output;
  auto help = RunCommand({TesseraBinary(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* verb : {"node", "put", "get", "ls", "rm", "stat", "cp"}) {
    EXPECT_NE(help.output.find(verb), std::string::npos) << verb << " missing from --help";
  }
}

// A node started before etcd retries for up to a minute; SIGTERM (from
// supervisord or `tessera down`) stops it at once, cleanly.
TEST(NodeStartTest, ANodeWaitingForEtcdStopsOnSigterm) {
  TempDir dir;
  const auto started = std::chrono::steady_clock::now();
  CommandResult r = RunCommand(
      {"timeout", "--preserve-status", "-k", "50", "3", TesseraBinary(), "node", "--config",
       "etcd://127.0.0.1:" + std::to_string(FreePort()) + "/tessera/x/config", "--drives",
       dir.Sub("d0"), "--state", dir.Sub("state"), "--listen",
       "127.0.0.1:" + std::to_string(FreePort())});
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30)) << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("retrying"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("signal 15: stopping"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("cannot join"), std::string::npos) << r.output;
}

// `tessera node` refuses bad flags with exit 2 and a reason, before it
// formats a drive or writes a node identity.
TEST(NodeFlagsTest, BadFlagsAreRefusedBeforeAnythingChanges) {
  TempDir dir;
  const std::string free_address = "127.0.0.1:" + std::to_string(FreePort());
  const std::string d0 = dir.Sub("d0"), d1 = dir.Sub("d1"), state = dir.Sub("state");
  struct Case {
    std::string drives;
    std::vector<std::string> flags;
    const char* reason;
  } cases[] = {
      {d0 + "," + d1, {"--listen", "127.0.0.1"}, "has no port"},
      {d0 + "," + d1, {"--listen", "127.0.0.1:80x"}, "which is not a number from 1 to 65535"},
      {d0 + "," + d1, {"--listen", ":8080"}, "has no host"},
      {d0 + "," + d1,
       {"--listen", free_address, "--rpc-listen", "127.0.0.1:0"},
       "--rpc-listen needs --config"},
      {d0 + "," + d1,
       {"--listen", free_address, "--config", "etcd://h:1/x", "--rpc-listen", "h:x"},
       "--rpc-listen 'h:x' has port 'x'"},
      {d0 + "," + d1,
       {"--listen", free_address, "--config", "etcd://h/x"},
       "endpoint 'h' has no port"},
      {d0 + "," + d1 + "," + d0, {"--listen", free_address}, "names one directory twice"},
      {d0 + "," + dir.path() + "/./d0/", {"--listen", free_address}, "names one directory twice"},
      {d0 + "," + d1, {"--listen", free_address, "--state", d1 + "/"}, "is also drive"},
      {d0 + "," + d1, {"--listen", free_address, "--threads", "0"}, "--threads"},
      {d0 + "," + d1, {"--listen", free_address, "--threads", "-3"}, "--threads"},
      {d0 + "," + d1, {"--listen", free_address, "--compact-interval", "-1"}, "--compact-interval"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {"timeout", "20",       TesseraBinary(),
                                     "node",    "--drives", c.drives};
    if (std::find(c.flags.begin(), c.flags.end(), "--state") == c.flags.end()) {
      argv.insert(argv.end(), {"--state", state});
    }
    argv.insert(argv.end(), c.flags.begin(), c.flags.end());
    SCOPED_TRACE(c.reason);
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(c.reason), std::string::npos) << r.output;
    EXPECT_FALSE(std::filesystem::exists(d0));
    EXPECT_FALSE(std::filesystem::exists(d1));
    EXPECT_FALSE(std::filesystem::exists(state));
  }
}

}  // namespace
}  // namespace tessera::testing
