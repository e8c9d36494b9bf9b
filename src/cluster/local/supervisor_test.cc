#include "cluster/local/supervisor.h"

#include <gtest/gtest.h>

namespace tessera::cluster::local {
namespace {

TEST(SupervisorStatusTest, ParsesEveryState) {
  std::string text =
      "etcd1                            RUNNING   pid 4242, uptime 0:01:02\n"
      "node1                            STOPPED   Not started\n"
      "node2                            FATAL     Exited too quickly (process log may have "
      "details)\n"
      "node3                            STARTING  \n"
      "node4                            BACKOFF   Exited too quickly\n";
  std::vector<ProgramStatus> got = ParseSupervisorStatus(text);
  std::vector<ProgramStatus> want = {
      {"etcd1", "RUNNING", 4242, "pid 4242, uptime 0:01:02"},
      {"node1", "STOPPED", 0, "Not started"},
      {"node2", "FATAL", 0, "Exited too quickly (process log may have details)"},
      {"node3", "STARTING", 0, ""},
      {"node4", "BACKOFF", 0, "Exited too quickly"},
  };
  EXPECT_EQ(got, want);
}

TEST(SupervisorStatusTest, SkipsWhatIsNotAStatusLine) {
  EXPECT_TRUE(ParseSupervisorStatus("").empty());
  EXPECT_TRUE(ParseSupervisorStatus("unix:///tmp/x.sock no such file\n").empty());
  EXPECT_TRUE(ParseSupervisorStatus("\n\n").empty());
  std::vector<ProgramStatus> got =
      ParseSupervisorStatus("warning: something\nnode1 RUNNING pid 7, uptime 0:00:01\n");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].pid, 7);
}

}  // namespace
}  // namespace tessera::cluster::local
