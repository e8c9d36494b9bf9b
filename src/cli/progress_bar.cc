#include "cli/progress_bar.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "common/units.h"

namespace tessera::cli {
namespace {

double Seconds(ProgressBar::Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Fixed1(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  auto s = static_cast<uint64_t>(std::llround(seconds));
  char buf[64];
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%llus", static_cast<unsigned long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60));
  }
  return buf;
}

ProgressBar::ProgressBar(Options options)
    : options_(std::move(options)),
      out_(options_.out != nullptr ? *options_.out : std::cerr),
      start_(Now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

ProgressBar::Clock::time_point ProgressBar::Now() const {
  return options_.now ? options_.now() : Clock::now();
}

bool ProgressBar::StderrIsTty() { return isatty(STDERR_FILENO) == 1; }

void ProgressBar::Add(uint64_t files, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  files_ += files;
  bytes_ += bytes;
  MaybeDrawLocked();
}

void ProgressBar::AddFailed(uint64_t files) {
  std::lock_guard<std::mutex> lock(mu_);
  failed_ += files;
  MaybeDrawLocked();
}

void ProgressBar::MaybeDrawLocked() {
  if (finished_) return;
  Clock::time_point now = Now();
  auto interval = options_.tty ? options_.tty_interval : options_.plain_interval;
  if (now - last_draw_ < interval) return;
  last_draw_ = now;
  if (options_.tty) {
    // "\x1b[K" clears what is left of a longer previous line.
    out_ << '\r' << LineLocked(now) << "\x1b[K" << std::flush;
    drawn_ = true;
  } else {
    out_ << LineLocked(now) << '\n' << std::flush;
  }
}

void ProgressBar::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (options_.tty && drawn_) out_ << '\r';
  out_ << SummaryLocked(Now()) << (options_.tty && drawn_ ? "\x1b[K\n" : "\n") << std::flush;
}

std::string ProgressBar::Line() const {
  std::lock_guard<std::mutex> lock(mu_);
  return LineLocked(Now());
}

std::string ProgressBar::SummaryLine() const {
  std::lock_guard<std::mutex> lock(mu_);
  return SummaryLocked(Now());
}

std::string ProgressBar::LineLocked(Clock::time_point now) const {
  const double elapsed = Seconds(now - start_);
  const uint64_t processed = files_ + failed_;
  std::string line = std::to_string(processed);
  // Appended piecewise: GCC 12 misreports '"/" + std::string' (-Wrestrict).
  if (options_.total_files > 0) line.append("/").append(std::to_string(options_.total_files));
  line += " files";
  if (failed_ > 0) line += " (" + std::to_string(failed_) + " failed)";
  line += "  " + FormatSize(bytes_);
  if (options_.total_bytes > 0) line.append("/").append(FormatSize(options_.total_bytes));
  double files_per_s = elapsed > 0 ? static_cast<double>(processed) / elapsed : 0;
  double bytes_per_s = elapsed > 0 ? static_cast<double>(bytes_) / elapsed : 0;
  line += "  " + Fixed1(files_per_s) + " files/s  " + Fixed1(bytes_per_s / 1e6) + " MB/s";

  // Bytes predict the remaining time better than file counts when sizes vary.
  double eta = -1;
  if (options_.total_bytes > 0 && bytes_per_s > 0) {
    uint64_t left = options_.total_bytes > bytes_ ? options_.total_bytes - bytes_ : 0;
    eta = static_cast<double>(left) / bytes_per_s;
  } else if (options_.total_files > 0 && files_per_s > 0) {
    uint64_t left = options_.total_files > processed ? options_.total_files - processed : 0;
    eta = static_cast<double>(left) / files_per_s;
  }
  line += "  ETA " + FormatDuration(eta);
  return line;
}

std::string ProgressBar::SummaryLocked(Clock::time_point now) const {
  const double elapsed = Seconds(now - start_);
  // A run shorter than the clock's resolution still gets finite rates.
  const double divisor = std::max(elapsed, 1e-3);
  std::string line = "done: " + std::to_string(files_);
  if (options_.total_files > 0) line += " of " + std::to_string(options_.total_files);
  line += " files, " + FormatSize(bytes_) + " (" + std::to_string(bytes_) + " bytes) in " +
          Fixed1(elapsed) + " s (" + Fixed1(static_cast<double>(files_) / divisor) + " files/s, " +
          Fixed1(static_cast<double>(bytes_) / divisor / 1e6) + " MB/s), " +
          std::to_string(failed_) + " failed";
  return line;
}

}  // namespace tessera::cli
