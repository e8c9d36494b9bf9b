#include "common/stop_on_signal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace tessera {
namespace {

bool WaitFor(const std::atomic<int>& value, int want) {
  for (int i = 0; i < 500 && value.load() != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return value.load() == want;
}

TEST(StopOnSignalTest, SigtermAndSigintRunStopOnce) {
  for (int sig : {SIGTERM, SIGINT}) {
    std::atomic<int> stops{0};
    {
      StopOnSignal stopper([&] { ++stops; });
      // To the process, as `kill` sends it: only the waiter has it unblocked.
      ASSERT_EQ(kill(getpid(), sig), 0);
      EXPECT_TRUE(WaitFor(stops, 1)) << sig;
    }
    EXPECT_EQ(stops.load(), 1) << sig;
  }
}

TEST(StopOnSignalTest, DestroyedWithoutASignalItDoesNotStop) {
  std::atomic<int> stops{0};
  {
    StopOnSignal stopper([&] { ++stops; });
  }
  {
    StopOnSignal stopper([&] { ++stops; });
  }  // a second one works the same
  EXPECT_EQ(stops.load(), 0);
}

}  // namespace
}  // namespace tessera
