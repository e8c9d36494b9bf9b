// What a benchmark phase cost the machine, to say what limits it: CPU seconds
// of the cluster's processes (nodes, etcd), of the benchmark itself and of
// everything else on the machine (other users' builds), the machine's busy,
// iowait and steal fractions, and the block device's writes and flushes
// (/proc/diskstats), since on a virtual disk fsync rate is the usual limit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/load_common.h"

namespace tessera::bench {

// The pids of the processes of one group ("nodes", "etcd", ...) to account.
using ProcessGroups = std::map<std::string, std::vector<pid_t>>;

// Processes whose command line mentions `dir`: "nodes" (tessera node ...
// --state DIR/nodeK/state), "etcd" (--data-dir=DIR/etcd/...) and
// "supervisord".
ProcessGroups ClusterProcesses(const std::string& dir);

class ResourceMeter {
 public:
  // `path`: a file or directory on the device whose I/O to count.
  ResourceMeter(ProcessGroups groups, const std::string& path);
  void Start();
  // Differences since Start() as JSON (see the file comment); with `files`,
  // also CPU ms and flushes per file, the costs that set a ceiling on files/s.
  nlohmann::json Stop(size_t files = 0) const;

 private:
  struct Snapshot {
    Clock::time_point when;
    std::vector<uint64_t> cpu;                    // /proc/stat "cpu" line, ticks
    std::map<std::string, uint64_t> group_ticks;  // utime+stime per group
    uint64_t self_ticks = 0;
    std::vector<uint64_t> disk;  // /proc/diskstats fields after the name
  };
  Snapshot Take() const;

  ProcessGroups groups_;
  std::string device_;  // "MAJ MIN" to find in /proc/diskstats
  Snapshot start_;
};

}  // namespace tessera::bench
