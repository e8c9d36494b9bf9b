// A one-line progress report for long work (many files, or big ones) on
// stderr: files done/total, bytes done/total, files/s, MB/s and ETA.
//
// On a terminal the line is redrawn in place ('\r') at most every
// `tty_interval` (200 ms: ~5 redraws/s, cheap even with 16 workers calling
// Add); elsewhere (CI logs, files) a plain line is printed at most every
// `plain_interval` (5 s) so logs stay readable. Finish() prints the summary
// line in both modes; the destructor calls it if nobody did. Rates are
// averages since construction; MB is 10^6 bytes. All methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <string>

namespace tessera::cli {

class ProgressBar {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    uint64_t total_files = 0;     // 0: unknown, the line shows no total for files
    uint64_t total_bytes = 0;     // 0: unknown, the line shows no total for bytes
    std::ostream* out = nullptr;  // nullptr: std::cerr
    bool tty = false;             // redraw in place; see StderrIsTty()
    std::chrono::milliseconds tty_interval{200};
    std::chrono::milliseconds plain_interval{5000};
    std::function<Clock::time_point()> now = nullptr;  // nullptr: Clock::now (tests inject)
  };

  explicit ProgressBar(Options options);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Counts finished files and transferred bytes (either may be 0, so bytes
  // can be reported while a big file is still in flight).
  void Add(uint64_t files, uint64_t bytes);
  // Counts files given up on; they count as done for the ETA and show in the
  // line and summary as failed.
  void AddFailed(uint64_t files);
  // Prints the summary line ("done: ...") once; later calls do nothing.
  void Finish();

  // The progress line as it would be drawn now, and the summary line; for
  // tests and for callers that log them elsewhere.
  std::string Line() const;
  std::string SummaryLine() const;

  // Whether stderr is a terminal (decides Options::tty for the CLI).
  static bool StderrIsTty();

 private:
  std::string LineLocked(Clock::time_point now) const;
  std::string SummaryLocked(Clock::time_point now) const;
  void MaybeDrawLocked();
  Clock::time_point Now() const;

  const Options options_;
  std::ostream& out_;
  const Clock::time_point start_;

  mutable std::mutex mu_;
  uint64_t files_ = 0;
  uint64_t failed_ = 0;
  uint64_t bytes_ = 0;
  Clock::time_point last_draw_;
  bool drawn_ = false;  // a '\r' line is on screen and needs a newline
  bool finished_ = false;
};

// "45s", "3m07s", "2h05m"; "--" when unknown.
std::string FormatDuration(double seconds);

}  // namespace tessera::cli
