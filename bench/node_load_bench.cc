// Load harness for a real `tessera node`: many small files and one large one,
// over the HTTP API, against a local-filesystem fsync baseline. Not a Google
// Benchmark: every measurement is one JSON object per line on stdout (human
// progress goes to stderr), so runs can be appended to a .jsonl file and
// compared with the peers in /work/shared/tools.
//
// Per data set (--data LABEL=DIR, repeatable), with a fresh 4-drive node:
//   node_load  phase=write  --clients threads PUT every file (keep-alive
//                           client per thread; the file is read from disk
//                           before its latency timer starts)
//   node_load  phase=read   the same threads GET every file and compare the
//                           body byte for byte
//   node_space              du-like allocated bytes of the drive directories
//                           (and of their segments/ only) vs the logical bytes
//   fsync_baseline          the same files written by the same number of
//                           threads as plain files (write + fsync + close)
//                           into a local directory, after the node stopped
// Then (unless --large-size 0), with another fresh node:
//   large_file              one file streamed up and down from a generator
//                           (never held in memory), plus the node's peak RSS
//
// Exit status: 0 if every request succeeded and every byte matched, 1 if
// anything failed, 2 on bad arguments.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_common.h"
#include "tests/support/node_process.h"

#ifndef TESSERA_BINARY
#define TESSERA_BINARY "tessera"
#endif

namespace {

namespace fs = std::filesystem;
using namespace tessera::bench;

constexpr const char* kNamespace = "bench";

uint64_t g_total_failures = 0;

// ------------------------------------------------------------------ node

using tessera::testing::NodeConfig;
using tessera::testing::NodeProcess;

// GET /v1/node of the node on `port`; null if it does not answer 200.
json NodeInfo(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  auto res = client.Get("/v1/node");
  if (!res || res->status != 200) return json();
  return json::parse(res->body, nullptr, false);
}

// ------------------------------------------------------------------ run

struct Options {
  std::string binary = TESSERA_BINARY;
  std::string work;
  bool keep = false;
  int clients = 16;
  std::string protection = "+2";
  std::vector<std::string> data;
  std::string large_size = "1G";
};

class Bench {
 public:
  explicit Bench(Options options) : opt_(std::move(options)), machine_(MachineInfo()) {}

  json Common(const std::string& bench, const std::string& dataset) const {
    return {{"bench", bench},          {"dataset", dataset},  {"protection", opt_.protection},
            {"clients", opt_.clients}, {"machine", machine_}, {"date", IsoDateUtc()}};
  }

  // Fails (counted) and logs the node's log tail.
  void NodeFailure(const NodeProcess& node, const std::string& what) {
    ++g_total_failures;
    Log("ERROR: " + what);
    Log("node log " + node.log_path() + " (last lines):\n" + Tail(node.ReadLog(), 40));
  }

  // A fresh node under `dir`: four drives, its state and its log there.
  NodeConfig NodeIn(const std::string& dir) const {
    NodeConfig config = tessera::testing::FourDriveNode(dir);
    config.binary = opt_.binary;
    config.protection = opt_.protection;
    config.state_dir = dir + "/state";
    config.log_path = dir + "/node.log";
    return config;
  }

  // Starts `node` and waits until it serves; false (a counted failure, with
  // the log's tail) if it does not, `what` naming the node in the message.
  bool StartNode(NodeProcess& node, const std::string& what) {
    std::string command;
    for (const std::string& a : node.Command()) command += (command.empty() ? "" : " ") + a;
    Log("starting: " + command);
    std::string error;
    if (!node.Start(&error)) {
      NodeFailure(node, what + ": node failed to start: " + error);
      return false;
    }
    Log("node up on port " + std::to_string(node.port()) + " (pid " + std::to_string(node.pid()) +
        ")");
    return true;
  }

  // The fields of every timed phase's line: counts, wall time, throughput,
  // latency and failures, which also count toward the exit status.
  json PhaseLine(const std::string& bench, const Dataset& ds, size_t files, uint64_t logical,
                 double wall, const std::vector<double>& latency, const Failures& failures) const {
    g_total_failures += failures.count();
    json line = Common(bench, ds.label);
    line.update(PhaseFields(files, logical, wall, latency, failures));
    return line;
  }

  void RunDataset(const Dataset& ds, const std::string& work) {
    Log("data set '" + ds.label + "': walking " + ds.dir);
    std::vector<SourceFile> files = Walk(ds.dir);
    uint64_t logical = TotalBytes(files);
    Log("data set '" + ds.label + "': " + std::to_string(files.size()) + " files, " +
        std::to_string(logical) + " bytes");
    if (files.empty()) {
      ++g_total_failures;
      Log("ERROR: data set '" + ds.label + "' (" + ds.dir + ") has no regular files");
      return;
    }
    std::string dir = work + "/" + ds.label;
    fs::create_directories(dir);

    double tessera_files_per_s = 0;
    {
      NodeProcess node(NodeIn(dir + "/node"));
      fs::create_directories(dir + "/node");
      if (!StartNode(node, "data set '" + ds.label + "'")) return;
      tessera_files_per_s = WritePhase(ds, files, logical, node);
      ReadPhase(ds, files, logical, node);
      SpacePhase(ds, files, logical, node);
      Log("stopping node");
      std::string error;
      if (!node.Stop(&error)) NodeFailure(node, "data set '" + ds.label + "': " + error);
    }
    BaselinePhase(ds, files, logical, dir + "/baseline", tessera_files_per_s);
    if (!opt_.keep) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }

  double WritePhase(const Dataset& ds, const std::vector<SourceFile>& files, uint64_t logical,
                    NodeProcess& node) {
    Failures failures("write");
    std::vector<double> latency(files.size(), std::nan(""));
    std::atomic<uint64_t> bytes_ok{0};
    ::sync();
    Log(ds.label + ": write phase, " + std::to_string(opt_.clients) + " clients");
    int port = node.port();
    double wall = RunPool(ds.label + " write", files.size(), opt_.clients, [&](int) {
      return [&, client = MakeClient("127.0.0.1", port), body = std::string()](size_t i) mutable {
        const SourceFile& f = files[i];
        std::string error;
        if (!ReadWholeFile(f.abs, &body, &error)) return failures.Add(error);
        auto t0 = Clock::now();
        error = PutBody(*client, FileUrl(kNamespace, f.rel), body);
        auto t1 = Clock::now();
        if (!error.empty()) return failures.Add(error);
        latency[i] = Seconds(t0, t1) * 1000;
        bytes_ok += body.size();
      };
    });
    CheckAlive(node, ds.label + " write phase");
    json line = PhaseLine("node_load", ds, files.size(), logical, wall, latency, failures);
    line["phase"] = "write";
    Emit(line);
    return static_cast<double>(files.size()) / wall;
  }

  void ReadPhase(const Dataset& ds, const std::vector<SourceFile>& files, uint64_t logical,
                 NodeProcess& node) {
    Failures failures("read");
    std::atomic<uint64_t> mismatches{0};
    std::vector<double> latency(files.size(), std::nan(""));
    ::sync();
    Log(ds.label + ": read phase, " + std::to_string(opt_.clients) + " clients");
    int port = node.port();
    double wall = RunPool(ds.label + " read", files.size(), opt_.clients, [&](int) {
      return
          [&, client = MakeClient("127.0.0.1", port), expected = std::string()](size_t i) mutable {
            const SourceFile& f = files[i];
            std::string error;
            if (!ReadWholeFile(f.abs, &expected, &error)) return failures.Add(error);
            auto t0 = Clock::now();
            GetOutcome got = GetAndCompare(*client, FileUrl(kNamespace, f.rel), expected);
            auto t1 = Clock::now();
            RecordRead(got, Seconds(t0, t1) * 1000, &latency[i], &mismatches, &failures);
          };
    });
    CheckAlive(node, ds.label + " read phase");
    json line = PhaseLine("node_load", ds, files.size(), logical, wall, latency, failures);
    line["phase"] = "read";
    line["mismatches"] = mismatches.load();
    Emit(line);
  }

  void SpacePhase(const Dataset& ds, const std::vector<SourceFile>& files, uint64_t logical,
                  NodeProcess& node) {
    ::sync();
    uint64_t physical = 0, segments = 0, apparent = 0, segments_apparent = 0;
    for (const std::string& d : node.config().drives) {
      physical += tessera::testing::DiskUsage(d);
      apparent += ApparentBytes(d);
      segments += tessera::testing::DiskUsage(d + "/segments");
      segments_apparent += ApparentBytes(d + "/segments");
    }
    uint64_t state = tessera::testing::DiskUsage(node.config().state_dir);
    json info = NodeInfo(node.port());
    json line = Common("node_space", ds.label);
    line["files"] = files.size();
    line["logical_bytes"] = logical;
    line["physical_bytes"] = physical;
    line["efficiency"] = physical ? Round(static_cast<double>(logical) / physical, 4) : 0.0;
    line["segments_bytes"] = segments;
    line["segments_efficiency"] =
        segments ? Round(static_cast<double>(logical) / segments, 4) : 0.0;
    line["physical_bytes_apparent"] = apparent;
    line["efficiency_apparent"] =
        apparent ? Round(static_cast<double>(logical) / apparent, 4) : 0.0;
    line["segments_bytes_apparent"] = segments_apparent;
    line["state_dir_bytes"] = state;
    line["efficiency_with_state"] =
        physical + state ? Round(static_cast<double>(logical) / (physical + state), 4) : 0.0;
    int64_t hwm = node.pid() > 0 ? ProcStatusKb(node.pid(), "VmHWM") : -1;
    line["node_peak_rss_mib"] = hwm >= 0 ? Round(hwm / 1024.0, 1) : -1.0;
    if (info.is_object()) {
      uint64_t seg = 0, live = 0, pieces = 0;
      if (info.contains("drives") && info["drives"].is_array()) {
        for (const json& d : info["drives"]) {
          seg += d.value("segment_bytes", uint64_t{0});
          live += d.value("live_bytes", uint64_t{0});
          pieces += d.value("pieces", uint64_t{0});
        }
      }
      line["node_segment_bytes"] = seg;
      line["node_live_bytes"] = live;
      line["node_pieces"] = pieces;
    } else {
      Log("WARNING: GET /v1/node failed after the load");
    }
    Emit(line);
  }

  void BaselinePhase(const Dataset& ds, const std::vector<SourceFile>& files, uint64_t logical,
                     const std::string& dest, double tessera_files_per_s) {
    Failures failures("baseline");
    std::set<std::string> dirs;
    for (const SourceFile& f : files) dirs.insert(fs::path(f.rel).parent_path().string());
    fs::create_directories(dest);
    for (const std::string& d : dirs)
      if (!d.empty()) fs::create_directories(dest + "/" + d);
    std::vector<double> latency(files.size(), std::nan(""));
    ::sync();
    Log(ds.label + ": fsync baseline, " + std::to_string(opt_.clients) + " threads into " + dest);
    double wall = RunPool(ds.label + " baseline", files.size(), opt_.clients, [&](int) {
      return [&, body = std::string()](size_t i) mutable {
        const SourceFile& f = files[i];
        std::string error;
        if (!ReadWholeFile(f.abs, &body, &error)) return failures.Add(error);
        std::string path = dest + "/" + f.rel;
        auto t0 = Clock::now();
        int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) return failures.Add("open " + path + ": " + std::strerror(errno));
        size_t done = 0;
        while (done < body.size()) {
          ssize_t n = ::write(fd, body.data() + done, body.size() - done);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) {
            failures.Add("write " + path + ": " + std::strerror(errno));
            ::close(fd);
            return;
          }
          done += static_cast<size_t>(n);
        }
        if (::fsync(fd) != 0) {
          failures.Add("fsync " + path + ": " + std::strerror(errno));
          ::close(fd);
          return;
        }
        if (::close(fd) != 0) return failures.Add("close " + path + ": " + std::strerror(errno));
        latency[i] = Seconds(t0, Clock::now()) * 1000;
      };
    });
    ::sync();
    uint64_t physical = tessera::testing::DiskUsage(dest);
    double baseline_files_per_s = static_cast<double>(files.size()) / wall;
    json line = PhaseLine("fsync_baseline", ds, files.size(), logical, wall, latency, failures);
    line["physical_bytes"] = physical;
    line["efficiency"] = physical ? Round(static_cast<double>(logical) / physical, 4) : 0.0;
    line["tessera_files_per_s"] = Round(tessera_files_per_s, 1);
    line["ratio_tessera_to_baseline"] = Round(tessera_files_per_s / baseline_files_per_s, 4);
    Emit(line);
  }

  void CheckAlive(NodeProcess& node, const std::string& when) {
    std::string why;
    if (!node.Alive(&why)) NodeFailure(node, "after " + when + ": " + why);
  }

  // ---------------------------------------------------------------- large file

  // Deterministic pseudo-random bytes: 64-bit word w of the stream is
  // splitmix64(seed + w), so any offset can be produced without the rest.
  static uint64_t SplitMix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  static constexpr size_t kChunk = 1 << 20;
  static constexpr uint64_t kSeed = 0x7e55e7a;

  // Fills `buf` (kChunk bytes) with chunk `index` of the stream.
  static void GenerateChunk(uint64_t index, std::vector<char>* buf) {
    buf->resize(kChunk);
    uint64_t base = kSeed + index * (kChunk / 8);
    for (size_t w = 0; w < kChunk / 8; ++w) {
      uint64_t v = SplitMix(base + w);
      std::memcpy(buf->data() + w * 8, &v, 8);
    }
  }

  // Serves stream bytes at arbitrary offsets from a one-chunk cache.
  struct StreamWindow {
    std::vector<char> buf;
    uint64_t chunk = UINT64_MAX;
    const char* At(uint64_t offset, size_t* available) {
      uint64_t c = offset / kChunk;
      if (c != chunk) {
        GenerateChunk(c, &buf);
        chunk = c;
      }
      size_t in = static_cast<size_t>(offset % kChunk);
      *available = kChunk - in;
      return buf.data() + in;
    }
  };

  void RunLarge(uint64_t size, const std::string& work) {
    std::string label = "large-" + opt_.large_size;
    std::string dir = work + "/large";
    fs::create_directories(dir + "/node");
    NodeProcess node(NodeIn(dir + "/node"));
    if (!StartNode(node, "large file")) return;
    int64_t hwm_idle = ProcStatusKb(node.pid(), "VmHWM");
    const std::string url = FileUrl(kNamespace, "large/blob.bin");
    auto client = MakeClient("127.0.0.1", node.port());
    uint64_t failures = 0;
    json errors = json::array();
    auto fail = [&](const std::string& message) {
      ++failures;
      errors.push_back(message);
      Log("large_file FAILURE: " + message);
    };

    // PUT, streamed from the generator in <= 1 MiB pieces.
    ::sync();
    Log("large file: PUT " + std::to_string(size) + " bytes");
    StreamWindow put_window;
    auto t0 = Clock::now();
    auto put = client->Put(
        url, static_cast<size_t>(size),
        [&](size_t offset, size_t length, httplib::DataSink& sink) {
          size_t available = 0;
          const char* data = put_window.At(offset, &available);
          return sink.write(data, std::min(length, available));
        },
        "application/octet-stream");
    double put_s = Seconds(t0, Clock::now());
    bool put_ok = false;
    if (!put) {
      fail("PUT: " + httplib::to_string(put.error()));
    } else if (put->status / 100 != 2) {
      fail("PUT: HTTP " + std::to_string(put->status) + " " + put->body.substr(0, 300));
    } else {
      put_ok = true;
    }
    std::string why;
    if (!node.Alive(&why)) {
      NodeFailure(node, "large file PUT: " + why);
      g_total_failures += failures;
      return;
    }
    int64_t hwm_after_put = ProcStatusKb(node.pid(), "VmHWM");
    int64_t rss_after_put = ProcStatusKb(node.pid(), "VmRSS");

    // GET, checked against the generator as it streams in.
    ::sync();
    Log("large file: GET");
    StreamWindow get_window;
    uint64_t received = 0, mismatched_bytes = 0;
    std::optional<uint64_t> first_mismatch;
    int status = 0;
    std::string error_body;
    t0 = Clock::now();
    auto get = client->Get(
        url,
        [&](const httplib::Response& r) {
          status = r.status;
          return true;
        },
        [&](const char* data, size_t length) {
          if (status != 200) {
            if (error_body.size() < 1000) error_body.append(data, std::min<size_t>(length, 1000));
            return true;
          }
          while (length > 0) {
            size_t available = 0;
            const char* want = get_window.At(received, &available);
            size_t n = std::min(length, available);
            if (std::memcmp(data, want, n) != 0) {
              for (size_t k = 0; k < n; ++k) {
                if (data[k] != want[k]) {
                  if (!first_mismatch) first_mismatch = received + k;
                  ++mismatched_bytes;
                }
              }
            }
            data += n;
            length -= n;
            received += n;
          }
          return true;
        });
    double get_s = Seconds(t0, Clock::now());
    bool get_ok = false;
    if (!get) {
      fail("GET: " + httplib::to_string(get.error()) + " after " + std::to_string(received) +
           " bytes");
    } else if (status != 200) {
      fail("GET: HTTP " + std::to_string(status) + " " + error_body.substr(0, 300));
    } else if (received != size) {
      fail("GET: got " + std::to_string(received) + " bytes, expected " + std::to_string(size));
    } else if (mismatched_bytes > 0) {
      fail("GET: MISMATCH, " + std::to_string(mismatched_bytes) +
           " bytes differ, first at offset " + std::to_string(*first_mismatch));
    } else {
      get_ok = true;
    }
    if (!node.Alive(&why)) {
      NodeFailure(node, "large file GET: " + why);
      g_total_failures += failures;
      return;
    }
    int64_t hwm_after_get = ProcStatusKb(node.pid(), "VmHWM");
    ::sync();
    uint64_t physical = 0, segments = 0;
    for (const std::string& d : node.config().drives) {
      physical += tessera::testing::DiskUsage(d);
      segments += tessera::testing::DiskUsage(d + "/segments");
    }
    client.reset();
    std::string error;
    if (!node.Stop(&error)) NodeFailure(node, "large file: " + error);

    double peak_mib = std::max(hwm_after_put, hwm_after_get) / 1024.0;
    json line = Common("large_file", label);
    line["bytes"] = size;
    line["put_ok"] = put_ok;
    line["put_seconds"] = Round(put_s);
    line["put_mb_s"] = put_ok ? Round(static_cast<double>(size) / 1e6 / put_s, 1) : 0.0;
    line["get_ok"] = get_ok;
    line["get_seconds"] = Round(get_s);
    line["get_mb_s"] = get_ok ? Round(static_cast<double>(size) / 1e6 / get_s, 1) : 0.0;
    line["mismatched_bytes"] = mismatched_bytes;
    line["node_idle_peak_rss_mib"] = Round(hwm_idle / 1024.0, 1);
    line["node_peak_rss_after_put_mib"] = Round(hwm_after_put / 1024.0, 1);
    line["node_rss_after_put_mib"] = Round(rss_after_put / 1024.0, 1);
    line["node_peak_rss_after_get_mib"] = Round(hwm_after_get / 1024.0, 1);
    line["node_peak_rss_mib"] = Round(peak_mib, 1);
    line["rss_target_mib"] = 256;
    line["under_rss_target"] = peak_mib < 256.0;
    line["physical_bytes"] = physical;
    line["segments_bytes"] = segments;
    if (put_ok && physical > 0) line["efficiency"] = Round(static_cast<double>(size) / physical, 4);
    line["failures"] = failures;
    if (failures > 0) line["errors"] = errors;
    Emit(line);
    g_total_failures += failures;
    if (!opt_.keep) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }

  const Options& options() const { return opt_; }

 private:
  Options opt_;
  json machine_;
};

// "large" is the large-file test's directory.
bool ValidDatasetLabel(const std::string& label) { return ValidLabel(label) && label != "large"; }

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  SetLogName("node_load_bench");
  Options opt;
  CLI::App app{
      "Load harness for a tessera node: small-file write/read throughput, latency, disk "
      "efficiency and an fsync baseline per data set, then one large file's throughput and the "
      "node's peak RSS. One JSON object per line on stdout."};
  app.add_option("--binary", opt.binary, "tessera binary to run")->capture_default_str();
  app.add_option("--work", opt.work,
                 "Work directory (default: a new /tmp/node-load-XXXXXX, removed at the end)");
  app.add_flag("--keep", opt.keep, "Keep node drives, logs and baseline copies");
  app.add_option("--clients", opt.clients, "Concurrent clients (threads)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--protection", opt.protection, "Node protection policy")->capture_default_str();
  app.add_option("--data", opt.data,
                 "LABEL=DIR data set to load (repeatable); DIR alone uses its base name as label");
  app.add_option("--large-size", opt.large_size, "Large-file size (e.g. 1G, 256M; 0 skips)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::optional<uint64_t> large_size = ParseSize(opt.large_size);
  if (!large_size) {
    std::fprintf(stderr, "error: --large-size '%s' is not a size (e.g. 1G, 256M, 0)\n",
                 opt.large_size.c_str());
    return 2;
  }
  std::vector<Dataset> datasets;
  std::set<std::string> labels;
  for (const std::string& spec : opt.data) {
    Dataset ds = ParseDatasetSpec(spec);
    if (!ValidDatasetLabel(ds.label)) {
      std::fprintf(stderr, "error: --data '%s': label '%s' must be [A-Za-z0-9._-]+ (not 'large')\n",
                   spec.c_str(), ds.label.c_str());
      return 2;
    }
    if (!labels.insert(ds.label).second) {
      std::fprintf(stderr, "error: --data: label '%s' given twice\n", ds.label.c_str());
      return 2;
    }
    std::error_code ec;
    if (!fs::is_directory(ds.dir, ec)) {
      std::fprintf(stderr, "error: --data '%s': data directory '%s' does not exist%s\n",
                   spec.c_str(), ds.dir.c_str(),
                   " (generate one with /work/shared/tools/gen-archive DIR --profile archive-mix)");
      return 2;
    }
    datasets.push_back(ds);
  }
  if (datasets.empty() && *large_size == 0) {
    std::fprintf(stderr, "error: nothing to do: give --data LABEL=DIR and/or a --large-size\n");
    return 2;
  }
  if (::access(opt.binary.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "error: tessera binary '%s' is missing or not executable (build the 'tessera' "
                 "target or pass --binary)\n",
                 opt.binary.c_str());
    return 2;
  }

  bool own_work = opt.work.empty();
  std::optional<std::string> prepared = PrepareWorkDir(opt.work, "/tmp/node-load-XXXXXX");
  if (!prepared) return 2;
  std::string work = *prepared;
  if (!own_work) {
    for (const Dataset& ds : datasets) {
      if (fs::exists(work + "/" + ds.label)) {
        std::fprintf(stderr, "error: %s/%s already exists; use an empty --work\n", work.c_str(),
                     ds.label.c_str());
        return 2;
      }
    }
    if (*large_size > 0 && fs::exists(work + "/large")) {
      std::fprintf(stderr, "error: %s/large already exists; use an empty --work\n", work.c_str());
      return 2;
    }
  }
  Log("work directory " + work + (opt.keep ? " (kept)" : ""));

  Bench bench(opt);
  try {
    for (const Dataset& ds : datasets) bench.RunDataset(ds, work);
    if (*large_size > 0) bench.RunLarge(*large_size, work);
  } catch (const std::exception& e) {
    ++g_total_failures;
    Log(std::string("ERROR: ") + e.what());
  }

  return FinishBench(own_work && !opt.keep ? work : "", g_total_failures);
}
