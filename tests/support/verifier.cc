#include "tests/support/verifier.h"

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "tests/integration/test_files.h"

namespace tessera::testing {

VerifierRun RunVerifierWrites(const VerifierOptions& options) {
  VerifierRun run;
  std::mutex mu;
  std::atomic<bool> stop{false};
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> writers;
  for (int w = 0; w < options.writers; ++w) {
    writers.emplace_back([&, w] {
      httplib::Client client("127.0.0.1", options.write_port);
      client.set_read_timeout(30);
      std::mt19937_64 rng(options.seed * 1000 + w);
      const size_t sizes[] = {1000, 100 * 1024, 700 * 1024 + 5};
      for (int i = 0; !stop.load(); ++i) {
        VerifierWrite write{"v/" + std::to_string(w) + "-" + std::to_string(i), sizes[rng() % 3],
                            static_cast<uint64_t>(w) * 1000000000ull + i, WriteOutcome::kUnknown};
        auto res = PutFile(client, options.ns + "/" + write.path, Content(write.size, write.seed));
        // 503 and 4xx refuse before anything commits; 504 (or a lost
        // answer) leaves the outcome unknown.
        if (res && res->status == 201) write.outcome = WriteOutcome::kAcked;
        if (res && (res->status == 503 || (res->status >= 400 && res->status < 500))) {
          write.outcome = WriteOutcome::kRefused;
        }
        std::lock_guard<std::mutex> lock(mu);
        run.writes.push_back(write);
      }
    });
  }
  std::mt19937 rng(options.seed);
  const auto until = started + options.duration;
  while (!options.victims.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 1500));
    const int victim = options.victims[rng() % options.victims.size()];
    options.kill(victim);
    ++run.kills;
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 2000));
    if (!options.restart(victim)) {
      run.restart_error = "node " + std::to_string(victim) + " did not restart";
      break;
    }
  }
  if (options.victims.empty()) std::this_thread::sleep_for(options.duration);
  stop = true;
  for (std::thread& t : writers) t.join();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return run;
}

VerifierResult CheckVerifierWrites(const VerifierRun& run, int read_port, const std::string& ns) {
  VerifierResult result;
  result.kills = run.kills;
  result.seconds = run.seconds;
  auto problem = [&](const std::string& line) {
    if (result.problems.size() < 10) result.problems.push_back(line);
  };
  httplib::Client client("127.0.0.1", read_port);
  client.set_read_timeout(30);
  for (const VerifierWrite& write : run.writes) {
    auto got = GetFile(client, ns + "/" + write.path);
    const int status = StatusOf(got);
    if (status < 0) {  // no answer at all: nothing is known about the file
      ++result.unanswered;
      problem("no answer reading " + write.path);
    }
    const bool found = status == 200;
    const bool whole = found && got->body == Content(write.size, write.seed);
    switch (write.outcome) {
      case WriteOutcome::kAcked:
        ++result.acknowledged;
        if (status >= 0 && !found) {
          ++result.lost;
          problem("acknowledged " + write.path + " is gone: HTTP " + std::to_string(status) +
                  (got ? " " + got->body : ""));
        } else if (!whole) {
          ++result.mismatches;
          problem("acknowledged " + write.path + " differs");
        }
        break;
      case WriteOutcome::kRefused:
        ++result.refused;
        if (status >= 0 && status != 404) {
          ++result.appeared;
          problem("refused " + write.path + " answers HTTP " + std::to_string(status) +
                  " instead of 404");
        }
        break;
      case WriteOutcome::kUnknown:
        ++result.unknown;
        if (found) ++result.unknown_found;
        if (found && !whole) {
          ++result.mismatches;
          problem("unknown " + write.path + " exists but differs");
        }
        break;
    }
  }
  return result;
}

std::string VerifierResult::ToJson() const {
  return nlohmann::json{{"kills", kills},
                        {"acknowledged", acknowledged},
                        {"refused", refused},
                        {"unknown", unknown},
                        {"unknown_found", unknown_found},
                        {"lost", lost},
                        {"mismatches", mismatches},
                        {"appeared", appeared},
                        {"unanswered", unanswered},
                        {"files_per_second", seconds > 0 ? acknowledged / seconds : 0.0},
                        {"seconds", seconds}}
      .dump();
}

}  // namespace tessera::testing
