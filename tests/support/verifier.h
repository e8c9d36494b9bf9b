// The verifier, shared by ClusterTest.VerifierAcknowledgedWritesSurviveRandomKills
// and bench/verifier_bench: writers keep storing files through one node
// while other nodes are killed -9 and restarted at random. Afterwards every
// acknowledged write must read back identical; every write refused with an
// error status must not exist; a write whose answer was lost may be either,
// but if it exists it must be whole.
//
// Two phases, because between them the caller waits for the cluster to
// settle in its own way: RunVerifierWrites (writers and kills), then
// CheckVerifierWrites (read everything back through a node).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tessera::testing {

struct VerifierOptions {
  int write_port = 0;  // the writers' node, on 127.0.0.1; never killed
  int writers = 4;
  std::chrono::milliseconds duration{15000};
  uint32_t seed = 42;
  std::string ns = "ns";
  // Nodes that may be killed (opaque indexes handed to kill and restart).
  std::vector<int> victims;
  std::function<void(int)> kill;     // kill -9 the node
  std::function<bool(int)> restart;  // start it again; false stops the run
};

enum class WriteOutcome { kAcked, kRefused, kUnknown };

struct VerifierWrite {
  std::string path;  // under ns
  size_t size = 0;
  uint64_t seed = 0;  // Content(size, seed)
  WriteOutcome outcome = WriteOutcome::kUnknown;
};

struct VerifierRun {
  std::vector<VerifierWrite> writes;
  int kills = 0;
  double seconds = 0;         // the writing phase
  std::string restart_error;  // non-empty: a restart failed and the run stopped
};

// Writers PUT files of 1000 B, 100 KiB and 700 KiB + 5 (mirrored and
// striped) through write_port while, every 0.5-2 s, a random victim is
// killed and restarted 0.2-2.2 s later.
VerifierRun RunVerifierWrites(const VerifierOptions& options);

struct VerifierResult {
  int kills = 0;
  int64_t acknowledged = 0, refused = 0, unknown = 0;
  int64_t lost = 0;        // acknowledged, but not found or unreadable
  int64_t mismatches = 0;  // found, but not the bytes written
  int64_t appeared = 0;    // refused, yet found
  int64_t unknown_found = 0;
  int64_t unanswered = 0;  // reads that got no HTTP answer at all
  double seconds = 0;
  std::vector<std::string> problems;  // the first few, one line each

  bool ok() const { return lost == 0 && mismatches == 0 && appeared == 0 && unanswered == 0; }
  // One JSON object: kills, acknowledged, refused, unknown, lost,
  // mismatches, appeared, unanswered, files_per_second (acknowledged over the writing
  // phase), seconds.
  std::string ToJson() const;
};

// Reads every write of `run` back through the node on `read_port`.
VerifierResult CheckVerifierWrites(const VerifierRun& run, int read_port,
                                   const std::string& ns = "ns");

}  // namespace tessera::testing
