#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/node_client.h"
#include "cli/node_resolver.h"
#include "cli/object_ref.h"
#include "cli/progress_bar.h"
#include "cluster/whole_number.h"
#include "common/object_name.h"
#include "common/status.h"
#include "common/units.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
// Single transfers smaller than this finish too fast for a progress line.
constexpr uint64_t kProgressThreshold = 64 * kMiB;
constexpr uint32_t kListPageSize = 1000;
constexpr int kRetries = 3;
constexpr size_t kFailuresShown = 10;

// What every command needs, resolved once the arguments are parsed.
struct Env {
  std::ostream& out;
  std::ostream& err;
  bool tty;
  std::chrono::milliseconds retry_backoff;
};

// Thrown inside a command to end it with an exit code after printing why.
struct Exit {
  int code;
};

[[noreturn]] void Fail(const Env& env, int code, const std::string& message) {
  env.err << "tessera: " << message << std::endl;
  throw Exit{code};
}

void FailIfError(const Env& env, const Status& status, int code = kExitFailed) {
  if (!status.ok()) Fail(env, code, status.ToString());
}

// The node to talk to (node_resolver.h has the order of precedence).
std::string ResolveNodeUrl(const Env& env, const std::optional<std::string>& node,
                           const std::optional<std::string>& cluster) {
  Result<std::string> url = ResolveNode(node, cluster);
  if (!url.ok()) {
    bool usage = url.status().code() == StatusCode::kInvalidArgument ||
                 url.status().code() == StatusCode::kNotFound;
    Fail(env, usage ? kExitUsage : kExitFailed, url.status().message());
  }
  return *url;
}

std::unique_ptr<NodeClient> Connect(const Env& env, const std::string& url) {
  Result<std::unique_ptr<NodeClient>> client = NodeClient::Create(url);
  FailIfError(env, client.status(), kExitUsage);
  return std::move(client).value();
}

ObjectRef ParseFileArg(const Env& env, const std::string& arg) {
  Result<ObjectRef> ref = ParseObjectRef(arg);
  FailIfError(env, ref.status(), kExitUsage);
  return ref.value();
}

ObjectRef ParsePrefixArg(const Env& env, const std::string& arg) {
  Result<ObjectRef> ref = ParsePrefixRef(arg);
  FailIfError(env, ref.status(), kExitUsage);
  return ref.value();
}

std::string FormatNanos(int64_t ns) {
  std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  auto millis = static_cast<int>((ns % 1'000'000'000) / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

// A time as the node gave it: "modified" as text, or "modified_ns" as
// nanoseconds since the epoch (the stored record's spelling).
std::string TimeField(const json& j, const std::string& name) {
  if (auto it = j.find(name); it != j.end() && it->is_string()) return it->get<std::string>();
  if (auto it = j.find(name + "_ns"); it != j.end() && it->is_number_integer()) {
    return FormatNanos(it->get<int64_t>());
  }
  return "-";
}

std::string TextField(const json& j, const std::string& name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

uint64_t SizeField(const json& j) {
  auto it = j.find("size");
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string Crc32cField(const json& j) {
  auto it = j.find("crc32c");
  if (it != j.end() && it->is_number_unsigned()) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(it->get<uint64_t>()));
    return buf;
  }
  return TextField(j, "crc32c");
}

int64_t IntField(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// "2+2 stripe, 20 stripes of 128.0k units" or "3x mirror".
std::string DescribeGeometry(const json& g) {
  if (!g.is_object()) return "-";
  std::string kind = g.value("kind", "");
  std::string text;
  if (kind == "stripe") {
    int64_t stripes = IntField(g, "stripe_count");
    text = std::to_string(IntField(g, "data_units")) + "+" +
           std::to_string(IntField(g, "parity_units")) + " stripe, " + std::to_string(stripes) +
           (stripes == 1 ? " stripe" : " stripes") + " of " +
           FormatSize(static_cast<uint64_t>(IntField(g, "unit_size"))) + " units";
  } else if (kind == "mirror") {
    text = std::to_string(IntField(g, "copies")) + "x mirror";
  } else {
    return g.dump();
  }
  if (g.value("meets_node_tolerance", true) == false) {
    text += " (node tolerance not met: drives stand in for nodes)";
  }
  return text;
}

std::string DriveField(const json& unit) {
  auto it = unit.find("drive");
  if (it == unit.end()) return "-";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    return std::to_string(IntField(*it, "node")) + ":" + std::to_string(IntField(*it, "lnum"));
  }
  return it->dump();
}

std::string Pad(std::string s, size_t width, bool right) {
  if (s.size() >= width) return s;
  std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

// ---- put ----

struct PutArgs {
  std::optional<std::string> node;
  std::optional<std::string> cluster;
  std::string local;
  std::string dest;
};

void RunPut(const Env& env, const PutArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  ObjectRef ref = ParseFileArg(env, args.dest);
  std::error_code ec;
  if (fs::is_directory(args.local, ec)) {
    Fail(env, kExitFailed,
         args.local + " is a directory; use 'tessera cp -r " + args.local + " NS/PREFIX'");
  }
  auto client = Connect(env, url);
  std::optional<ProgressBar> bar;
  uint64_t size = fs::file_size(args.local, ec);
  if (!ec && env.tty && size >= kProgressThreshold) {
    bar.emplace(
        ProgressBar::Options{.total_files = 1, .total_bytes = size, .out = &env.err, .tty = true});
  }
  uint64_t shown = 0;
  auto progress = [&](uint64_t done, uint64_t) {
    if (bar && done > shown) bar->Add(0, done - shown);
    shown = std::max(shown, done);
  };
  Result<json> record = client->PutFile(ref.ns, ref.path, args.local, progress);
  if (bar) {
    if (record.ok()) bar->Add(1, 0);
    bar->Finish();
  }
  FailIfError(env, record.status());
  env.out << "stored " << ref.ToString() << " (" << SizeField(*record) << " bytes, sha256 "
          << TextField(*record, "sha256") << ")\n";
}

// ---- get ----

struct GetArgs {
  std::optional<std::string> node;
  std::optional<std::string> cluster;
  std::string source;
  std::string local;
};

void RunGet(const Env& env, const GetArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  ObjectRef ref = ParseFileArg(env, args.source);
  auto client = Connect(env, url);
  std::unique_ptr<ProgressBar> bar;
  uint64_t shown = 0;
  // The size is known only once the response starts.
  auto progress = [&](uint64_t done, uint64_t total) {
    if (!bar && env.tty && total >= kProgressThreshold) {
      bar = std::make_unique<ProgressBar>(ProgressBar::Options{
          .total_files = 1, .total_bytes = total, .out = &env.err, .tty = true});
    }
    if (bar && done > shown) bar->Add(0, done - shown);
    shown = std::max(shown, done);
  };
  auto finish_bar = [&](bool ok) {
    if (!bar) return;
    if (ok) bar->Add(1, 0);
    bar->Finish();
  };

  if (args.local == "-") {
    auto sink = [&](const char* data, size_t size) {
      env.out.write(data, static_cast<std::streamsize>(size));
      return env.out ? Status::Ok() : Status::IOError("writing to stdout failed");
    };
    Result<FetchedFile> fetched = client->GetToSink(ref.ns, ref.path, sink, progress);
    if (fetched.ok()) env.out.flush();
    finish_bar(fetched.ok() && env.out.good());
    FailIfError(env, fetched.status());
    if (!env.out) Fail(env, kExitFailed, "writing to stdout failed");
    return;
  }
  std::string local = args.local;
  std::error_code ec;
  if (fs::is_directory(local, ec)) {
    std::string name = ref.path.substr(ref.path.rfind('/') + 1);
    local = (fs::path(local) / name).string();
  }
  Result<FetchedFile> fetched = client->GetFile(ref.ns, ref.path, local, progress);
  finish_bar(fetched.ok());
  FailIfError(env, fetched.status());
  env.out << "fetched " << ref.ToString() << " to " << local << " (" << fetched->size
          << " bytes, sha256 " << fetched->sha256 << (fetched->sha256_checked ? " verified" : "")
          << ")\n";
}

// ---- ls ----

struct LsArgs {
  std::optional<std::string> node;
  std::optional<std::string> cluster;
  std::string prefix;
  std::optional<uint64_t> limit;
  bool long_format = false;
};

// Calls `visit` for each file under `prefix`, page by page, at most `limit`.
void ForEachListedFile(const Env& env, NodeClient& client, const ObjectRef& prefix, uint64_t limit,
                       const std::function<void(const json& file)>& visit) {
  uint64_t remaining = limit;
  std::string marker;
  while (remaining > 0) {
    auto page_limit = static_cast<uint32_t>(std::min<uint64_t>(remaining, kListPageSize));
    Result<json> page = client.List(prefix.ns, prefix.path, marker, page_limit);
    FailIfError(env, page.status());
    for (const json& file : (*page)["files"]) {
      if (remaining == 0) break;
      --remaining;
      visit(file);
    }
    if (!page->value("truncated", false)) break;
    std::string next = page->value("next_marker", "");
    // A marker that does not move would list the same page forever.
    if (next.empty() || next == marker) {
      Fail(env, kExitFailed,
           "node at " + client.url() + " returned a truncated listing without a new next_marker");
    }
    marker = std::move(next);
  }
}

void RunLs(const Env& env, const LsArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  ObjectRef ref = ParsePrefixArg(env, args.prefix);
  auto client = Connect(env, url);
  ForEachListedFile(env, *client, ref, args.limit.value_or(UINT64_MAX), [&](const json& file) {
    env.out << Pad(std::to_string(SizeField(file)), 12, true) << "  "
            << Pad(TimeField(file, "modified"), 24, false) << "  ";
    if (args.long_format) env.out << Pad(TextField(file, "sha256"), 64, false) << "  ";
    env.out << TextField(file, "path") << '\n';
  });
  env.out.flush();
}

// ---- rm ----

struct RmArgs {
  std::optional<std::string> node;
  std::optional<std::string> cluster;
  std::string target;
};

void RunRm(const Env& env, const RmArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  ObjectRef ref = ParseFileArg(env, args.target);
  auto client = Connect(env, url);
  FailIfError(env, client->Delete(ref.ns, ref.path));
  env.out << "deleted " << ref.ToString() << "\n";
}

// ---- stat ----

struct StatArgs {
  std::optional<std::string> node;
  std::optional<std::string> cluster;
  std::string target;
  bool json_output = false;
};

void RunStat(const Env& env, const StatArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  ObjectRef ref = ParseFileArg(env, args.target);
  auto client = Connect(env, url);
  Result<json> record = client->Stat(ref.ns, ref.path);
  FailIfError(env, record.status());
  const json& r = *record;
  if (args.json_output) {
    env.out << r.dump(2) << '\n';
    return;
  }
  uint64_t size = SizeField(r);
  auto row = [&](const std::string& label, const std::string& value) {
    env.out << "  " << Pad(label, 18, false) << value << '\n';
  };
  env.out << ref.ToString() << '\n';
  row("size", std::to_string(size) + " (" + FormatSize(size) + ")");
  row("modified", TimeField(r, "modified"));
  if (r.contains("created") || r.contains("created_ns")) row("created", TimeField(r, "created"));
  row("crc32c", Crc32cField(r));
  row("sha256", TextField(r, "sha256"));
  row("protection", TextField(r, "protection"));
  row("geometry", r.contains("geometry") ? DescribeGeometry(r["geometry"]) : "-");
  for (const char* attribute : {"packing_policy", "packing_target", "packing_complete"}) {
    if (r.contains(attribute)) row(attribute, TextField(r, attribute));
  }
  if (auto c = r.find("container"); c != r.end() && c->is_object()) {
    // A packed file: its bytes are an extent of a container chunk.
    row("container", TextField(*c, "sin_text") + " chunk " + TextField(*c, "chunk") + ", offset " +
                         TextField(*c, "offset"));
  }
  if (r.contains("physical_bytes")) row("physical", TextField(r, "physical_bytes") + " bytes");
  if (r.contains("container")) return;  // no units of its own: they are the chunk's
  auto units = r.find("units");
  if (units == r.end() || !units->is_array()) {
    row("units", "(not reported by the node)");
    return;
  }
  row("units", std::to_string(units->size()));
  env.out << "  " << Pad("stripe", 8, true) << Pad("unit", 6, true) << "  " << Pad("role", 8, false)
          << Pad("drive", 10, false) << Pad("length", 10, true) << '\n';
  for (const json& u : *units) {
    env.out << "  " << Pad(std::to_string(IntField(u, "stripe")), 8, true)
            << Pad(std::to_string(IntField(u, "unit")), 6, true) << "  "
            << Pad(TextField(u, "role"), 8, false) << Pad(DriveField(u), 10, false)
            << Pad(std::to_string(IntField(u, "length")), 10, true) << '\n';
  }
}

// ---- clone, snapshot ----

struct CloneArgs {
  std::optional<std::string> node;
  std::optional<std::string> cluster;
  std::string source;
  std::string dest;
};

void RunClone(const Env& env, const CloneArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  ObjectRef from = ParseFileArg(env, args.source);
  ObjectRef to = ParseFileArg(env, args.dest);
  auto client = Connect(env, url);
  Result<json> clone = client->Clone(from.ToString(), to.ToString());
  FailIfError(env, clone.status());
  env.out << "cloned " << from.ToString() << " to " << to.ToString() << " (" << SizeField(*clone)
          << " bytes, shared)\n";
}

struct SnapshotArgs {
  std::optional<std::string> node;
  std::optional<std::string> cluster;
  std::string name;
  std::vector<std::string> files;
  bool json_output = false;
};

void RunSnapshotCreate(const Env& env, const SnapshotArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  auto client = Connect(env, url);
  // A member ending in '/' stands for the files under it as listed now.
  std::vector<std::string> files;
  for (const std::string& f : args.files) {
    if (f.ends_with('/')) {
      const ObjectRef prefix = ParsePrefixArg(env, f);
      const size_t before = files.size();
      ForEachListedFile(env, *client, prefix, UINT64_MAX, [&](const json& file) {
        files.push_back(prefix.ns + "/" + TextField(file, "path"));
      });
      if (files.size() == before) Fail(env, kExitFailed, "no file under " + f + " to snapshot");
    } else {
      files.push_back(ParseFileArg(env, f).ToString());
    }
  }
  Result<json> snapshot = client->CreateSnapshot(args.name, files);
  FailIfError(env, snapshot.status());
  env.out << "snapshot " << args.name << ": " << IntField(*snapshot, "files") << " files, "
          << FormatSize(static_cast<uint64_t>(IntField(*snapshot, "bytes"))) << ", taken "
          << TextField(*snapshot, "created") << "\n";
}

void RunSnapshotList(const Env& env, const SnapshotArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  auto client = Connect(env, url);
  Result<json> list = client->ListSnapshots();
  FailIfError(env, list.status());
  if (args.json_output) {
    env.out << list->dump(2) << "\n";
    return;
  }
  env.out << Pad("Name", 24, false) << Pad("Files", 8, true) << Pad("Size", 10, true)
          << "  Taken\n";
  for (const json& s : (*list)["snapshots"]) {
    env.out << Pad(TextField(s, "name"), 24, false)
            << Pad(std::to_string(IntField(s, "files")), 8, true)
            << Pad(FormatSize(static_cast<uint64_t>(IntField(s, "bytes"))), 10, true) << "  "
            << TextField(s, "created") << "\n";
  }
}

void RunSnapshotShow(const Env& env, const SnapshotArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  auto client = Connect(env, url);
  Result<json> shown = client->ShowSnapshot(args.name);
  FailIfError(env, shown.status());
  for (const json& f : (*shown)["files"]) {
    env.out << Pad(std::to_string(IntField(f, "size")), 12, true) << "  "
            << TextField(f, "modified") << "  " << TextField(f, "file") << "  (clone from "
            << TextField(f, "source") << ")\n";
  }
}

void RunSnapshotDelete(const Env& env, const SnapshotArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  auto client = Connect(env, url);
  FailIfError(env, client->DeleteSnapshot(args.name));
  env.out << "deleted snapshot " << args.name << "\n";
}

// ---- cp ----

struct CpArgs {
  std::optional<std::string> node;
  std::optional<std::string> cluster;
  std::string source;
  std::string dest;
  bool recursive = false;
  int jobs = 16;
};

struct CopyJob {
  std::string local;
  std::string path;  // in the namespace
  uint64_t size = 0;
};

struct CopyFailure {
  std::string what;  // "ns/path (from local)" or a directory
  Status status;
};

// Collects the regular files under `root` in name order (so runs are
// repeatable). Symlinks are not followed: they could loop or copy a file
// twice. Unreadable directories become failures, since their files are not
// copied.
void WalkTree(const Env& env, const fs::path& root, const ObjectRef& dest,
              std::vector<CopyJob>& jobs, std::vector<CopyFailure>& failures) {
  std::vector<fs::path> pending{root};
  while (!pending.empty()) {
    fs::path dir = std::move(pending.back());
    pending.pop_back();
    std::error_code ec;
    std::vector<fs::directory_entry> entries;
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) entries.push_back(*it);
    if (ec) {
      failures.push_back({dir.string() + "/", Status::FromErrno(ec.value(), "reading directory")});
      continue;
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path() < b.path(); });
    std::vector<fs::path> subdirs;
    for (const fs::directory_entry& entry : entries) {
      fs::file_status st = entry.symlink_status(ec);
      const std::string local = entry.path().string();
      if (ec) {
        failures.push_back({local, Status::FromErrno(ec.value(), "examining")});
      } else if (fs::is_directory(st)) {
        subdirs.push_back(entry.path());
      } else if (fs::is_symlink(st)) {
        env.err << "tessera: warning: skipping symlink " << local << '\n';
      } else if (!fs::is_regular_file(st)) {
        env.err << "tessera: warning: skipping " << local << ": not a regular file\n";
      } else {
        std::string rel = entry.path().lexically_relative(root).generic_string();
        std::string path = JoinPrefix(dest.path, rel);
        Status valid = ValidatePath(path);
        uint64_t size = entry.file_size(ec);
        if (!valid.ok()) {
          failures.push_back({local, valid});
        } else if (ec) {
          failures.push_back({local, Status::FromErrno(ec.value(), "examining")});
        } else {
          jobs.push_back({local, std::move(path), size});
        }
      }
    }
    // Reversed onto the stack so subdirectories are visited in name order.
    for (auto d = subdirs.rbegin(); d != subdirs.rend(); ++d) pending.push_back(*d);
  }
}

void RunCp(const Env& env, const CpArgs& args) {
  std::string url = ResolveNodeUrl(env, args.node, args.cluster);
  std::error_code ec;
  fs::file_status source = fs::status(args.source, ec);
  if (ec || !fs::exists(source)) {
    Fail(env, kExitFailed,
         "cannot copy " + args.source + ": " + (ec ? ec.message() : "no such file or directory"));
  }
  std::vector<CopyJob> jobs;
  std::vector<CopyFailure> failures;
  ObjectRef dest;
  if (fs::is_directory(source)) {
    if (!args.recursive) {
      Fail(env, kExitUsage,
           args.source + " is a directory; use 'tessera cp -r " + args.source + " NS/PREFIX'");
    }
    dest = ParsePrefixArg(env, args.dest);
    WalkTree(env, args.source, dest, jobs, failures);
  } else if (fs::is_regular_file(source)) {
    // Like cp(1): a destination ending in '/' (or a bare namespace) is a
    // directory to copy into.
    if (args.dest.find('/') == std::string::npos || args.dest.back() == '/') {
      dest = ParsePrefixArg(env, args.dest);
      dest.path = JoinPrefix(dest.path, fs::path(args.source).filename().string());
      FailIfError(env, ValidatePath(dest.path), kExitUsage);
    } else {
      dest = ParseFileArg(env, args.dest);
    }
    uint64_t size = fs::file_size(args.source, ec);
    jobs.push_back({args.source, dest.path, ec ? 0 : size});
  } else {
    Fail(env, kExitFailed, "cannot copy " + args.source + ": not a regular file or directory");
  }
  // Validated here so a bad URL fails once, not in every worker.
  Connect(env, url);

  uint64_t total_bytes = 0;
  for (const CopyJob& job : jobs) total_bytes += job.size;
  ProgressBar bar(ProgressBar::Options{.total_files = jobs.size() + failures.size(),
                                       .total_bytes = total_bytes,
                                       .out = &env.err,
                                       .tty = env.tty});
  bar.AddFailed(failures.size());

  std::mutex mu;  // guards failures
  std::atomic<size_t> next{0};
  auto worker = [&](size_t index) {
    // cpp-httplib servers listen with a backlog of 5: sixteen simultaneous
    // connects overflow it and the dropped SYNs cost a 1 s retransmit.
    // Staggering the first requests keeps the accept queue short.
    std::this_thread::sleep_for(std::chrono::milliseconds(2 * index));
    std::unique_ptr<NodeClient> client = std::move(NodeClient::Create(url)).value();
    for (size_t i = next++; i < jobs.size(); i = next++) {
      const CopyJob& job = jobs[i];
      // Bytes are credited as they are sent, once: a retry resends bytes
      // already counted.
      uint64_t credited = 0;
      auto progress = [&](uint64_t done, uint64_t) {
        if (done > credited) {
          bar.Add(0, done - credited);
          credited = done;
        }
      };
      Status status;
      for (int attempt = 0;; ++attempt) {
        status = client->PutFile(dest.ns, job.path, job.local, progress).status();
        if (status.ok() || status.code() != StatusCode::kUnavailable || attempt == kRetries) {
          break;
        }
        std::this_thread::sleep_for(env.retry_backoff * (1 << attempt));
      }
      if (status.ok()) {
        if (job.size > credited) bar.Add(0, job.size - credited);
        bar.Add(1, 0);
      } else {
        bar.AddFailed(1);
        std::lock_guard<std::mutex> lock(mu);
        failures.push_back({dest.ns + "/" + job.path + " (from " + job.local + ")", status});
      }
    }
  };
  const size_t workers = std::min<size_t>(static_cast<size_t>(args.jobs), jobs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < workers; ++i) threads.emplace_back(worker, i);
  for (std::thread& t : threads) t.join();
  bar.Finish();

  if (!failures.empty()) {
    // Workers finish in any order; sorted, the report is the same every run.
    std::sort(failures.begin(), failures.end(),
              [](const CopyFailure& a, const CopyFailure& b) { return a.what < b.what; });
    env.err << "tessera: " << failures.size() << (failures.size() == 1 ? " file" : " files")
            << " failed" << (failures.size() > kFailuresShown ? ", the first " : ":")
            << (failures.size() > kFailuresShown ? std::to_string(kFailuresShown) + ":" : "")
            << '\n';
    for (size_t i = 0; i < failures.size() && i < kFailuresShown; ++i) {
      env.err << "  " << failures[i].what << ": " << failures[i].status.ToString() << '\n';
    }
    throw Exit{kExitFailed};
  }
}

// Runs a command, turning its outcome into the exit-code contract.
template <typename Fn>
void RunCommand(const Env& env, Fn&& fn) {
  int code = 0;
  try {
    fn();
  } catch (const Exit& e) {
    code = e.code;
  } catch (const std::exception& e) {
    env.err << "tessera: internal error: " << e.what() << std::endl;
    code = kExitFailed;
  }
  env.out.flush();
  if (code != 0) throw CLI::RuntimeError(code);
}

CLI::App* AddCommand(CLI::App& app, const std::string& name, const std::string& summary,
                     const std::string& details) {
  CLI::App* sub = app.add_subcommand(name, summary);
  sub->footer(details + "\n\nExit status: 0 ok, 1 the operation failed, 2 usage error.");
  return sub;
}

void AddNodeOptions(CLI::App* sub, std::optional<std::string>& node,
                    std::optional<std::string>& cluster) {
  sub->add_option("--node", node, "Node to talk to, http://HOST:PORT (wins over --cluster)")
      ->type_name("URL");
  sub->add_option("--cluster", cluster,
                  "cluster.json of a cluster; any live node of it is used. Without --node or "
                  "--cluster: $TESSERA_NODE, else $TESSERA_CLUSTER, else " +
                      std::string(kDefaultClusterFile) + " if it exists, else " +
                      std::string(kDefaultNodeUrl))
      ->type_name("FILE");
}

}  // namespace

void AddClientCommands(CLI::App& app, ClientCommandOptions options) {
  auto env = std::make_shared<Env>(Env{
      options.out != nullptr ? *options.out : std::cout,
      options.err != nullptr ? *options.err : std::cerr,
      options.progress_tty.value_or(ProgressBar::StderrIsTty()),
      options.retry_backoff,
  });

  {
    auto args = std::make_shared<PutArgs>();
    CLI::App* sub = AddCommand(
        app, "put", "Upload a local file to NS/PATH",
        "Replaces any file at NS/PATH. Prints \"stored NS/PATH (SIZE bytes, sha256 HEX)\" once "
        "the node has stored it durably, after checking the sha256 the node recorded against "
        "the bytes sent.");
    AddNodeOptions(sub, args->node, args->cluster);
    sub->add_option("LOCAL", args->local, "Local file to upload")->required();
    sub->add_option("NS/PATH", args->dest, "Namespace and path to store it as")->required();
    sub->callback([env, args] { RunCommand(*env, [&] { RunPut(*env, *args); }); });
  }
  {
    auto args = std::make_shared<GetArgs>();
    CLI::App* sub = AddCommand(
        app, "get", "Download NS/PATH to a local file or stdout",
        "LOCAL '-' writes to stdout; an existing directory receives the file under its last path "
        "segment. The data goes to a temporary file that replaces LOCAL only once complete and "
        "matching the node's sha256, so a failed download leaves LOCAL as it was. A symlink "
        "stays and its target is replaced; a FIFO or device (e.g. /dev/null) is written "
        "directly, as cp does.");
    AddNodeOptions(sub, args->node, args->cluster);
    sub->add_option("NS/PATH", args->source, "Namespace and path of the file")->required();
    sub->add_option("LOCAL", args->local, "Where to write it, or - for stdout")->required();
    sub->callback([env, args] { RunCommand(*env, [&] { RunGet(*env, *args); }); });
  }
  {
    auto args = std::make_shared<LsArgs>();
    CLI::App* sub = AddCommand(
        app, "ls", "List files under NS/PREFIX",
        "Lists the files whose path starts with PREFIX, in path order, one line each: size in "
        "bytes, modified time (UTC) and path (-l adds the sha256 before the path). NS or NS/ "
        "lists the whole namespace.");
    AddNodeOptions(sub, args->node, args->cluster);
    sub->add_option("NS/PREFIX", args->prefix, "Namespace, optionally followed by /PREFIX")
        ->required();
    sub->add_option("--limit", args->limit, "List at most N files (default: all)")
        ->type_name("N")
        ->check(WholeNumber())
        ->check(CLI::Range(uint64_t{1}, std::numeric_limits<uint64_t>::max()));
    sub->add_flag("-l,--long", args->long_format, "Also show each file's sha256");
    sub->callback([env, args] { RunCommand(*env, [&] { RunLs(*env, *args); }); });
  }
  {
    auto args = std::make_shared<RmArgs>();
    CLI::App* sub = AddCommand(app, "rm", "Delete the file NS/PATH",
                               "Prints \"deleted NS/PATH\"; fails if there is no such file.");
    AddNodeOptions(sub, args->node, args->cluster);
    sub->add_option("NS/PATH", args->target, "Namespace and path of the file")->required();
    sub->callback([env, args] { RunCommand(*env, [&] { RunRm(*env, *args); }); });
  }
  {
    auto args = std::make_shared<StatArgs>();
    CLI::App* sub = AddCommand(
        app, "stat", "Show a file's metadata and where its pieces live",
        "Shows size, times, crc32c, sha256, protection policy, geometry (e.g. \"2+2 stripe, 20 "
        "stripes of 128.0k units\" or \"3x mirror\") and a table of units: stripe, unit, role "
        "(data/parity/copy), drive (node:lnum) and length.");
    AddNodeOptions(sub, args->node, args->cluster);
    sub->add_option("NS/PATH", args->target, "Namespace and path of the file")->required();
    sub->add_flag("--json", args->json_output, "Print the node's JSON record as is");
    sub->callback([env, args] { RunCommand(*env, [&] { RunStat(*env, *args); }); });
  }
  {
    auto args = std::make_shared<CloneArgs>();
    CLI::App* sub = AddCommand(
        app, "clone", "Make DEST a copy-on-write clone of SOURCE",
        "DEST shares SOURCE's stored bytes until either is written; deleting or rewriting one "
        "never changes the other. SOURCE may be any file, or a file of a snapshot: "
        "_snap/NAME/NS/PATH. Replaces any file at DEST.");
    AddNodeOptions(sub, args->node, args->cluster);
    sub->add_option("SOURCE", args->source, "NS/PATH to clone, or _snap/NAME/NS/PATH")->required();
    sub->add_option("DEST", args->dest, "NS/PATH of the clone")->required();
    sub->callback([env, args] { RunCommand(*env, [&] { RunClone(*env, *args); }); });
  }
  {
    CLI::App* snapshot =
        app.add_subcommand("snapshot", "Consistency-group snapshots of files, to clone from later");
    snapshot->require_subcommand(1);
    auto create_args = std::make_shared<SnapshotArgs>();
    CLI::App* create = AddCommand(
        *snapshot, "create", "Snapshot FILE... together as NAME",
        "Takes every FILE at one moment (a file rewritten meanwhile makes it try again) and "
        "shares their bytes: the snapshot costs no copy. A FILE ending in '/' stands for every "
        "file under that prefix when the command lists it (an image's bytes: "
        "images/data/ID/). Clone from it with `tessera clone _snap/NAME/NS/PATH DEST`.");
    AddNodeOptions(create, create_args->node, create_args->cluster);
    create->add_option("NAME", create_args->name, "Snapshot name (A-Z a-z 0-9 . _ -)")->required();
    create->add_option("FILE", create_args->files, "NS/PATH of each file, or NS/PREFIX/")
        ->required();
    create->callback(
        [env, create_args] { RunCommand(*env, [&] { RunSnapshotCreate(*env, *create_args); }); });
    auto list_args = std::make_shared<SnapshotArgs>();
    CLI::App* list = AddCommand(*snapshot, "list", "Every snapshot: name, files, size, when",
                                "Sizes are the files' logical sizes; the bytes are shared.");
    AddNodeOptions(list, list_args->node, list_args->cluster);
    list->add_flag("--json", list_args->json_output, "Print the node's JSON");
    list->callback(
        [env, list_args] { RunCommand(*env, [&] { RunSnapshotList(*env, *list_args); }); });
    auto show_args = std::make_shared<SnapshotArgs>();
    CLI::App* show = AddCommand(*snapshot, "show", "The files of snapshot NAME",
                                "One line per file: size, modified time, NS/PATH and the "
                                "source to clone it from.");
    AddNodeOptions(show, show_args->node, show_args->cluster);
    show->add_option("NAME", show_args->name, "Snapshot name")->required();
    show->callback(
        [env, show_args] { RunCommand(*env, [&] { RunSnapshotShow(*env, *show_args); }); });
    auto delete_args = std::make_shared<SnapshotArgs>();
    CLI::App* del = AddCommand(*snapshot, "delete", "Delete snapshot NAME",
                               "Clones made from it stay; shared bytes are freed by the "
                               "ShadowStoreDelete job once nothing refers to them.");
    AddNodeOptions(del, delete_args->node, delete_args->cluster);
    del->add_option("NAME", delete_args->name, "Snapshot name")->required();
    del->callback(
        [env, delete_args] { RunCommand(*env, [&] { RunSnapshotDelete(*env, *delete_args); }); });
  }
  {
    auto args = std::make_shared<CpArgs>();
    CLI::App* sub = AddCommand(
        app, "cp", "Upload a file, or with -r a directory tree, concurrently",
        "A file goes to NS/PATH (or into NS/PREFIX/ if DEST ends with '/'). With -r, the "
        "directory's regular files go to NS/PREFIX/<path under SOURCE>, JOBS at a time, each "
        "worker with its own connection; symlinks and special files are skipped with a warning. "
        "A file the node cannot take because it is unreachable or short of healthy drives is "
        "retried up to 3 times. Shows progress and a summary (files, bytes, seconds, files/s, "
        "MB/s, failures) on stderr and exits 1 if any file failed, listing the first failures.");
    AddNodeOptions(sub, args->node, args->cluster);
    sub->add_option("SOURCE", args->source, "Local file, or directory with -r")->required();
    sub->add_option("DEST", args->dest, "NS/PATH for a file, NS/PREFIX for a directory")
        ->required();
    sub->add_flag("-r,--recursive", args->recursive, "Copy a directory and everything under it");
    sub->add_option("-j,--jobs", args->jobs, "Concurrent uploads")
        ->type_name("JOBS")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    sub->callback([env, args] { RunCommand(*env, [&] { RunCp(*env, *args); }); });
  }
}

int ParseAndRun(CLI::App& app, int argc, const char* const* argv) {
  return ParseAndRun(app, argc, argv, std::cout, std::cerr);
}

int ParseAndRun(CLI::App& app, int argc, const char* const* argv, std::ostream& out,
                std::ostream& err) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    // Help and version requests exit 0; everything else CLI11 throws is a
    // usage error, whatever code CLI11 would give it.
    return app.exit(e, out, err) == 0 ? 0 : kExitUsage;
  }
  return 0;
}

}  // namespace tessera::cli
