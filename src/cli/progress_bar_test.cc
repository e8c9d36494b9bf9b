#include "cli/progress_bar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <sstream>
#include <thread>
#include <vector>

namespace tessera::cli {
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand, so intervals and rates are exact.
struct FakeClock {
  ProgressBar::Clock::time_point now{};
  std::function<ProgressBar::Clock::time_point()> Fn() {
    return [this] { return now; };
  }
};

int CountLines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}
int CountReturns(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\r'));
}

TEST(ProgressBarTest, PlainModePrintsEveryIntervalAndTheSummary) {
  std::ostringstream out;
  FakeClock clock;
  {
    ProgressBar bar({.total_files = 10,
                     .total_bytes = 100'000'000,
                     .out = &out,
                     .tty = false,
                     .now = clock.Fn()});
    clock.now += 1s;
    bar.Add(1, 10'000'000);
    clock.now += 3s;
    bar.Add(1, 10'000'000);
    EXPECT_EQ(out.str(), "") << "printed before the 5 s interval";

    clock.now += 1s;  // t = 5 s
    bar.Add(1, 5'000'000);
    EXPECT_EQ(out.str(), "3/10 files  23.8M/95.4M  0.6 files/s  5.0 MB/s  ETA 15s\n");
    clock.now += 4s;
    bar.Add(0, 0);
    EXPECT_EQ(CountLines(out.str()), 1);

    clock.now += 1s;  // t = 10 s
    bar.Add(7, 75'000'000);
    bar.Finish();
  }
  EXPECT_EQ(out.str(),
            "3/10 files  23.8M/95.4M  0.6 files/s  5.0 MB/s  ETA 15s\n"
            "10/10 files  95.4M/95.4M  1.0 files/s  10.0 MB/s  ETA 0s\n"
            "done: 10 of 10 files, 95.4M (100000000 bytes) in 10.0 s (1.0 files/s, "
            "10.0 MB/s), 0 failed\n");
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

TEST(ProgressBarTest, SummaryPrintedOnceEvenWithoutProgressLines) {
  std::ostringstream out;
  FakeClock clock;
  {
    ProgressBar bar({.total_files = 2, .out = &out, .now = clock.Fn()});
    bar.Add(2, 2048);
    clock.now += 2s;
    bar.Finish();
    bar.Finish();
  }  // the destructor must not print it again
  EXPECT_EQ(out.str(),
            "done: 2 of 2 files, 2.0k (2048 bytes) in 2.0 s (1.0 files/s, 0.0 MB/s), 0 failed\n");
}

TEST(ProgressBarTest, DestructorPrintsSummaryIfNotFinished) {
  std::ostringstream out;
  FakeClock clock;
  { ProgressBar bar({.out = &out, .now = clock.Fn()}); }
  EXPECT_EQ(out.str().rfind("done: 0 files", 0), 0u) << out.str();
}

TEST(ProgressBarTest, CountsFailures) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({.total_files = 5, .total_bytes = 500, .out = &out, .now = clock.Fn()});
  bar.Add(2, 200);
  bar.AddFailed(1);
  EXPECT_NE(bar.Line().find("3/5 files (1 failed)"), std::string::npos) << bar.Line();
  clock.now += 1s;
  bar.Finish();
  EXPECT_NE(out.str().find("done: 2 of 5 files"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(", 1 failed\n"), std::string::npos) << out.str();
}

TEST(ProgressBarTest, UnknownTotalsAndEta) {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar({.out = &out, .now = clock.Fn()});
  bar.Add(5, 1024);
  EXPECT_EQ(bar.Line(), "5 files  1.0k  0.0 files/s  0.0 MB/s  ETA --");
  clock.now += 10s;
  EXPECT_EQ(bar.Line(), "5 files  1.0k  0.5 files/s  0.0 MB/s  ETA --");

  ProgressBar by_files({.total_files = 20, .out = &out, .now = clock.Fn()});
  clock.now += 5s;
  by_files.Add(5, 0);
  EXPECT_NE(by_files.Line().find("ETA 15s"), std::string::npos) << by_files.Line();
}

TEST(ProgressBarTest, TtyModeRedrawsInPlaceAtMostEveryInterval) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar(
      {.total_files = 100, .total_bytes = 100, .out = &out, .tty = true, .now = clock.Fn()});
  for (int i = 0; i < 10; ++i) bar.Add(1, 1);
  EXPECT_EQ(out.str(), "");
  clock.now += 200ms;
  for (int i = 0; i < 10; ++i) bar.Add(1, 1);
  EXPECT_EQ(CountReturns(out.str()), 1);
  EXPECT_EQ(out.str().rfind("\r11/100 files", 0), 0u) << out.str();
  EXPECT_EQ(out.str().find('\n'), std::string::npos);
  clock.now += 200ms;
  bar.Add(0, 0);
  EXPECT_EQ(CountReturns(out.str()), 2);
  bar.Finish();
  const std::string s = out.str();
  EXPECT_NE(s.find("\rdone: 20 of 100 files"), std::string::npos) << s;
  EXPECT_EQ(s.substr(s.size() - 4), "\x1b[K\n");
}

TEST(ProgressBarTest, ConcurrentAddsAreAllCounted) {
  std::ostringstream out;
  {
    ProgressBar bar({.out = &out, .tty = true, .tty_interval = 0ms});
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&bar] {
        for (int i = 0; i < 1000; ++i) bar.Add(1, 10);
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_NE(out.str().find("done: 8000 files, 78.1k (80000 bytes)"), std::string::npos);
}

TEST(ProgressBarTest, FormatDuration) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(59.4), "59s");
  EXPECT_EQ(FormatDuration(187), "3m07s");
  EXPECT_EQ(FormatDuration(7500), "2h05m");
  EXPECT_EQ(FormatDuration(-1), "--");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "--");
}

}  // namespace
}  // namespace tessera::cli
