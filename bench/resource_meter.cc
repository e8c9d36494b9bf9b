#include "bench/resource_meter.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tessera::bench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Cmdline(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : text)
    if (c == '\0') c = ' ';
  return text;
}

// utime + stime of one process in clock ticks; 0 once it is gone.
uint64_t ProcessTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; fields resume after its ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  // After ')': state is field 3, utime field 14, stime field 15.
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return utime + stime;
}

std::vector<uint64_t> NumbersAfter(const std::string& line, size_t skip_words) {
  std::istringstream in(line);
  std::string word;
  for (size_t i = 0; i < skip_words && in >> word; ++i) {
  }
  std::vector<uint64_t> out;
  uint64_t v;
  while (in >> v) out.push_back(v);
  return out;
}

uint64_t At(const std::vector<uint64_t>& v, size_t i) { return i < v.size() ? v[i] : 0; }

}  // namespace

ProcessGroups ClusterProcesses(const std::string& dir) {
  ProcessGroups groups;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string cmd = Cmdline(name);
    if (cmd.find(dir + "/") == std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == ::getpid()) continue;
    if (cmd.find(" node ") != std::string::npos && cmd.find("--state") != std::string::npos) {
      groups["nodes"].push_back(pid);
    } else if (cmd.find("etcd") != std::string::npos &&
               cmd.find("--data-dir") != std::string::npos) {
      groups["etcd"].push_back(pid);
    } else if (cmd.find("supervisord") != std::string::npos) {
      groups["supervisord"].push_back(pid);
    }
  }
  return groups;
}

ResourceMeter::ResourceMeter(ProcessGroups groups, const std::string& path)
    : groups_(std::move(groups)) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    device_ = std::to_string(major(st.st_dev)) + " " + std::to_string(minor(st.st_dev));
  }
}

void ResourceMeter::Start() { start_ = Take(); }

ResourceMeter::Snapshot ResourceMeter::Take() const {
  Snapshot s;
  s.when = Clock::now();
  std::ifstream stat("/proc/stat");
  std::string line;
  if (std::getline(stat, line) && line.rfind("cpu ", 0) == 0) s.cpu = NumbersAfter(line, 1);
  for (const auto& [group, pids] : groups_) {
    uint64_t ticks = 0;
    for (pid_t pid : pids) ticks += ProcessTicks(pid);
    s.group_ticks[group] = ticks;
  }
  s.self_ticks = ProcessTicks(::getpid());
  if (!device_.empty()) {
    std::ifstream diskstats("/proc/diskstats");
    while (std::getline(diskstats, line)) {
      std::istringstream in(line);
      std::string maj, min;
      in >> maj >> min;
      if (maj + " " + min == device_) {
        s.disk = NumbersAfter(line, 3);
        break;
      }
    }
  }
  return s;
}

json ResourceMeter::Stop(size_t files) const {
  Snapshot end = Take();
  double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double wall = Seconds(start_.when, end.when);
  json out;
  out["wall_s"] = Round(wall);

  // /proc/stat cpu: user nice system idle iowait irq softirq steal ...
  std::vector<uint64_t> d(8, 0);
  uint64_t total = 0;
  for (size_t i = 0; i < 8; ++i) {
    d[i] = At(end.cpu, i) - At(start_.cpu, i);
    total += d[i];
  }
  double all_cpu_s = static_cast<double>(total) / hz;
  double busy_s = static_cast<double>(total - d[3] - d[4] - d[7]) / hz;
  if (total > 0) {
    out["machine_busy_frac"] = Round(static_cast<double>(total - d[3] - d[4] - d[7]) / total);
    out["machine_iowait_frac"] = Round(static_cast<double>(d[4]) / total);
    out["machine_steal_frac"] = Round(static_cast<double>(d[7]) / total);
    out["machine_system_frac"] = Round(static_cast<double>(d[2] + d[5] + d[6]) / total);
  }
  out["machine_cpu_s"] = Round(all_cpu_s, 2);

  // CPU seconds per process group; "other" is whatever else kept the cores busy.
  json cpu;
  double accounted = 0;
  for (const auto& [group, ticks] : end.group_ticks) {
    auto it = start_.group_ticks.find(group);
    uint64_t before = it == start_.group_ticks.end() ? 0 : it->second;
    double s = static_cast<double>(ticks >= before ? ticks - before : 0) / hz;
    cpu[group] = Round(s, 2);
    accounted += s;
  }
  double self = static_cast<double>(end.self_ticks - start_.self_ticks) / hz;
  cpu["bench_clients"] = Round(self, 2);
  accounted += self;
  cpu["other"] = Round(std::max(0.0, busy_s - accounted), 2);
  out["cpu_s"] = cpu;
  if (wall > 0) {
    json cores;
    for (auto it = cpu.begin(); it != cpu.end(); ++it) {
      cores[it.key()] = Round(it.value().get<double>() / wall, 2);
    }
    out["cores_used"] = cores;
  }
  if (files > 0) {
    json per_file;
    for (auto it = cpu.begin(); it != cpu.end(); ++it) {
      if (it.key() == "other") continue;  // not the benchmark's
      per_file[it.key()] = Round(it.value().get<double>() * 1000 / files, 3);
    }
    out["cpu_ms_per_file"] = per_file;
  }

  // diskstats fields (0-based after the name): 4 writes completed, 6 sectors
  // written, 15 flushes completed (kernel >= 5.5).
  if (!end.disk.empty() && !start_.disk.empty()) {
    uint64_t writes = At(end.disk, 4) - At(start_.disk, 4);
    uint64_t sectors = At(end.disk, 6) - At(start_.disk, 6);
    uint64_t flushes = At(end.disk, 15) - At(start_.disk, 15);
    json disk;
    disk["writes"] = writes;
    disk["written_mb"] = Round(static_cast<double>(sectors) * 512 / 1e6, 1);
    disk["flushes"] = flushes;
    if (wall > 0) {
      disk["writes_per_s"] = Round(writes / wall, 1);
      disk["written_mb_per_s"] = Round(static_cast<double>(sectors) * 512 / 1e6 / wall, 1);
      disk["flushes_per_s"] = Round(flushes / wall, 1);
    }
    if (files > 0) disk["flushes_per_file"] = Round(static_cast<double>(flushes) / files, 3);
    out["disk"] = disk;
  }
  return out;
}

}  // namespace tessera::bench
