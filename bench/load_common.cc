#include "bench/load_common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace tessera::bench {

namespace fs = std::filesystem;

namespace {
constexpr size_t kMaxErrorsKept = 5;
std::string g_log_name = "bench";
}  // namespace

void SetLogName(const std::string& name) { g_log_name = name; }

void Log(const std::string& text) {
  std::fprintf(stderr, "[%s] %s\n", g_log_name.c_str(), text.c_str());
  std::fflush(stderr);
}

void Emit(const json& line) {
  std::fputs((line.dump() + "\n").c_str(), stdout);
  std::fflush(stdout);
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Round(double v, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

std::string IsoDateUtc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json MachineInfo() {
  json m;
  m["nproc"] = static_cast<int64_t>(::sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      int64_t kb = std::atoll(line.c_str() + 9);
      m["mem_total_kib"] = kb;
      m["mem_total_gib"] = Round(static_cast<double>(kb) / (1 << 20), 1);
      break;
    }
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      std::string model = colon == std::string::npos ? "" : line.substr(colon + 1);
      model.erase(0, model.find_first_not_of(" \t"));
      m["cpu_model"] = model;
      break;
    }
  }
  if (!m.contains("cpu_model")) m["cpu_model"] = "unknown";
  return m;
}

std::string Tail(const std::string& text, int lines) {
  size_t pos = text.size();
  int seen = 0;
  while (pos > 0) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    if (nl + 1 < text.size() && ++seen > lines) return text.substr(nl + 1);
    pos = nl;
  }
  return text;
}

int FinishBench(const std::string& remove_dir, uint64_t failures) {
  if (!remove_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(remove_dir, ec);
  }
  if (failures > 0) {
    Log("FAILED: " + std::to_string(failures) + " failure(s); see above");
    return 1;
  }
  Log("done, no failures");
  return 0;
}

std::optional<std::string> PrepareWorkDir(const std::string& given, std::string pattern) {
  if (given.empty()) {
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "error: mkdtemp %s: %s\n", pattern.c_str(), std::strerror(errno));
      return std::nullopt;
    }
    return pattern;
  }
  std::string work = std::filesystem::absolute(given).lexically_normal().string();
  std::error_code ec;
  std::filesystem::create_directories(work, ec);
  if (ec) {
    std::fprintf(stderr, "error: --work %s: %s\n", work.c_str(), ec.message().c_str());
    return std::nullopt;
  }
  return work;
}

std::optional<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return std::nullopt;
  uint64_t value = std::stoull(text.substr(0, digits));
  std::string suffix = text.substr(digits);
  if (suffix == "iB" || suffix == "B") suffix.clear();
  if (suffix.size() == 3 && suffix.substr(1) == "iB") suffix = suffix.substr(0, 1);
  int shift = 0;
  if (suffix.empty())
    shift = 0;
  else if (suffix == "K" || suffix == "k")
    shift = 10;
  else if (suffix == "M" || suffix == "m")
    shift = 20;
  else if (suffix == "G" || suffix == "g")
    shift = 30;
  else if (suffix == "T" || suffix == "t")
    shift = 40;
  else
    return std::nullopt;
  return value << shift;
}

// ------------------------------------------------------------------ files

Dataset ParseDatasetSpec(const std::string& spec) {
  Dataset ds;
  size_t eq = spec.find('=');
  if (eq == std::string::npos) {
    ds.dir = spec;
    ds.label = fs::path(spec).lexically_normal().filename().string();
    if (ds.label.empty()) ds.label = fs::path(spec).lexically_normal().parent_path().filename();
  } else {
    ds.label = spec.substr(0, eq);
    ds.dir = spec.substr(eq + 1);
  }
  return ds;
}

bool ValidLabel(const std::string& label) {
  if (label.empty() || label == "." || label == "..") return false;
  for (unsigned char c : label)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::vector<SourceFile> Walk(const std::string& root) {
  std::vector<SourceFile> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->symlink_status().type() != fs::file_type::regular) continue;
    SourceFile f;
    f.abs = it->path().string();
    f.rel = fs::relative(it->path(), root).generic_string();
    f.size = it->file_size();
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.rel < b.rel; });
  return files;
}

uint64_t TotalBytes(const std::vector<SourceFile>& files) {
  uint64_t total = 0;
  for (const SourceFile& f : files) total += f.size;
  return total;
}

bool ReadWholeFile(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "open " + path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    *error = "stat " + path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "read " + path + ": " + (n == 0 ? "short file" : std::strerror(errno));
      ::close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return true;
}

uint64_t ApparentBytes(const std::string& path) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  return total;
}

int64_t ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atoll(line.c_str() + field.size() + 1);
  }
  return -1;
}

// ------------------------------------------------------------------ HTTP

std::string EncodePath(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string FileUrl(const std::string& ns, const std::string& rel) {
  return "/v1/files/" + ns + "/" + EncodePath(rel);
}

std::unique_ptr<httplib::Client> MakeClient(const std::string& host, int port) {
  auto client = std::make_unique<httplib::Client>(host, port);
  client->set_keep_alive(true);
  client->set_url_encode(false);  // EncodePath did it
  client->set_connection_timeout(10, 0);
  client->set_read_timeout(600, 0);
  client->set_write_timeout(600, 0);
  client->set_tcp_nodelay(true);
  return client;
}

std::string PutBody(httplib::Client& client, const std::string& url, const std::string& body) {
  auto res = client.Put(url, body.data(), body.size(), "application/octet-stream");
  if (!res) return "PUT " + url + ": " + httplib::to_string(res.error());
  if (res->status / 100 != 2) {
    return "PUT " + url + ": HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 300);
  }
  return "";
}

GetOutcome GetAndCompare(httplib::Client& client, const std::string& url,
                         const std::string& expected) {
  auto res = client.Get(url);
  if (!res) return {GetOutcome::kError, "GET " + url + ": " + httplib::to_string(res.error())};
  if (res->status != 200) {
    return {
        res->status == 404 ? GetOutcome::kNotFound : GetOutcome::kError,
        "GET " + url + ": HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 300)};
  }
  if (res->body == expected) return {GetOutcome::kOk, ""};
  size_t at = 0;
  size_t common = std::min(res->body.size(), expected.size());
  while (at < common && res->body[at] == expected[at]) ++at;
  return {GetOutcome::kMismatch, "GET " + url + ": MISMATCH, got " +
                                     std::to_string(res->body.size()) + " bytes, expected " +
                                     std::to_string(expected.size()) +
                                     ", first difference at byte " + std::to_string(at)};
}

// ------------------------------------------------------------------ measuring

void RecordRead(const GetOutcome& got, double latency_ms, double* sample,
                std::atomic<uint64_t>* mismatches, Failures* failures) {
  if (got.kind == GetOutcome::kNotFound || got.kind == GetOutcome::kError) {
    failures->Add(got.message);
    return;
  }
  *sample = latency_ms;
  if (got.kind == GetOutcome::kMismatch) {
    ++*mismatches;
    failures->Add(got.message);
  }
}

void Failures::Add(const std::string& message) {
  uint64_t n = ++count_;
  std::lock_guard<std::mutex> lock(mu_);
  if (first_.size() < kMaxErrorsKept) {
    first_.push_back(message);
    Log(phase_ + " FAILURE: " + message);
  } else if (n == kMaxErrorsKept + 1) {
    Log(phase_ + ": more failures, not printing them");
  }
}

json Failures::first() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_;
}

json LatencyStats(const std::vector<double>& latencies_ms) {
  std::vector<double> ok;
  ok.reserve(latencies_ms.size());
  for (double v : latencies_ms)
    if (!std::isnan(v)) ok.push_back(v);
  if (ok.empty()) return {{"p50_ms", nullptr}, {"p99_ms", nullptr}, {"max_ms", nullptr}};
  std::sort(ok.begin(), ok.end());
  auto pct = [&](double q) {
    size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(ok.size())));
    return ok[std::clamp<size_t>(rank, 1, ok.size()) - 1];
  };
  double sum = 0;
  for (double v : ok) sum += v;
  return {{"p50_ms", Round(pct(0.50))},
          {"p90_ms", Round(pct(0.90))},
          {"p99_ms", Round(pct(0.99))},
          {"max_ms", Round(ok.back())},
          {"mean_ms", Round(sum / static_cast<double>(ok.size()))}};
}

json PhaseFields(size_t files, uint64_t bytes, double wall, const std::vector<double>& latency,
                 const Failures& failures) {
  json line;
  line["files"] = files;
  line["bytes"] = bytes;
  line["seconds"] = Round(wall);
  line["files_per_s"] = Round(static_cast<double>(files) / wall, 1);
  line["mb_per_s"] = Round(static_cast<double>(bytes) / 1e6 / wall, 2);
  line["latency"] = LatencyStats(latency);
  line["failures"] = failures.count();
  if (failures.count() > 0) line["errors"] = failures.first();
  return line;
}

void LogProgress(const std::string& what, size_t done, size_t n, double seconds) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%s: %zu/%zu files, %.0f files/s so far", what.c_str(), done, n,
                static_cast<double>(done) / seconds);
  Log(buf);
}

}  // namespace tessera::bench
