// verifier_bench: the verifier of ClusterTest.VerifierAcknowledgedWritesSurviveRandomKills,
// run for minutes instead of seconds (tests/support/verifier.h holds the
// logic both use).
//
// Starts a 3-member etcd and N `tessera node --config` processes (real
// processes on loopback, in a temp dir). Writers store files through node 1
// while nodes 2..N are killed -9 and restarted at random for --duration
// seconds; once every node is back in the group and writable, every write is
// read back through node 1. Prints one JSON line on stdout (kills,
// acknowledged, refused, unknown, lost, mismatches, appeared, files/s);
// progress goes to stderr. Exit 0 only if no acknowledged write was lost or
// differs and no refused write appeared; 1 otherwise or if the cluster
// failed; 2 on a usage error.
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/cluster_probe.h"
#include "tests/support/etcd_process.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/verifier.h"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using namespace tessera::testing;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Acknowledged writes survive nodes killed -9 and restarted at random"};
  int duration = 300, node_count = 5, writers = 4;
  uint32_t seed = 42;
  app.add_option("--duration", duration, "Seconds of writing and killing")->capture_default_str();
  app.add_option("--nodes", node_count, "Nodes in the cluster (>= 3)")->capture_default_str();
  app.add_option("--writers", writers, "Concurrent writers")->capture_default_str();
  app.add_option("--seed", seed, "Seed of the kill schedule and file sizes")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (node_count < 3 || duration < 1 || writers < 1) {
    std::cerr << "need --nodes >= 3, --duration >= 1 and --writers >= 1\n";
    return 2;
  }

  TempDir dir;
  EtcdCluster etcd(dir.Sub("etcd"), 3);
  std::string why;
  if (!etcd.Start(&why)) {
    std::cerr << "etcd: " << why << "\n";
    return 1;
  }
  const std::string uri = etcd.ConfigUri("verifier");
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  for (int i = 0; i < node_count; ++i) {
    nodes.push_back(
        std::make_unique<NodeProcess>(ClusterNode(dir.Sub("node" + std::to_string(i + 1)), uri)));
    if (!nodes.back()->Start(&why)) {
      std::cerr << "node " << i + 1 << ": " << why << "\n";
      return 1;
    }
  }
  // Settled: every node writable in a group of all nodes.
  auto settled = [&] {
    for (const auto& node : nodes) {
      json view = NodeView(node->port());
      if (!view.value("writable", false) || ReadableMembers(node->port()) != node_count) {
        return false;
      }
    }
    return true;
  };
  auto wait_settled = [&](std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!settled()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(200ms);
    }
    return true;
  };
  if (!wait_settled(60s)) {
    std::cerr << "the cluster did not settle\n";
    return 1;
  }

  VerifierOptions options;
  options.write_port = nodes[0]->port();
  options.writers = writers;
  options.seed = seed;
  options.duration = std::chrono::seconds(duration);
  for (int i = 1; i < node_count; ++i) options.victims.push_back(i);
  options.kill = [&](int i) {
    std::cerr << "kill -9 node " << i + 1 << "\n";
    nodes[i]->Kill();
  };
  options.restart = [&](int i) { return nodes[i]->Start(); };
  std::cerr << "writing for " << duration << " s through node 1, killing nodes 2.." << node_count
            << "\n";
  VerifierRun run = RunVerifierWrites(options);
  if (!run.restart_error.empty()) {
    std::cerr << run.restart_error << "\n";
    return 1;
  }
  if (!wait_settled(120s)) {
    std::cerr << "the cluster did not settle after the kills\n";
    return 1;
  }
  std::cerr << "reading back " << run.writes.size() << " writes\n";
  VerifierResult result = CheckVerifierWrites(run, nodes[0]->port());
  json line = json::parse(result.ToJson());
  line["nodes"] = node_count;
  line["writers"] = writers;
  line["duration_s"] = duration;
  std::cout << line.dump() << std::endl;
  for (const std::string& p : result.problems) std::cerr << p << "\n";
  return result.ok() ? 0 : 1;
}
