#include "common/thread_name.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace tessera {
namespace {

// What the kernel shows for the calling thread, as ps and top read it.
std::string KernelName() {
  std::ifstream comm("/proc/thread-self/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST(ThreadNameTest, TheKernelShowsTheName) {
  std::thread([] {
    SetThreadName("dsync-3");
    EXPECT_EQ(KernelName(), "dsync-3");
    EXPECT_EQ(ThreadName(), "dsync-3");
  }).join();
}

TEST(ThreadNameTest, ALongNameIsCutToWhatTheKernelKeeps) {
  std::thread([] {
    SetThreadName("a-name-well-past-fifteen-bytes");
    EXPECT_EQ(KernelName(), "a-name-well-pas");
    EXPECT_EQ(ThreadName().size(), kMaxThreadNameBytes);
  }).join();
}

TEST(ThreadNameTest, NamingOneThreadLeavesTheOthers) {
  std::string before = ThreadName();
  std::thread([] { SetThreadName("worker"); }).join();
  EXPECT_EQ(ThreadName(), before);
}

}  // namespace
}  // namespace tessera
