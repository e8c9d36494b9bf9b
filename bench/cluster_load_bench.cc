// Load harness for a local Tessera cluster (`tessera up`): the small-file
// loads of node_load_bench, but spread over every node of 3-, 6-, ... node
// clusters, so that the scaling from 3 to 6 nodes and the comparison with
// OpenStack Swift (../shared/tools/peers/swift-bench) are measured the same
// way. One JSON object per line on stdout; progress on stderr.
//
// Per node count (--nodes 3,6) and data set, on a fresh cluster (etcd and N
// nodes of --drives drives under supervisord, in WORK/nN-LABEL):
//   cluster_load  phase=write  --clients threads PUT every file; client thread
//                              t talks to node t mod N, so every node's HTTP
//                              API takes writes
//   cluster_load  phase=read   the same threads GET every file from the node
//                              after its writer (writer+1 mod N) and compare
//                              byte for byte; if that node does not know the
//                              file (404: metadata not yet replicated), the
//                              read falls back to the writer and is counted
//   cluster_space              allocated bytes of every node's drives, the
//                              nodes' state (metadata) and etcd, vs logical
// Each timed phase also reports what it cost the machine (CPU seconds of the
// nodes, etcd, the clients and everything else; disk writes and flushes), to
// say whether CPU, fsync or the network limits it.
//
// Exit status: 0 if every request succeeded and every byte matched, 1 if
// anything failed, 2 on bad arguments.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/load_common.h"
#include "bench/local_cluster.h"
#include "bench/resource_meter.h"
#include "tests/support/node_process.h"

#ifndef TESSERA_BINARY
#define TESSERA_BINARY "tessera"
#endif
#ifndef GEN_ARCHIVE
#define GEN_ARCHIVE "gen-archive"
#endif

namespace {

namespace fs = std::filesystem;
using namespace tessera::bench;
using tessera::testing::DiskUsage;
using tessera::testing::RunCommand;

constexpr const char* kNamespace = "bench";

uint64_t g_total_failures = 0;

struct Options {
  std::string binary = TESSERA_BINARY;
  std::string gen_archive = GEN_ARCHIVE;
  std::string work;
  bool keep = false;
  int clients = 16;
  std::vector<int> nodes = {3, 6};
  int drives = 4;
  std::string protection = "+2";
  std::vector<std::string> data;
  std::vector<std::string> gen;
  std::string read_from = "other";
  bool strict_cross_node = false;
  std::string commit;
  int up_timeout = 120;
};

class Bench {
 public:
  explicit Bench(Options options) : opt_(std::move(options)), machine_(MachineInfo()) {}

  json Common(const std::string& bench, const Dataset& ds, const LocalCluster& cluster) const {
    double load[3] = {0, 0, 0};
    ::getloadavg(load, 3);
    return {{"bench", bench},
            {"nodes", cluster.nodes().size()},
            {"drives_per_node", opt_.drives},
            {"protection", opt_.protection},
            {"etcd_members", cluster.etcd_members()},
            {"dataset", ds.label},
            {"clients", opt_.clients},
            {"commit", opt_.commit},
            {"machine", machine_},
            {"loadavg1", Round(load[0], 2)},
            {"date", IsoDateUtc()}};
  }

  void Run(int nodes, const Dataset& ds, const std::string& work) {
    std::vector<SourceFile> files = Walk(ds.dir);
    uint64_t logical = TotalBytes(files);
    Log(std::to_string(nodes) + " nodes, data set '" + ds.label +
        "': " + std::to_string(files.size()) + " files, " + std::to_string(logical) + " bytes");
    if (files.empty()) {
      ++g_total_failures;
      Log("ERROR: data set '" + ds.label + "' (" + ds.dir + ") has no regular files");
      return;
    }
    std::string dir = work + "/n" + std::to_string(nodes) + "-" + ds.label;
    LocalCluster cluster({opt_.binary, nodes, opt_.drives, opt_.protection, 0, opt_.up_timeout},
                         dir, [](const std::string& why) {
                           ++g_total_failures;
                           Log("ERROR: " + why);
                         });
    if (!cluster.Up()) return;
    // What an empty cluster already holds (drive identities, the piece indexes'
    // preallocated logs), so that the space line can say what the data added.
    ::sync();
    uint64_t empty = DrivesBytes(cluster);
    ResourceMeter meter(ClusterProcesses(dir), dir);
    std::vector<int> writer(files.size(), -1);
    WritePhase(ds, files, logical, cluster, meter, &writer);
    CheckHealthy(cluster, "write phase");
    ReadPhase(ds, files, logical, cluster, meter, writer);
    CheckHealthy(cluster, "read phase");
    SpacePhase(ds, files.size(), logical, cluster, empty);
    Log("stopping the cluster");
    cluster.Down();
    if (!opt_.keep) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  }

  void CheckHealthy(const LocalCluster& cluster, const std::string& when) {
    std::string why;
    if (cluster.Healthy(&why)) return;
    ++g_total_failures;
    Log("ERROR: after the " + when + ": " + why + "\n" + cluster.LogTails());
  }

  void WritePhase(const Dataset& ds, const std::vector<SourceFile>& files, uint64_t logical,
                  const LocalCluster& cluster, ResourceMeter& meter, std::vector<int>* writer) {
    Failures failures("write");
    std::vector<double> latency(files.size(), std::nan(""));
    int n = static_cast<int>(cluster.nodes().size());
    ::sync();
    Log(ds.label + ": write phase, " + std::to_string(opt_.clients) + " clients over " +
        std::to_string(n) + " nodes");
    meter.Start();
    double wall = RunPool(ds.label + " write", files.size(), opt_.clients, [&](int t) {
      int node = t % n;
      return
          [&, node, clients = NodeClients{&cluster, {}}, body = std::string()](size_t i) mutable {
            const SourceFile& f = files[i];
            std::string error;
            if (!ReadWholeFile(f.abs, &body, &error)) return failures.Add(error);
            auto t0 = Clock::now();
            error = PutBody(clients[node], FileUrl(kNamespace, f.rel), body);
            auto t1 = Clock::now();
            if (!error.empty()) return failures.Add(cluster.nodes()[node].name + ": " + error);
            latency[i] = Seconds(t0, t1) * 1000;
            (*writer)[i] = node;
          };
    });
    json resources = meter.Stop(files.size());
    g_total_failures += failures.count();
    json line = Common("cluster_load", ds, cluster);
    line["phase"] = "write";
    line.update(PhaseFields(files.size(), logical, wall, latency, failures));
    line["resources"] = resources;
    Emit(line);
  }

  void ReadPhase(const Dataset& ds, const std::vector<SourceFile>& files, uint64_t logical,
                 const LocalCluster& cluster, ResourceMeter& meter,
                 const std::vector<int>& writer) {
    Failures failures("read");
    std::atomic<uint64_t> mismatches{0}, from_other{0}, fell_back{0}, from_writer{0};
    std::vector<double> latency(files.size(), std::nan(""));
    int n = static_cast<int>(cluster.nodes().size());
    bool other = opt_.read_from == "other" && n > 1;
    ::sync();
    Log(ds.label + ": read phase, " + std::to_string(opt_.clients) + " clients, from " +
        (other ? "the node after the writer" : "the writer"));
    meter.Start();
    double wall = RunPool(ds.label + " read", files.size(), opt_.clients, [&](int) {
      return [&, clients = NodeClients{&cluster, {}}, expected = std::string()](size_t i) mutable {
        const SourceFile& f = files[i];
        if (writer[i] < 0) return failures.Add("GET " + f.rel + ": its PUT failed");
        std::string error;
        if (!ReadWholeFile(f.abs, &expected, &error)) return failures.Add(error);
        const std::string url = FileUrl(kNamespace, f.rel);
        auto t0 = Clock::now();
        GetOutcome got;
        if (other) {
          got = GetAndCompare(clients[(writer[i] + 1) % n], url, expected);
          if (got.kind == GetOutcome::kNotFound) {
            // The reader does not know the file yet; the writer must.
            if (opt_.strict_cross_node) return failures.Add("other node: " + got.message);
            ++fell_back;
            got = GetAndCompare(clients[writer[i]], url, expected);
          } else {
            ++from_other;
          }
        } else {
          got = GetAndCompare(clients[writer[i]], url, expected);
          ++from_writer;
        }
        auto t1 = Clock::now();
        RecordRead(got, Seconds(t0, t1) * 1000, &latency[i], &mismatches, &failures);
      };
    });
    json resources = meter.Stop(files.size());
    g_total_failures += failures.count();
    json line = Common("cluster_load", ds, cluster);
    line["phase"] = "read";
    line["read_from"] = other ? "writer+1" : "writer";
    line.update(PhaseFields(files.size(), logical, wall, latency, failures));
    line["mismatches"] = mismatches.load();
    line["reads_served_by_other_node"] = from_other.load();
    line["reads_fell_back_to_writer"] = fell_back.load();
    line["reads_from_writer"] = from_writer.load() + fell_back.load();
    line["resources"] = resources;
    Emit(line);
  }

  // Allocated bytes of every node's drive directories.
  uint64_t DrivesBytes(const LocalCluster& cluster) const {
    uint64_t total = 0;
    for (const ClusterNode& n : cluster.nodes()) {
      for (int d = 0; d < opt_.drives; ++d) {
        total += DiskUsage(cluster.Drive(n, d));
      }
    }
    return total;
  }

  void SpacePhase(const Dataset& ds, size_t files, uint64_t logical, const LocalCluster& cluster,
                  uint64_t empty) {
    ::sync();
    uint64_t physical = 0, apparent = 0, segments = 0, state = 0;
    json per_node = json::array();
    int64_t peak_rss_kb = 0;
    for (const ClusterNode& n : cluster.nodes()) {
      uint64_t node_physical = 0;
      for (int d = 0; d < opt_.drives; ++d) {
        std::string drive = cluster.Drive(n, d);
        node_physical += DiskUsage(drive);
        apparent += ApparentBytes(drive);
        segments += DiskUsage(drive + "/segments");
      }
      physical += node_physical;
      state += DiskUsage(cluster.NodeDir(n) + "/state");
      per_node.push_back(node_physical);
    }
    ProcessGroups processes = ClusterProcesses(cluster.dir());
    for (pid_t pid : processes["nodes"]) {
      peak_rss_kb = std::max(peak_rss_kb, ProcStatusKb(pid, "VmHWM"));
    }
    uint64_t etcd = DiskUsage(cluster.dir() + "/etcd");
    auto ratio = [](uint64_t a, uint64_t b) {
      return b ? Round(static_cast<double>(a) / b, 4) : 0.0;
    };
    json line = Common("cluster_space", ds, cluster);
    line["phase"] = "space";
    line["files"] = files;
    line["logical_bytes"] = logical;
    line["physical_bytes"] = physical;
    line["physical_over_logical"] = ratio(physical, logical);
    // As swift-bench counts it: what the load added to the drives.
    line["physical_bytes_empty_cluster"] = empty;
    line["physical_bytes_added"] = physical >= empty ? physical - empty : 0;
    line["added_over_logical"] = ratio(physical >= empty ? physical - empty : 0, logical);
    line["efficiency"] = ratio(logical, physical);
    line["physical_bytes_per_node"] = per_node;
    line["segments_bytes"] = segments;
    line["segments_efficiency"] = ratio(logical, segments);
    line["physical_bytes_apparent"] = apparent;
    line["efficiency_apparent"] = ratio(logical, apparent);
    line["state_dirs_bytes"] = state;
    line["etcd_bytes"] = etcd;
    line["efficiency_with_state"] = ratio(logical, physical + state);
    line["nodes_peak_rss_mib"] = Round(peak_rss_kb / 1024.0, 1);
    Emit(line);
  }

 private:
  Options opt_;
  json machine_;
};

// "archive-mix" or "archive-mix=FILES" -> (profile, files; 0 = the profile's default).
bool ParseGenSpec(const std::string& spec, std::string* profile, long* files) {
  size_t eq = spec.find('=');
  *profile = spec.substr(0, eq);
  *files = 0;
  if (eq != std::string::npos) {
    char* end = nullptr;
    *files = std::strtol(spec.c_str() + eq + 1, &end, 10);
    if (*end != '\0' || *files <= 0) return false;
  }
  return *profile == "archive-mix" || *profile == "tiny" || *profile == "images";
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  SetLogName("cluster_load_bench");
  Options opt;
  CLI::App app{
      "Load harness for local Tessera clusters (tessera up): 16 clients spread over every node "
      "write a data set, read it back from other nodes and compare; files/s, MB/s, latency, "
      "physical/logical bytes and what each phase cost the machine. One JSON object per line."};
  app.add_option("--nodes", opt.nodes, "Node counts, one fresh cluster each (e.g. 3,6)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--drives", opt.drives, "Drives per node")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--protection", opt.protection, "Cluster protection policy (tessera up)")
      ->capture_default_str();
  app.add_option("--clients", opt.clients, "Concurrent clients (threads), spread over the nodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--data", opt.data,
                 "LABEL=DIR data set to load (repeatable); DIR alone uses its base name as label");
  app.add_option("--gen", opt.gen,
                 "PROFILE[=FILES]: generate a data set with gen-archive into the work directory "
                 "(archive-mix, tiny; repeatable; FILES defaults to the profile's)");
  app.add_option("--gen-archive", opt.gen_archive, "gen-archive tool")->capture_default_str();
  app.add_option("--read-from", opt.read_from,
                 "other: read each file from the node after its writer, falling back to the "
                 "writer on 404; writer: from the writer")
      ->capture_default_str()
      ->check(CLI::IsMember({"other", "writer"}));
  app.add_flag("--strict-cross-node", opt.strict_cross_node,
               "A read the other node cannot serve (404) is a failure, not a fallback");
  app.add_option("--commit", opt.commit, "Commit of the binary, recorded in every line");
  app.add_option("--binary", opt.binary, "tessera binary to run")->capture_default_str();
  app.add_option("--work", opt.work,
                 "Work directory (default: a new /tmp/cluster-load-XXXXXX, removed at the end)");
  app.add_flag("--keep", opt.keep, "Keep the clusters' directories (stopped) and generated data");
  app.add_option("--up-timeout", opt.up_timeout, "Seconds for tessera up to get every node serving")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (::access(opt.binary.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "error: tessera binary '%s' is missing or not executable (build the 'tessera' "
                 "target or pass --binary)\n",
                 opt.binary.c_str());
    return 2;
  }
  std::vector<Dataset> datasets;
  std::set<std::string> labels;
  for (const std::string& spec : opt.data) {
    Dataset ds = ParseDatasetSpec(spec);
    if (!ValidLabel(ds.label)) {
      std::fprintf(stderr, "error: --data '%s': label '%s' must be [A-Za-z0-9._-]+\n", spec.c_str(),
                   ds.label.c_str());
      return 2;
    }
    std::error_code ec;
    if (!fs::is_directory(ds.dir, ec)) {
      std::fprintf(stderr, "error: --data '%s': data directory '%s' does not exist\n", spec.c_str(),
                   ds.dir.c_str());
      return 2;
    }
    if (!labels.insert(ds.label).second) {
      std::fprintf(stderr, "error: data set label '%s' given twice\n", ds.label.c_str());
      return 2;
    }
    datasets.push_back(ds);
  }
  for (const std::string& spec : opt.gen) {
    std::string profile;
    long files = 0;
    if (!ParseGenSpec(spec, &profile, &files)) {
      std::fprintf(stderr, "error: --gen '%s': want archive-mix|tiny|images[=FILES]\n",
                   spec.c_str());
      return 2;
    }
    if (!labels.insert(profile).second) {
      std::fprintf(stderr, "error: data set label '%s' given twice\n", profile.c_str());
      return 2;
    }
  }
  if (opt.gen.empty() && datasets.empty()) {
    std::fprintf(stderr, "error: nothing to do: give --data LABEL=DIR and/or --gen PROFILE\n");
    return 2;
  }

  bool own_work = opt.work.empty();
  // Short: supervisord's unix socket path lives under it.
  std::optional<std::string> prepared = PrepareWorkDir(opt.work, "/tmp/cluster-load-XXXXXX");
  if (!prepared) return 2;
  std::string work = *prepared;
  Log("work directory " + work + (opt.keep ? " (kept)" : ""));

  for (const std::string& spec : opt.gen) {
    std::string profile;
    long files = 0;
    ParseGenSpec(spec, &profile, &files);
    std::string dir = work + "/data/" + profile;
    std::vector<std::string> gen = {"python3", opt.gen_archive, dir, "--profile", profile};
    if (files > 0) {
      gen.push_back("--files");
      gen.push_back(std::to_string(files));
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    Log("generating " + profile + " into " + dir);
    auto result = RunCommand(gen);
    if (result.exit_code != 0) {
      std::fprintf(stderr, "error: gen-archive failed (%d): %s\n", result.exit_code,
                   result.output.c_str());
      return 2;
    }
    Log("  " + result.output.substr(0, result.output.find('\n')));
    datasets.push_back({profile, dir});
  }

  Bench bench(opt);
  for (int nodes : opt.nodes) {
    for (const Dataset& ds : datasets) {
      try {
        bench.Run(nodes, ds, work);
      } catch (const std::exception& e) {
        ++g_total_failures;
        Log(std::string("ERROR: ") + e.what());
      }
    }
  }

  return FinishBench(own_work && !opt.keep ? work : "", g_total_failures);
}
