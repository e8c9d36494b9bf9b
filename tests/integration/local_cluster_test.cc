// `tessera up` / `tessera down` end to end: a real 3-member etcd and 3 real
// nodes under a real supervisord, driven through the tessera binary.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/cli_run.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/up_cluster.h"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return pred();
}

class CliUpTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // Never leave a cluster behind, whatever the test did.
    if (fs::exists(dir_ + "/supervisord.conf")) Tessera({"down", "--dir", dir_});
  }

  CommandResult Tessera(std::vector<std::string> args) {
    args.insert(args.begin(), TesseraBinary());
    return RunCommand(args);
  }
  CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"supervisorctl", "-c", dir_ + "/supervisord.conf"});
    return RunCommand(args);
  }
  pid_t PidOf(const std::string& program) {
    CommandResult r = Ctl({"pid", program});
    return static_cast<pid_t>(std::strtol(r.output.c_str(), nullptr, 10));
  }

  TempDir tmp_;
  std::string dir_ = tmp_.Sub("cluster");
};

TEST_F(CliUpTest, UpServesSurvivesAKillAndDownStopsEverything) {
  // Each node keeps its files on its own 2 drives: +1 fits, the
  // default +2 would not. Written into etcd by up, it must reach the nodes.
  CommandResult up = Tessera({"up", "--nodes", "3", "--drives", "2", "--dir", dir_,
                              "--etcd-members", "3", "--protection", "+1", "--timeout", "90"});
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_NE(up.output.find("export TESSERA_CLUSTER=" + dir_ + "/cluster.json"), std::string::npos)
      << up.output;

  std::string cluster = dir_ + "/cluster.json";
  nlohmann::json file = nlohmann::json::parse(ReadFileOrEmpty(cluster));
  ASSERT_EQ(file["nodes"].size(), 3u) << file.dump();
  ASSERT_EQ(file["etcd"].size(), 3u) << file.dump();
  for (const auto& node : file["nodes"]) {
    EXPECT_NE(up.output.find("http://" + node["api"].get<std::string>()), std::string::npos)
        << "the summary lists every node\n"
        << up.output;
  }

  // A running cluster is not started twice.
  CommandResult again = Tessera({"up", "--nodes", "3", "--drives", "2", "--dir", dir_});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("already holds a running cluster"), std::string::npos)
      << again.output;

  std::string local = tmp_.Sub("in.bin");
  std::string content(300 * 1024, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 131 % 251);
  std::ofstream(local, std::ios::binary) << content;
  CommandResult put = Tessera({"put", local, "arch/in.bin", "--cluster", cluster});
  ASSERT_EQ(put.exit_code, 0) << put.output;
  CommandResult get = Tessera({"get", "arch/in.bin", tmp_.Sub("out.bin"), "--cluster", cluster});
  ASSERT_EQ(get.exit_code, 0) << get.output;
  EXPECT_TRUE(ReadFileOrEmpty(tmp_.Sub("out.bin")) == content);
  CommandResult stat = Tessera({"stat", "arch/in.bin", "--cluster", cluster});
  ASSERT_EQ(stat.exit_code, 0) << stat.output;
  EXPECT_NE(stat.output.find("protection        +1"), std::string::npos) << stat.output;

  // supervisord brings a killed node back, and it serves again.
  pid_t node2 = PidOf("node2");
  ASSERT_GT(node2, 0) << Ctl({"status"}).output;
  ASSERT_EQ(::kill(node2, SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return ProcessGone(node2); }, std::chrono::seconds(10)));
  std::string api = file["nodes"][1]["api"];
  int port = std::atoi(api.substr(api.rfind(':') + 1).c_str());
  bool back = WaitFor(
      [&] {
        pid_t now = PidOf("node2");
        if (now <= 0 || now == node2) return false;
        httplib::Client http("127.0.0.1", port);
        http.set_connection_timeout(0, 300'000);
        auto res = http.Get("/v1/cluster/view");
        return res && res->status == 200 &&
               nlohmann::json::parse(res->body, nullptr, false).value("writable", false);
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(back) << Ctl({"status"}).output << ReadFileOrEmpty(dir_ + "/logs/node2.log");
  // Files live on the node that took them (no distributed data path yet), so
  // the node that came back is checked with a round trip of its own.
  CommandResult put2 = Tessera({"put", local, "arch/via-node2.bin", "--node", "http://" + api});
  ASSERT_EQ(put2.exit_code, 0) << put2.output;
  CommandResult get2 = Tessera({"get", "arch/via-node2.bin", "-", "--node", "http://" + api});
  ASSERT_EQ(get2.exit_code, 0) << get2.output;
  EXPECT_TRUE(get2.output == content);
  // The cluster file still leads to a live node (node1) with the first file.
  CommandResult get_any = Tessera({"get", "arch/in.bin", "-", "--cluster", cluster});
  ASSERT_EQ(get_any.exit_code, 0) << get_any.output;
  EXPECT_TRUE(get_any.output == content);

  // With node1 stopped, --cluster moves on to the next live node.
  ASSERT_EQ(Ctl({"stop", "node1"}).exit_code, 0);
  CommandResult put3 = Tessera({"put", local, "arch/while-node1-down.bin", "--cluster", cluster});
  ASSERT_EQ(put3.exit_code, 0) << put3.output;
  CommandResult ls = Tessera({"ls", "arch/", "--node", "http://" + api});
  EXPECT_NE(ls.output.find("while-node1-down.bin"), std::string::npos) << "node2 took the file\n"
                                                                       << ls.output;
  ASSERT_EQ(Ctl({"start", "node1"}).exit_code, 0);

  std::vector<pid_t> pids;
  for (const char* program : {"node1", "node2", "node3", "etcd1", "etcd2", "etcd3"}) {
    pid_t pid = PidOf(program);
    ASSERT_GT(pid, 0) << program << "\n" << Ctl({"status"}).output;
    pids.push_back(pid);
  }
  pid_t supervisord = static_cast<pid_t>(
      std::strtol(ReadFileOrEmpty(dir_ + "/supervisord.pid").c_str(), nullptr, 10));
  ASSERT_GT(supervisord, 0);

  CommandResult down = Tessera({"down", "--dir", dir_});
  ASSERT_EQ(down.exit_code, 0) << down.output;
  EXPECT_NE(down.output.find("supervisord (pid " + std::to_string(supervisord) + ")"),
            std::string::npos)
      << down.output;
  for (pid_t pid : pids) {
    EXPECT_TRUE(ProcessGone(pid)) << "pid " << pid << " outlived `tessera down`\n" << down.output;
    EXPECT_NE(down.output.find("(pid " + std::to_string(pid) + ")"), std::string::npos)
        << down.output;
  }
  EXPECT_TRUE(ProcessGone(supervisord));
  EXPECT_TRUE(fs::exists(dir_ + "/node1/d0")) << "down keeps the data";

  CommandResult idle = Tessera({"down", "--dir", dir_});
  EXPECT_EQ(idle.exit_code, 0) << idle.output;
  EXPECT_NE(idle.output.find("nothing is running"), std::string::npos) << idle.output;

  // Up again on the stopped cluster: same ports, same data. A drive that is
  // no longer a directory is said, though the cluster comes up without it.
  const std::string lost = dir_ + "/node3/d1";
  fs::rename(lost, lost + ".moved");
  std::ofstream(lost) << "not a drive";
  CommandResult restart = Tessera({"up", "--dir", dir_, "--timeout", "90"});
  ASSERT_EQ(restart.exit_code, 0) << restart.output;
  EXPECT_NE(restart.output.find("tessera: warning: node3: drive 1 (" + lost + ") is down"),
            std::string::npos)
      << restart.output;
  EXPECT_NE(restart.output.find("tessera: warning: node3 serves 1 of 2 drives"), std::string::npos)
      << restart.output;
  EXPECT_EQ(restart.output.find("warning: node1"), std::string::npos) << restart.output;
  EXPECT_EQ(nlohmann::json::parse(ReadFileOrEmpty(cluster)), file);
  CommandResult get3 = Tessera({"get", "arch/in.bin", "-", "--cluster", cluster});
  ASSERT_EQ(get3.exit_code, 0) << get3.output;
  EXPECT_TRUE(get3.output == content);
  ASSERT_EQ(Tessera({"down", "--dir", dir_}).exit_code, 0);
}

TEST_F(CliUpTest, RefusesBadArgumentsBeforeStartingAnything) {
  CommandResult r =
      Tessera({"up", "--nodes", "3", "--drives", "2", "--dir", dir_, "--etcd-members", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--etcd-members must be 1 or 3"), std::string::npos) << r.output;
  r = Tessera({"up", "--drives", "2", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--nodes is required"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ + "/supervisord.conf"));
  r = Tessera({"down", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nothing is running"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tessera::testing
