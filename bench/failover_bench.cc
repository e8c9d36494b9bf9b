// failover_bench: how long a cluster takes to notice a killed master and to
// have a new one serving.
//
// Starts a 3-member etcd and N `tessera node --config` processes (real
// processes on loopback, in a temp dir), then runs T trials. Each trial
// waits until the cluster is settled (every node writable, one master), kills
// the master with SIGKILL and measures, from the kill:
//   group_ms         until every survivor has logged the new group (the
//                    time stamps of the first new line in each survivor's
//                    group.log; the slowest survivor counts);
//   master_serving_ms until a survivor says it is master and a PUT to it
//                    succeeds (polled every 10 ms);
// then restarts the killed node for the next trial. One JSON object per
// trial on stdout, then a summary with medians, against corosync's defaults
// (token 3000 ms, consensus 1.2 x token: a dead node is noticed after the
// token timeout and a new membership forms after the consensus timeout,
// 6600 ms before anything acts on it). Progress goes to stderr.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/etcd_process.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using namespace tessera::testing;

constexpr double kCorosyncDefaultMs = 3000 + 1.2 * 3000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-11-21T22:12:42.990Z node=..." -> ms since the epoch; -1 if not a time.
int64_t LineTimeMs(const std::string& line) {
  std::tm tm{};
  int millis = 0;
  if (sscanf(line.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

json View(const NodeProcess& node) {
  httplib::Client client("127.0.0.1", node.port());
  client.set_connection_timeout(0, 200000);
  client.set_read_timeout(1);
  auto res = client.Get("/v1/cluster/view");
  if (!res || res->status != 200) return json::object();
  return json::parse(res->body, nullptr, false);
}

bool PutOk(const NodeProcess& node, const std::string& path) {
  httplib::Client client("127.0.0.1", node.port());
  client.set_connection_timeout(0, 200000);
  auto res =
      client.Put("/v1/files/bench/" + path, std::string(1000, 'x'), "application/octet-stream");
  return res && res->status == 201;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Seconds from kill -9 of the master to the new group and a new master serving"};
  int trials = 10, node_count = 5, lease = 3;
  app.add_option("--trials", trials, "Kills to measure")->capture_default_str();
  app.add_option("--nodes", node_count, "Nodes in the cluster (>= 3)")->capture_default_str();
  app.add_option("--lease", lease, "node_lease_seconds (2..60)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (node_count < 3 || trials < 1) {
    std::cerr << "need --nodes >= 3 and --trials >= 1\n";
    return 2;
  }

  TempDir dir;
  EtcdCluster etcd(dir.Sub("etcd"), 3);
  std::string why;
  if (!etcd.Start(&why)) {
    std::cerr << "etcd: " << why << "\n";
    return 1;
  }
  const std::string uri = etcd.ConfigUri("bench");
  CommandResult set = RunCommand({TesseraBinary(), "config", "set", "node_lease_seconds",
                                  std::to_string(lease), "--config", uri});
  if (set.exit_code != 0) {
    std::cerr << set.output;
    return 1;
  }
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  for (int i = 0; i < node_count; ++i) {
    nodes.push_back(
        std::make_unique<NodeProcess>(ClusterNode(dir.Sub("node" + std::to_string(i + 1)), uri)));
    if (!nodes.back()->Start(&why)) {
      std::cerr << "node " << i << ": " << why << "\n";
      return 1;
    }
  }

  // Settled: every node writable in a group of all nodes, exactly one master.
  auto settled = [&](int* master) {
    int found = -1;
    for (int i = 0; i < node_count; ++i) {
      json v = View(*nodes[i]);
      if (!v.value("writable", false)) return false;
      if (v["quorum"].value("writable", 0) != node_count) return false;
      if (v.value("is_master", false)) {
        if (found >= 0) return false;
        found = i;
      }
    }
    *master = found;
    return found >= 0;
  };

  std::vector<double> group_ms, serving_ms;
  for (int trial = 0; trial < trials; ++trial) {
    int master = -1;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!settled(&master)) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::cerr << "cluster did not settle before trial " << trial << "\n";
        return 1;
      }
      std::this_thread::sleep_for(50ms);
    }
    std::this_thread::sleep_for(1s);  // let leases be refreshed as in steady state
    std::vector<size_t> lines_before(node_count);
    for (int i = 0; i < node_count; ++i) {
      lines_before[i] = Lines(nodes[i]->config().state_dir + "/group.log").size();
    }
    const int64_t killed_at = NowMs();
    nodes[master]->Kill();

    int64_t serving_at = -1;
    deadline = std::chrono::steady_clock::now() + 60s;
    while (serving_at < 0 && std::chrono::steady_clock::now() < deadline) {
      for (int i = 0; i < node_count && serving_at < 0; ++i) {
        if (i == master || !View(*nodes[i]).value("is_master", false)) continue;
        if (PutOk(*nodes[i], "t" + std::to_string(trial))) serving_at = NowMs();
      }
      if (serving_at < 0) std::this_thread::sleep_for(10ms);
    }
    int64_t group_at = -1;
    for (int i = 0; i < node_count; ++i) {
      if (i == master) continue;
      int64_t first = -1;
      deadline = std::chrono::steady_clock::now() + 30s;
      while (first < 0 && std::chrono::steady_clock::now() < deadline) {
        std::vector<std::string> lines = Lines(nodes[i]->config().state_dir + "/group.log");
        if (lines.size() > lines_before[i]) first = LineTimeMs(lines[lines_before[i]]);
        if (first < 0) std::this_thread::sleep_for(20ms);
      }
      if (first < 0) {
        std::cerr << "node " << i << " logged no new group\n";
        return 1;
      }
      group_at = std::max(group_at, first);
    }
    if (serving_at < 0) {
      std::cerr << "no new master served within 60 s\n";
      return 1;
    }
    group_ms.push_back(static_cast<double>(group_at - killed_at));
    serving_ms.push_back(static_cast<double>(serving_at - killed_at));
    std::cout << json{{"trial", trial},
                      {"killed_node", master + 1},
                      {"group_ms", group_ms.back()},
                      {"master_serving_ms", serving_ms.back()}}
                     .dump()
              << std::endl;
    std::cerr << "trial " << trial << ": group " << group_ms.back() << " ms, new master serving "
              << serving_ms.back() << " ms\n";
    if (!nodes[master]->Start(&why)) {
      std::cerr << "restart: " << why << "\n";
      return 1;
    }
  }
  json summary = {
      {"summary", true},
      {"trials", trials},
      {"nodes", node_count},
      {"etcd_members", 3},
      {"node_lease_seconds", lease},
      {"median_group_ms", Median(group_ms)},
      {"max_group_ms", *std::max_element(group_ms.begin(), group_ms.end())},
      {"median_master_serving_ms", Median(serving_ms)},
      {"max_master_serving_ms", *std::max_element(serving_ms.begin(), serving_ms.end())},
      {"corosync_default_ms", kCorosyncDefaultMs},
      {"ratio_median_serving_to_corosync", Median(serving_ms) / kCorosyncDefaultMs}};
  std::cout << summary.dump() << std::endl;
  return 0;
}
