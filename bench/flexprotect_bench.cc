// flexprotect_bench: how fast FlexProtect brings a cluster back to full
// protection after a node is lost (issue 4's "rebuild rate after a node
// loss").
//
// Starts `tessera up --nodes N --drives 2 --protection P`, loads a data set
// (by default archive-mix from gen-archive) with concurrent PUTs spread over
// every node, kill -9s one node that is not the master and keeps it down,
// then starts FlexProtect by hand and waits for it to succeed. The automatic
// start is pushed out (flexprotect_grace_seconds = 1h) so that the job
// measured is the one started here, at a known moment, with nothing else
// running.
//
// FlexProtect rewrites every affected file whole under a new object id, on
// the master: the rate is the master's read + decode + re-encode + write
// rate for the files that had a unit on the lost node. It is reported as
// logical bytes of the rewritten files (the job's `bytes_rebuilt` counter)
// over the job's wall time (the record's started..ended, as the master wrote
// them), and as files/s.
//
// With --job MediaScan it measures MediaScan instead: no node is killed;
// after the load the scan is started by hand at mediascan_impact high and
// its rate is the piece bytes it read (bytes_scanned: every copy and parity
// unit) and the logical bytes of the files, over the job's wall time. It
// must succeed having repaired nothing, and a sample must read back.
//
// Prints one JSON line on stdout; progress goes to stderr. Exit 0 only if
// the job succeeded, `tessera status` reports full protection for every file
// and a sample of files reads back byte for byte through a surviving node;
// 1 otherwise; 2 on a usage error.
#include <httplib.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_common.h"
#include "tests/support/cluster_probe.h"
#include "tests/support/up_cluster.h"

#ifndef GEN_ARCHIVE
#define GEN_ARCHIVE "gen-archive"
#endif

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace tessera::bench;
using tessera::testing::ClusterAdmin;
using tessera::testing::CommandResult;
using tessera::testing::NodeView;
using tessera::testing::ProtectionReport;
using tessera::testing::RunCommand;
using tessera::testing::UpCluster;

const std::string kNamespace = "bench";

struct Options {
  int nodes = 6;
  std::string protection = "+2";
  std::string data;  // an existing data set; empty: generate one
  std::string profile = "archive-mix";
  int gen_files = 2000;
  std::string gen_archive = GEN_ARCHIVE;
  int clients = 16;
  int sample = 100;
  int job_timeout = 3600;
  std::string commit;
  std::string work;
  bool keep = false;
  std::string job = "FlexProtect";  // or MediaScan
};

template <class Pred>
bool WaitFor(Pred pred, std::chrono::seconds timeout, std::chrono::milliseconds step = 200ms) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(step);
  }
  return true;
}

int MasterIndex(const UpCluster& cluster, int down) {
  for (int i = 0; i < cluster.size(); ++i) {
    if (i != down && NodeView(cluster.port(i)).value("is_master", false)) return i;
  }
  return -1;
}

double LoadAverage1() {
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  return Round(load[0], 2);
}

class Bench {
 public:
  explicit Bench(Options options) : opt_(std::move(options)) {}

  // The whole run; false (after logging why) on any failure.
  bool Run(const std::string& work, const std::string& data_dir) {
    files_ = Walk(data_dir);
    logical_ = TotalBytes(files_);
    if (files_.empty()) return Fail("the data set " + data_dir + " has no regular files");
    Log(std::to_string(files_.size()) + " files, " + std::to_string(logical_) + " bytes");

    UpCluster cluster(work + "/cluster");
    ClusterAdmin admin(cluster.cluster_file());
    if (!StartCluster(cluster, admin)) return false;
    if (!Load(cluster)) return false;
    if (opt_.job == "MediaScan") return RunMediaScan(cluster, admin);

    // The victim is never the master: the master runs the job, and its own
    // failover is failover_bench's subject. The highest-numbered other node.
    int master = MasterIndex(cluster, -1);
    if (master < 0) return Fail("no master");
    const int victim = master == cluster.size() - 1 ? cluster.size() - 2 : cluster.size() - 1;
    const uint32_t victim_id = NodeView(cluster.port(victim)).value("array_id", 0u);
    Log("kill -9 " + cluster.program(victim) + " (node " + std::to_string(victim_id) +
        "), keeping it down; master is " + cluster.program(master));
    std::string why;
    if (!cluster.CrashAndKeepDown({victim}, &why)) return Fail(why);
    // The job must see the node as failed, or it would find nothing at risk.
    const std::string device = "node " + std::to_string(victim_id);
    bool listed = WaitFor(
        [&] {
          json report = ProtectionReport(cluster.port(master));
          for (const json& f : report.value("failed_devices", json::array())) {
            if (f == device) return true;
          }
          return false;
        },
        60s);
    if (!listed) return Fail("the master does not list " + device + " as failed");

    const double load_before = LoadAverage1();
    double observed = 0;
    json job;
    if (!RunJobToSuccess(admin, "FlexProtect", &job, &observed)) return false;
    const double load_after = LoadAverage1();

    const std::string full =
        "data: at full protection: " + std::to_string(files_.size()) + " files";
    const bool protected_again = WaitFor([&] { return admin.StatusSays(full); }, 30s, 1000ms);
    const int via = master;  // a surviving node
    const uint64_t mismatches = CheckSample(cluster.port(via));

    Emit(Line(job, observed, load_before, load_after, victim_id));
    if (!protected_again) {
      return Fail("tessera status does not say '" + full + "':\n" + admin.Run({"status"}).output);
    }
    if (mismatches > 0) {
      return Fail(std::to_string(mismatches) + " sampled files did not read back identical");
    }
    Log("status: full protection; " + std::to_string(sampled_) +
        " sampled files read back identical through " + cluster.program(via));
    return true;
  }

 private:
  // Starts a job of `type` by hand and waits for it to succeed; its record
  // and the seconds from start to seeing it end.
  bool RunJobToSuccess(ClusterAdmin& admin, const std::string& type, json* job, double* observed) {
    CommandResult start = admin.Run({"job", "start", type});
    const auto started = Clock::now();
    std::smatch m;
    if (start.exit_code != 0 ||
        !std::regex_search(start.output, m, std::regex("job ([0-9]+): " + type + " queued"))) {
      return Fail("job start: " + start.output);
    }
    const int id = std::stoi(m[1].str());
    Log(type + " job " + std::to_string(id) + " started");
    auto last_log = started;
    bool finished = WaitFor(
        [&] {
          *job = admin.Job(id);
          const std::string state = job->value("state", "");
          if (Seconds(last_log, Clock::now()) >= 10) {
            last_log = Clock::now();
            Log("job " + std::to_string(id) + ": " + admin.JobLine(id));
          }
          return state == "succeeded" || state == "failed" || state == "cancelled";
        },
        std::chrono::seconds(opt_.job_timeout), 250ms);
    *observed = Seconds(started, Clock::now());
    if (!finished) return Fail("job " + std::to_string(id) + " did not finish");
    if (job->value("state", "") != "succeeded") {
      return Fail("job " + std::to_string(id) + " " + job->value("state", "") + ":\n" +
                  admin.Run({"job", "reports", "view", "-v", std::to_string(id)}).output);
    }
    return true;
  }

  bool RunMediaScan(UpCluster& cluster, ClusterAdmin& admin) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"config", "set", "mediascan_impact", "high"},
          std::vector<std::string>{"config", "apply"}}) {
      CommandResult r = admin.Run(args);
      if (r.exit_code != 0) return Fail("tessera config: " + r.output);
    }
    const double load_before = LoadAverage1();
    double observed = 0;
    json job;
    if (!RunJobToSuccess(admin, "MediaScan", &job, &observed)) return false;
    const double load_after = LoadAverage1();
    const json counters = job.value("counters", json::object());
    const uint64_t scanned = counters.value("bytes_scanned", uint64_t{0});
    const uint64_t files = counters.value("files_scanned", uint64_t{0});
    const double wall =
        (job.value("ended_ns", int64_t{0}) - job.value("started_ns", int64_t{0})) / 1e9;
    Emit({{"bench", "mediascan"},
          {"nodes", opt_.nodes},
          {"drives_per_node", 2},
          {"protection", opt_.protection},
          {"files", files_.size()},
          {"logical_bytes", logical_},
          {"load_seconds", Round(load_seconds_)},
          {"job_id", job.value("id", 0)},
          {"files_scanned", files},
          {"pieces_scanned", counters.value("pieces_scanned", uint64_t{0})},
          {"bytes_scanned", scanned},
          {"pieces_repaired", counters.value("pieces_repaired", uint64_t{0})},
          {"job_seconds", Round(wall)},
          {"observed_seconds", Round(observed)},
          {"scan_mb_per_s", wall > 0 ? Round(scanned / 1e6 / wall, 2) : 0.0},
          {"logical_mb_per_s", wall > 0 ? Round(logical_ / 1e6 / wall, 2) : 0.0},
          {"files_per_s", wall > 0 ? Round(files / wall, 1) : 0.0},
          {"loadavg1_before", load_before},
          {"loadavg1_after", load_after},
          {"commit", opt_.commit},
          {"machine", MachineInfo()},
          {"date", IsoDateUtc()}});
    if (files != files_.size()) {
      return Fail("scanned " + std::to_string(files) + " files of " +
                  std::to_string(files_.size()));
    }
    if (counters.value("pieces_repaired", uint64_t{0}) != 0) {
      return Fail("MediaScan repaired pieces of a cluster that had no damage");
    }
    if (const uint64_t bad = CheckSample(cluster.port(0)); bad > 0) {
      return Fail(std::to_string(bad) + " sampled files did not read back identical");
    }
    return true;
  }

  bool Fail(const std::string& why) {
    Log("ERROR: " + why);
    return false;
  }

  bool StartCluster(UpCluster& cluster, ClusterAdmin& admin) {
    Log("tessera up --nodes " + std::to_string(opt_.nodes) + " --drives 2 --protection " +
        opt_.protection);
    CommandResult up = cluster.Up({"--nodes", std::to_string(opt_.nodes), "--drives", "2",
                                   "--protection", opt_.protection, "--timeout", "120"});
    if (up.exit_code != 0) return Fail("tessera up: " + Tail(up.output, 40));
    if (cluster.size() != opt_.nodes) return Fail("cluster.json lists the wrong node count");
    // The job measured is the one started by hand below.
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"config", "set", "flexprotect_grace_seconds", "1h"},
          std::vector<std::string>{"config", "apply"}}) {
      CommandResult r = admin.Run(args);
      if (r.exit_code != 0) return Fail("tessera config: " + r.output);
    }
    if (!WaitFor([&] { return MasterIndex(cluster, -1) >= 0; }, 30s)) return Fail("no master");
    return true;
  }

  // Every file PUT once, by `clients` threads; thread t writes through node
  // t % N so every node takes writes.
  bool Load(const UpCluster& cluster) {
    Failures failures("load");
    const int n = cluster.size();
    Log("loading with " + std::to_string(opt_.clients) + " clients over " + std::to_string(n) +
        " nodes");
    double wall = RunPool("load", files_.size(), opt_.clients, [&](int t) {
      return [&, client = MakeClient("127.0.0.1", cluster.port(t % n)),
              body = std::string()](size_t i) mutable {
        const SourceFile& f = files_[i];
        std::string error;
        if (!ReadWholeFile(f.abs, &body, &error)) return failures.Add(error);
        error = PutBody(*client, FileUrl(kNamespace, f.rel), body);
        if (!error.empty()) failures.Add(f.rel + ": " + error);
      };
    });
    load_seconds_ = wall;
    Log("loaded in " + std::to_string(wall) + " s");
    if (failures.count() > 0) return Fail(std::to_string(failures.count()) + " PUTs failed");
    return true;
  }

  // A fixed-seed sample of files read back through `port`; the mismatches.
  uint64_t CheckSample(int port) {
    std::vector<size_t> order(files_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937 rng(4);
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(std::min(order.size(), static_cast<size_t>(opt_.sample)));
    auto client = MakeClient("127.0.0.1", port);
    uint64_t bad = 0;
    std::string body, error;
    for (size_t i : order) {
      const SourceFile& f = files_[i];
      if (!ReadWholeFile(f.abs, &body, &error)) {
        Log("ERROR: " + error);
        ++bad;
        continue;
      }
      GetOutcome got = GetAndCompare(*client, FileUrl(kNamespace, f.rel), body);
      if (got.kind != GetOutcome::kOk) {
        Log("ERROR: " + f.rel + ": " + got.message);
        ++bad;
      }
    }
    sampled_ = order.size();
    return bad;
  }

  json Line(const json& job, double observed, double load_before, double load_after,
            uint32_t victim_id) const {
    const json counters = job.value("counters", json::object());
    const uint64_t rebuilt_files = counters.value("files_rebuilt", uint64_t{0});
    const uint64_t rebuilt_bytes = counters.value("bytes_rebuilt", uint64_t{0});
    const double wall =
        (job.value("ended_ns", int64_t{0}) - job.value("started_ns", int64_t{0})) / 1e9;
    json phases = json::object();
    for (const json& p : job.value("phases", json::array())) {
      const int64_t end = p.value("ended_ns", int64_t{0});
      const int64_t begin = p.value("started_ns", int64_t{0});
      // A phase may come again (rebuild after a verify pass): add them up.
      const std::string name = p.value("name", "");
      phases[name] = Round(phases.value(name, 0.0) + (end > begin ? (end - begin) / 1e9 : 0.0));
    }
    const double rebuild = phases.value("rebuild", 0.0);
    return {{"bench", "flexprotect"},
            {"nodes", opt_.nodes},
            {"drives_per_node", 2},
            {"protection", opt_.protection},
            {"killed_node", victim_id},
            {"files", files_.size()},
            {"logical_bytes", logical_},
            {"load_seconds", Round(load_seconds_)},
            {"job_id", job.value("id", 0)},
            {"files_scanned", counters.value("files_scanned", uint64_t{0})},
            {"files_at_risk", counters.value("files_at_risk", uint64_t{0})},
            {"files_rebuilt", rebuilt_files},
            {"units_rebuilt", counters.value("units_rebuilt", uint64_t{0})},
            {"bytes_rebuilt", rebuilt_bytes},
            {"job_seconds", Round(wall)},
            {"phase_seconds", phases},
            {"observed_seconds", Round(observed)},
            {"rebuild_mb_per_s", wall > 0 ? Round(rebuilt_bytes / 1e6 / wall, 2) : 0.0},
            {"rebuild_files_per_s", wall > 0 ? Round(rebuilt_files / wall, 1) : 0.0},
            {"rebuild_phase_mb_per_s", rebuild > 0 ? Round(rebuilt_bytes / 1e6 / rebuild, 2) : 0.0},
            {"loadavg1_before", load_before},
            {"loadavg1_after", load_after},
            {"commit", opt_.commit},
            {"machine", MachineInfo()},
            {"date", IsoDateUtc()}};
  }

  Options opt_;
  std::vector<SourceFile> files_;
  uint64_t logical_ = 0;
  double load_seconds_ = 0;
  size_t sampled_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  SetLogName("flexprotect_bench");
  CLI::App app{"FlexProtect rebuild rate after a node loss, or MediaScan's scan rate"};
  Options opt;
  app.add_option("--nodes", opt.nodes, "Nodes in the cluster")
      ->capture_default_str()
      ->check(CLI::Range(3, 64));
  app.add_option("--protection", opt.protection, "Cluster protection policy (tessera up)")
      ->capture_default_str();
  app.add_option("--data", opt.data, "An existing data set directory (default: generate one)");
  app.add_option("--profile", opt.profile, "gen-archive profile when generating")
      ->capture_default_str();
  app.add_option("--files", opt.gen_files, "Files to generate")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--gen-archive", opt.gen_archive, "gen-archive tool")->capture_default_str();
  app.add_option("--clients", opt.clients, "Concurrent PUTs, spread over the nodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--sample", opt.sample, "Files read back after the rebuild")
      ->capture_default_str()
      ->check(CLI::Range(0, 10'000'000));
  app.add_option("--job-timeout", opt.job_timeout, "Seconds to wait for the job")
      ->capture_default_str();
  app.add_option("--commit", opt.commit, "Commit of the binary, recorded in the line");
  app.add_option("--work", opt.work,
                 "Work directory (default: a new /tmp/fpbench-XXXXXX, removed at the end)");
  app.add_flag("--keep", opt.keep, "Keep the work directory (cluster stopped, data set)");
  app.add_option("--job", opt.job,
                 "FlexProtect (rebuild after a node loss) or MediaScan (scan of a healthy "
                 "cluster)")
      ->capture_default_str()
      ->check(CLI::IsMember({"FlexProtect", "MediaScan"}));
  CLI11_PARSE(app, argc, argv);

  const bool own_work = opt.work.empty();
  // Short: supervisord's unix socket path lives under it.
  std::optional<std::string> prepared = PrepareWorkDir(opt.work, "/tmp/fpbench-XXXXXX");
  if (!prepared) return 2;
  const std::string work = *prepared;
  Log("work directory " + work);

  std::string data = opt.data;
  if (data.empty()) {
    data = work + "/data";
    Log("generating " + opt.profile + " (" + std::to_string(opt.gen_files) + " files) into " +
        data);
    CommandResult gen = RunCommand({"python3", opt.gen_archive, data, "--profile", opt.profile,
                                    "--files", std::to_string(opt.gen_files)});
    if (gen.exit_code != 0) {
      Log("ERROR: gen-archive failed (" + std::to_string(gen.exit_code) + "): " + gen.output);
      return 2;
    }
  } else if (!fs::is_directory(data)) {
    Log("ERROR: no such data set directory: " + data);
    return 2;
  }

  bool ok = false;
  {
    // Scoped: the cluster is down (UpCluster's destructor) before cleanup.
    Bench bench(opt);
    try {
      ok = bench.Run(work, data);
    } catch (const std::exception& e) {
      Log(std::string("ERROR: ") + e.what());
    }
  }
  if (own_work && !opt.keep) {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  return ok ? 0 : 1;
}
