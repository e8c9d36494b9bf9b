// What the HTTP load harnesses (node_load_bench, cluster_load_bench) share:
// walking a data set, a pool of client threads pulling files from a shared
// counter, PUT and GET-and-compare of one file, failure counting, latency
// percentiles and the fields every JSON line carries. Keeping them here means
// a single node and a cluster are loaded and measured the same way, so their
// figures can be compared.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tessera::bench {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------ output

// Progress and errors go to stderr as "[NAME] text"; NAME is set once by main.
void SetLogName(const std::string& name);
void Log(const std::string& text);
// One JSON object per line on stdout, flushed so a tee sees it at once.
void Emit(const json& line);

double Seconds(Clock::time_point a, Clock::time_point b);
double Round(double v, int digits = 3);
std::string IsoDateUtc();
// nproc, memory and CPU model, for every line.
json MachineInfo();
// The last `lines` lines of `text`.
std::string Tail(const std::string& text, int lines);

// The bench's work directory: `given` made absolute and created, or, when
// empty, a fresh one from mkdtemp(`pattern`). nullopt (after printing why)
// when it cannot be made.
std::optional<std::string> PrepareWorkDir(const std::string& given, std::string pattern);

// The end of a bench run: removes `remove_dir` (if not empty), logs the
// verdict and returns the exit status (1 if there were failures).
int FinishBench(const std::string& remove_dir, uint64_t failures);

// "1G", "256M", "64K", "123" (bytes); binary multiples. nullopt if malformed.
std::optional<uint64_t> ParseSize(const std::string& text);

// ------------------------------------------------------------------ files

struct Dataset {
  std::string label;
  std::string dir;
};

// "LABEL=DIR" or "DIR" (label = its base name).
Dataset ParseDatasetSpec(const std::string& spec);
// A label is [A-Za-z0-9._-]+, not "." or "..".
bool ValidLabel(const std::string& label);

struct SourceFile {
  std::string abs;
  std::string rel;
  uint64_t size = 0;
};

// Every regular file under `root`, sorted by relative path.
std::vector<SourceFile> Walk(const std::string& root);
uint64_t TotalBytes(const std::vector<SourceFile>& files);

bool ReadWholeFile(const std::string& path, std::string* out, std::string* error);
// Sum of apparent sizes (du -sb) of the regular files under `path`.
uint64_t ApparentBytes(const std::string& path);
// A field of /proc/PID/status in kB ("VmHWM", "VmRSS"); -1 if unreadable.
int64_t ProcStatusKb(pid_t pid, const std::string& field);

// ------------------------------------------------------------------ HTTP

// Percent-encodes everything but RFC 3986 unreserved characters and '/'.
std::string EncodePath(const std::string& path);
// /v1/files/NS/REL, encoded.
std::string FileUrl(const std::string& ns, const std::string& rel);

// A keep-alive client with TCP_NODELAY and long timeouts, for one thread.
std::unique_ptr<httplib::Client> MakeClient(const std::string& host, int port);

// PUT `body` to `url`; empty on a 2xx, else what went wrong.
std::string PutBody(httplib::Client& client, const std::string& url, const std::string& body);

// GET `url` and compare with `expected`.
struct GetOutcome {
  enum Kind { kOk, kNotFound, kError, kMismatch } kind = kError;
  std::string message;  // for everything but kOk
};
GetOutcome GetAndCompare(httplib::Client& client, const std::string& url,
                         const std::string& expected);

// ------------------------------------------------------------------ measuring

// Counts failures of one phase and keeps (and prints) the first few.
class Failures {
 public:
  explicit Failures(std::string phase) : phase_(std::move(phase)) {}
  void Add(const std::string& message);
  uint64_t count() const { return count_; }
  json first() const;

 private:
  std::string phase_;
  std::atomic<uint64_t> count_{0};
  mutable std::mutex mu_;
  std::vector<std::string> first_;
};

// Files a timed GET: a miss or an error is a failure and leaves `*sample`
// as it was (NaN: no latency); a mismatch keeps its latency and counts both
// as a mismatch and as a failure.
void RecordRead(const GetOutcome& got, double latency_ms, double* sample,
                std::atomic<uint64_t>* mismatches, Failures* failures);

// Nearest-rank percentiles (p50, p90, p99, max, mean) of the successful
// latencies in ms; NaN entries mark failed requests and are skipped.
json LatencyStats(const std::vector<double>& latencies_ms);

// The fields of every timed phase: files, bytes, seconds, files/s, MB/s
// (10^6 bytes), latency and failures (with the first few messages).
json PhaseFields(size_t files, uint64_t bytes, double wall, const std::vector<double>& latency,
                 const Failures& failures);

// Logs progress of a pool every 10 s.
void LogProgress(const std::string& what, size_t done, size_t n, double seconds);

// Runs work(i) for i in [0, n) on `clients` threads that pull the next index
// from a shared counter; make_worker(t) builds thread t's work function (so
// per-thread state such as an HTTP client lives in that thread). Prints
// progress to stderr every 10 s. Returns wall seconds.
template <class MakeWorker>
double RunPool(const std::string& what, size_t n, int clients, MakeWorker make_worker) {
  std::atomic<size_t> next{0}, done{0};
  std::atomic<int> finished{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto work = make_worker(t);
      while (true) {
        size_t i = next.fetch_add(1);
        if (i >= n) break;
        work(i);
        done.fetch_add(1);
      }
      finished.fetch_add(1);
    });
  }
  auto last = start;
  while (finished.load() < clients) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now = Clock::now();
    if (Seconds(last, now) >= 10) {
      last = now;
      LogProgress(what, done.load(), n, Seconds(start, now));
    }
  }
  for (std::thread& t : threads) t.join();
  return Seconds(start, Clock::now());
}

}  // namespace tessera::bench
