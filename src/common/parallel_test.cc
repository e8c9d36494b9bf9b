#include "common/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace tessera {
namespace {

TEST(RunInParallelTest, RunsEveryCallAndReturnsTheFirstErrorInCallOrder) {
  std::atomic<int> ran{0};
  std::vector<std::function<Status()>> calls;
  for (int i = 0; i < 5; ++i) {
    calls.push_back([&ran, i]() -> Status {
      ++ran;
      if (i == 1) return Status::NotFound("one");
      if (i == 3) return Status::IOError("three");
      return Status::Ok();
    });
  }
  Status status = RunInParallel(std::move(calls));
  EXPECT_EQ(ran.load(), 5);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_TRUE(RunInParallel({}).ok());
  EXPECT_EQ(RunInParallel({[] { return Status::IOError("only"); }}).code(), StatusCode::kIOError);
}

// A throwing call, pooled or the caller's own, is an error; the others still
// run to the end before RunInParallel returns (they may use the caller's stack).
TEST(RunInParallelTest, AThrowingCallIsAnErrorAndTheOthersFinish) {
  for (size_t thrower : {size_t{0}, size_t{3}}) {
    std::atomic<int> finished{0};
    std::vector<std::function<Status()>> calls;
    for (size_t i = 0; i < 4; ++i) {
      calls.push_back([&finished, i, thrower]() -> Status {
        if (i == thrower) throw std::runtime_error("boom");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ++finished;
        return Status::Ok();
      });
    }
    Status status = RunInParallel(std::move(calls));
    EXPECT_EQ(status.code(), StatusCode::kInternal) << thrower;
    EXPECT_NE(status.message().find("boom"), std::string::npos) << status.ToString();
    EXPECT_EQ(finished.load(), 3) << thrower;
  }
}

// Every call waits until all of them have started: this only returns if each
// runs on a thread of its own, however many there are.
TEST(RunInParallelTest, CallsThatWaitForEachOtherAllRun) {
  for (int n : {2, 8, 24}) {
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
    std::vector<std::function<Status()>> calls;
    for (int i = 0; i < n; ++i) {
      calls.push_back([&]() -> Status {
        std::unique_lock lock(mu);
        ++arrived;
        cv.notify_all();
        cv.wait(lock, [&] { return arrived == n; });
        return Status::Ok();
      });
    }
    EXPECT_TRUE(RunInParallel(std::move(calls)).ok()) << n;
    EXPECT_EQ(arrived, n);
  }
}

TEST(RunInParallelTest, RepeatedFanOutsReuseThreads) {
  auto fan_out = [] {
    std::vector<std::function<Status()>> calls(4, [] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return Status::Ok();
    });
    ASSERT_TRUE(RunInParallel(std::move(calls)).ok());
  };
  fan_out();
  const uint64_t before = ParallelThreadsStarted();
  for (int i = 0; i < 200; ++i) fan_out();
  // 600 calls ran off the calling thread; a thread per call would start 600.
  EXPECT_LT(ParallelThreadsStarted() - before, 20u);
}

}  // namespace
}  // namespace tessera
