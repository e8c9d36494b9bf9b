#include "cli/commands.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/fake_node.h"
#include "cluster/cluster_file.h"
#include "common/sha256.h"
#include "tests/support/temp_dir.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;
using testing::FakeNode;

void WriteFile(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f << data;
  ASSERT_TRUE(f.good()) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("TESSERA_NODE");
    unsetenv("TESSERA_CLUSTER");
  }
  void TearDown() override {
    unsetenv("TESSERA_NODE");
    unsetenv("TESSERA_CLUSTER");
  }

  // Runs `tessera ARGS...` with a fresh App, as main would.
  int Run(std::vector<std::string> args, bool with_node = true) {
    out_.str("");
    err_.str("");
    CLI::App app{"tessera"};
    app.require_subcommand(1);
    AddClientCommands(app, {.out = &out_,
                            .err = &err_,
                            .progress_tty = false,
                            .retry_backoff = std::chrono::milliseconds(1)});
    if (with_node) {
      args.push_back("--node");
      args.push_back(node_.url());
    }
    std::vector<const char*> argv{"tessera"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    return ParseAndRun(app, static_cast<int>(argv.size()), argv.data(), out_, err_);
  }

  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  FakeNode node_;
  tessera::testing::TempDir dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CommandsTest, PutPrintsOneLine) {
  WriteFile(dir_.Sub("f.bin"), "hello tessera");
  ASSERT_EQ(Run({"put", dir_.Sub("f.bin"), "archive/d/f.bin"}), 0) << err();
  EXPECT_EQ(out(),
            "stored archive/d/f.bin (13 bytes, sha256 " + Sha256::Hex("hello tessera") + ")\n");
  EXPECT_EQ(err(), "");
  EXPECT_EQ(node_.FileData("archive", "d/f.bin"), "hello tessera");
}

TEST_F(CommandsTest, PutFailures) {
  EXPECT_EQ(Run({"put", dir_.Sub("missing"), "archive/f"}), 1);
  EXPECT_EQ(err().rfind("tessera: NotFound: opening " + dir_.Sub("missing"), 0), 0u) << err();

  EXPECT_EQ(Run({"put", dir_.path(), "archive/f"}), 1);
  EXPECT_TRUE(Contains(err(), "is a directory; use 'tessera cp -r")) << err();

  WriteFile(dir_.Sub("f"), "x");
  EXPECT_EQ(Run({"put", dir_.Sub("f"), "archive"}), 2);
  EXPECT_TRUE(Contains(err(), "expected NS/PATH")) << err();

  node_.FailPuts("archive/f", 1, 503);
  EXPECT_EQ(Run({"put", dir_.Sub("f"), "archive/f"}), 1);
  EXPECT_EQ(err(), "tessera: Unavailable: injected failure for archive/f\n");
}

TEST_F(CommandsTest, GetToFileDirectoryAndStdout) {
  node_.SetFile("archive", "d/f.bin", "payload");
  ASSERT_EQ(Run({"get", "archive/d/f.bin", dir_.Sub("out.bin")}), 0) << err();
  EXPECT_EQ(ReadFile(dir_.Sub("out.bin")), "payload");
  EXPECT_EQ(out(), "fetched archive/d/f.bin to " + dir_.Sub("out.bin") + " (7 bytes, sha256 " +
                       Sha256::Hex("payload") + " verified)\n");

  fs::create_directory(dir_.Sub("into"));
  ASSERT_EQ(Run({"get", "archive/d/f.bin", dir_.Sub("into")}), 0) << err();
  EXPECT_EQ(ReadFile(dir_.Sub("into/f.bin")), "payload");

  ASSERT_EQ(Run({"get", "archive/d/f.bin", "-"}), 0) << err();
  EXPECT_EQ(out(), "payload");

  EXPECT_EQ(Run({"get", "archive/nope", dir_.Sub("nope")}), 1);
  EXPECT_EQ(err(), "tessera: NotFound: no file archive/nope\n");
  EXPECT_FALSE(fs::exists(dir_.Sub("nope")));
}

// Symlinks to the real devices, never /dev itself: run as root, a regression
// would replace the machine's /dev/null.
TEST_F(CommandsTest, GetWritesThroughDevicesAndKeepsSymlinks) {
  node_.SetFile("archive", "f", "payload");
  const std::string null_link = dir_.Sub("null");
  ASSERT_EQ(::symlink("/dev/null", null_link.c_str()), 0);
  ASSERT_EQ(Run({"get", "archive/f", null_link}), 0) << err();
  EXPECT_EQ(out(), "fetched archive/f to " + null_link + " (7 bytes, sha256 " +
                       Sha256::Hex("payload") + " verified)\n");
  EXPECT_TRUE(fs::is_symlink(null_link));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));

  const std::string full_link = dir_.Sub("full");
  ASSERT_EQ(::symlink("/dev/full", full_link.c_str()), 0);
  EXPECT_EQ(Run({"get", "archive/f", full_link}), 1);
  EXPECT_EQ(err(), "tessera: NoSpace: writing " + full_link + ": No space left on device\n");
  EXPECT_EQ(out(), "");
  EXPECT_TRUE(fs::is_symlink(full_link));
  EXPECT_TRUE(fs::is_character_file("/dev/full"));

  const std::string target = dir_.Sub("target.bin");
  const std::string link = dir_.Sub("link.bin");
  WriteFile(target, "old");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  ASSERT_EQ(Run({"get", "archive/f", link}), 0) << err();
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(ReadFile(target), "payload");
}

TEST_F(CommandsTest, LsFollowsPagesAndHonoursLimit) {
  for (int i = 0; i < 10; ++i) node_.SetFile("archive", "d/f" + std::to_string(i), "xyz");
  node_.SetFile("archive", "e/other", "x");
  node_.SetMaxPage(3);

  ASSERT_EQ(Run({"ls", "archive/d/"}), 0) << err();
  std::vector<std::string> lines = Lines(out());
  ASSERT_EQ(lines.size(), 10u) << out();
  EXPECT_EQ(lines[0], "           3  2026-11-21T19:40:01.123Z  d/f0");
  EXPECT_EQ(lines[9], "           3  2026-11-21T19:40:01.123Z  d/f9");
  EXPECT_EQ(node_.ListQueries().size(), 4u);

  ASSERT_EQ(Run({"ls", "archive", "--limit", "4"}), 0) << err();
  lines = Lines(out());
  ASSERT_EQ(lines.size(), 4u) << out();
  EXPECT_TRUE(Contains(lines[3], " d/f3")) << lines[3];

  ASSERT_EQ(Run({"ls", "archive/e", "-l"}), 0) << err();
  EXPECT_EQ(out(), "           1  2026-11-21T19:40:01.123Z  " + Sha256::Hex("x") + "  e/other\n");

  ASSERT_EQ(Run({"ls", "empty/"}), 0) << err();
  EXPECT_EQ(out(), "");

  EXPECT_EQ(Run({"ls", "archive", "--limit", "0"}), 2);
  EXPECT_TRUE(Contains(err(), "not in range 1 to")) << err();
  // strtoull in base 0 would take these as 2^64-1, eight and sixteen.
  for (const char* count : {"-1", "010", "0x10", "+4"}) {
    EXPECT_EQ(Run({"ls", "archive", "--limit", count}), 2) << count;
    EXPECT_TRUE(Contains(err(), std::string("'") + count + "' is not a whole number")) << err();
  }
  EXPECT_EQ(Run({"ls"}), 2);
  EXPECT_EQ(Run({"ls", "proxy/"}), 1);
  EXPECT_TRUE(Contains(err(), "tessera: Unavailable: node answered list proxy/ with HTTP 502"))
      << err();
}

TEST_F(CommandsTest, StatHumanAndJson) {
  node_.SetFile("archive", "big.bin", std::string(5 << 20, 'b'));
  ASSERT_EQ(Run({"stat", "archive/big.bin"}), 0) << err();
  const std::string s = out();
  EXPECT_TRUE(Contains(s, "  size              5242880 (5.0M)\n")) << s;
  EXPECT_TRUE(Contains(s, "  modified          2026-11-21T19:40:01.123Z\n")) << s;
  EXPECT_TRUE(Contains(s, "  crc32c            1a2b3c4d\n")) << s;
  EXPECT_TRUE(Contains(s, "  sha256            " + Sha256::Hex(std::string(5 << 20, 'b')))) << s;
  EXPECT_TRUE(Contains(s, "  protection        +2\n")) << s;
  EXPECT_TRUE(Contains(s, "  geometry          2+2 stripe, 20 stripes of 128.0k units")) << s;
  EXPECT_TRUE(Contains(s, "node tolerance not met")) << s;
  EXPECT_TRUE(Contains(s, "  units             80\n")) << s;
  EXPECT_TRUE(Contains(s, "    stripe  unit  role    drive         length\n")) << s;
  EXPECT_TRUE(Contains(s, "         0     2  parity  1:2           131072\n")) << s;
  EXPECT_TRUE(Contains(s, "        19     3  parity  1:2           131072\n")) << s;

  ASSERT_EQ(Run({"stat", "archive/big.bin", "--json"}), 0) << err();
  nlohmann::json j = nlohmann::json::parse(out());
  EXPECT_EQ(j["geometry"]["stripe_count"], 20);
  EXPECT_EQ(j["units"].size(), 80u);

  node_.SetFile("archive", "small", "tiny");
  ASSERT_EQ(Run({"stat", "archive/small"}), 0) << err();
  EXPECT_TRUE(Contains(out(), "  geometry          3x mirror\n")) << out();
  EXPECT_TRUE(Contains(out(), "         0     1  copy    1:1                4\n")) << out();
}

TEST_F(CommandsTest, RmThenStatFails) {
  node_.SetFile("archive", "f", "x");
  ASSERT_EQ(Run({"rm", "archive/f"}), 0) << err();
  EXPECT_EQ(out(), "deleted archive/f\n");
  EXPECT_FALSE(node_.HasFile("archive", "f"));
  EXPECT_EQ(Run({"stat", "archive/f"}), 1);
  EXPECT_EQ(err(), "tessera: NotFound: no file archive/f\n");
  EXPECT_EQ(Run({"rm", "archive/f"}), 1);
}

TEST_F(CommandsTest, NodeUrlFromFlagEnvironmentOrDefault) {
  node_.SetFile("archive", "f", "x");
  EXPECT_EQ(Run({"stat", "archive/f", "--node", "localhost:8080"}, false), 2);
  EXPECT_EQ(err(),
            "tessera: bad --node: node URL 'localhost:8080' must start with http:// "
            "(e.g. http://127.0.0.1:8080)\n");

  EXPECT_EQ(Run({"stat", "archive/f", "--node"}, false), 2);  // CLI11: missing value

  setenv("TESSERA_NODE", node_.url().c_str(), 1);
  EXPECT_EQ(Run({"stat", "archive/f"}, false), 0) << err();

  setenv("TESSERA_NODE", "http://nowhere", 1);
  EXPECT_EQ(Run({"stat", "archive/f"}, false), 2);
  EXPECT_TRUE(Contains(err(), "tessera: bad $TESSERA_NODE: node URL 'http://nowhere' has no port"))
      << err();
  // The flag wins over the environment.
  EXPECT_EQ(Run({"stat", "archive/f"}), 0) << err();
}

TEST_F(CommandsTest, UsageErrorsExitTwoAndHelpExitsZero) {
  EXPECT_EQ(Run({}, false), 2);
  EXPECT_EQ(Run({"put", "only-one"}), 2);
  EXPECT_EQ(Run({"frobnicate"}, false), 2);
  EXPECT_EQ(Run({"cp", "a", "b", "-j", "0"}), 2);
  EXPECT_EQ(Run({"cp", "--help"}, false), 0);
  EXPECT_TRUE(Contains(out(), "--node")) << out();
  EXPECT_TRUE(Contains(out(), "$TESSERA_NODE")) << out();
  EXPECT_TRUE(Contains(out(), "-j,--jobs")) << out();
}

class CpTest : public CommandsTest {
 protected:
  void SetUp() override {
    CommandsTest::SetUp();
    src_ = dir_.Sub("src");
    for (int i = 0; i < 40; ++i) {
      std::string rel = std::string("d") + std::to_string(i % 4);  // GCC 12 -Wrestrict
      rel += "/sub/f" + std::to_string(i) + ".bin";
      std::string data(static_cast<size_t>(i) * 1000 + 1, static_cast<char>('a' + i % 26));
      WriteFile(src_ + "/" + rel, data);
      expected_[rel] = data;
      total_bytes_ += data.size();
    }
    WriteFile(src_ + "/top.txt", "top");
    expected_["top.txt"] = "top";
    total_bytes_ += 3;
  }

  std::string src_;
  std::map<std::string, std::string> expected_;
  uint64_t total_bytes_ = 0;
};

TEST_F(CpTest, CopiesTreeConcurrently) {
  fs::create_symlink(src_ + "/top.txt", src_ + "/link.txt");
  fs::create_directories(src_ + "/empty/dir");
  ASSERT_EQ(Run({"cp", "-r", src_, "archive/backup", "-j", "4"}), 0) << err();
  for (const auto& [rel, data] : expected_) {
    EXPECT_EQ(node_.FileData("archive", "backup/" + rel), data) << rel;
  }
  EXPECT_EQ(node_.Keys().size(), expected_.size());
  EXPECT_TRUE(Contains(err(), "tessera: warning: skipping symlink " + src_ + "/link.txt\n"))
      << err();
  EXPECT_TRUE(Contains(err(), "done: 41 of 41 files, ")) << err();
  EXPECT_TRUE(Contains(err(), "(" + std::to_string(total_bytes_) + " bytes)")) << err();
  EXPECT_TRUE(Contains(err(), ", 0 failed\n")) << err();
  EXPECT_EQ(out(), "");
}

TEST_F(CpTest, IntoNamespaceRoot) {
  ASSERT_EQ(Run({"cp", "-r", src_ + "/", "archive"}), 0) << err();
  EXPECT_EQ(node_.FileData("archive", "top.txt"), "top");
  EXPECT_TRUE(node_.HasFile("archive", "d3/sub/f39.bin"));
}

TEST_F(CpTest, RetriesUnavailableFiles) {
  node_.FailPuts("archive/b/top.txt", 2, 503);
  ASSERT_EQ(Run({"cp", "-r", src_, "archive/b"}), 0) << err();
  EXPECT_EQ(node_.PutAttempts("archive/b/top.txt"), 3);
  EXPECT_EQ(node_.FileData("archive", "b/top.txt"), "top");
}

TEST_F(CpTest, ReportsFilesThatKeepFailing) {
  node_.FailPuts("archive/b/top.txt", 100, 503);
  node_.FailPuts("archive/b/d1/sub/f1.bin", 100, 507);
  EXPECT_EQ(Run({"cp", "-r", src_, "archive/b", "-j", "3"}), 1);
  EXPECT_EQ(node_.PutAttempts("archive/b/top.txt"), 4);        // 1 + 3 retries
  EXPECT_EQ(node_.PutAttempts("archive/b/d1/sub/f1.bin"), 1);  // NoSpace: no retry
  EXPECT_EQ(node_.Keys().size(), expected_.size() - 2);
  EXPECT_TRUE(Contains(err(), "done: 39 of 41 files")) << err();
  EXPECT_TRUE(Contains(err(), ", 2 failed\n")) << err();
  EXPECT_TRUE(Contains(err(), "tessera: 2 files failed:\n")) << err();
  EXPECT_TRUE(Contains(err(), "  archive/b/top.txt (from " + src_ + "/top.txt): Unavailable: "))
      << err();
  EXPECT_TRUE(Contains(err(), "  archive/b/d1/sub/f1.bin (from " + src_ +
                                  "/d1/sub/f1.bin): NoSpace: injected failure"))
      << err();
}

TEST_F(CpTest, UnreachableNodeFailsEveryFile) {
  // Port 1 on loopback: nothing listens there in a test environment.
  EXPECT_EQ(Run({"cp", "-r", src_, "archive/b", "--node", "http://127.0.0.1:1"}, false), 1);
  EXPECT_TRUE(Contains(err(), "done: 0 of 41 files")) << err();
  EXPECT_TRUE(Contains(err(), "tessera: 41 files failed, the first 10:\n")) << err();
  EXPECT_TRUE(Contains(err(), "cannot reach node at http://127.0.0.1:1")) << err();
}

TEST_F(CpTest, DirectoryNeedsRecursiveAndSingleFilesWork) {
  EXPECT_EQ(Run({"cp", src_, "archive/b"}), 2);
  EXPECT_EQ(err(),
            "tessera: " + src_ + " is a directory; use 'tessera cp -r " + src_ + " NS/PREFIX'\n");
  EXPECT_TRUE(node_.Keys().empty());

  ASSERT_EQ(Run({"cp", src_ + "/top.txt", "archive/x/renamed.txt"}), 0) << err();
  EXPECT_EQ(node_.FileData("archive", "x/renamed.txt"), "top");
  ASSERT_EQ(Run({"cp", src_ + "/top.txt", "archive/into/"}), 0) << err();
  EXPECT_EQ(node_.FileData("archive", "into/top.txt"), "top");

  EXPECT_EQ(Run({"cp", dir_.Sub("missing"), "archive/b"}), 1);
  EXPECT_TRUE(Contains(err(), "cannot copy " + dir_.Sub("missing"))) << err();
}

// A loopback port nothing listens on: bound, then closed, so connecting to it
// is refused at once, as with a node that died.
int DeadPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(CommandsTest, ClusterFileUsesTheFirstLiveNode) {
  std::string host_port = node_.url().substr(std::string("http://").size());
  cluster::ClusterFile file;
  file.cluster = "local";
  file.etcd = {"127.0.0.1:1"};
  file.nodes = {{"node1", "127.0.0.1:" + std::to_string(DeadPort())}, {"node2", host_port}};
  std::string path = dir_.Sub("cluster.json");
  ASSERT_TRUE(cluster::SaveClusterFile(path, file).ok());
  node_.SetFile("archive", "f", "via node2");

  ASSERT_EQ(Run({"get", "archive/f", "-", "--cluster", path}, false), 0) << err();
  EXPECT_EQ(out(), "via node2");
  WriteFile(dir_.Sub("up.txt"), "uploaded");
  ASSERT_EQ(Run({"put", dir_.Sub("up.txt"), "archive/up", "--cluster", path}, false), 0) << err();
  EXPECT_EQ(node_.FileData("archive", "up"), "uploaded");

  // $TESSERA_CLUSTER, when neither flag nor $TESSERA_NODE is given.
  setenv("TESSERA_CLUSTER", path.c_str(), 1);
  ASSERT_EQ(Run({"ls", "archive"}, false), 0) << err();
  EXPECT_TRUE(Contains(out(), " up\n")) << out();
  // --node wins over the cluster file.
  EXPECT_EQ(
      Run({"ls", "archive", "--node", "http://127.0.0.1:" + std::to_string(DeadPort())}, false), 1);
  // $TESSERA_NODE wins over $TESSERA_CLUSTER, --cluster over $TESSERA_NODE.
  setenv("TESSERA_NODE", "http://nowhere", 1);
  EXPECT_EQ(Run({"ls", "archive"}, false), 2);
  EXPECT_EQ(Run({"ls", "archive", "--cluster", path}, false), 0) << err();
}

TEST_F(CommandsTest, ClusterFileWithNoLiveNodeFailsNamingEach) {
  cluster::ClusterFile file;
  file.cluster = "local";
  file.etcd = {"127.0.0.1:1"};
  file.nodes = {{"node1", "127.0.0.1:" + std::to_string(DeadPort())},
                {"node2", "127.0.0.1:" + std::to_string(DeadPort())}};
  std::string path = dir_.Sub("cluster.json");
  ASSERT_TRUE(cluster::SaveClusterFile(path, file).ok());
  EXPECT_EQ(Run({"ls", "archive", "--cluster", path}, false), 1);
  EXPECT_TRUE(Contains(err(), "no node of cluster 'local' (" + path + ") answers")) << err();
  EXPECT_TRUE(Contains(err(), "node1 http://127.0.0.1:")) << err();
  EXPECT_TRUE(Contains(err(), "node2 http://127.0.0.1:")) << err();

  EXPECT_EQ(Run({"ls", "archive", "--cluster", dir_.Sub("missing.json")}, false), 2);
  EXPECT_TRUE(Contains(err(), "bad --cluster: no cluster file at " + dir_.Sub("missing.json")))
      << err();
  WriteFile(dir_.Sub("bad.json"), "{}");
  EXPECT_EQ(Run({"ls", "archive", "--cluster", dir_.Sub("bad.json")}, false), 2);
  EXPECT_TRUE(Contains(err(), "missing \"cluster\"")) << err();
}

}  // namespace
}  // namespace tessera::cli
