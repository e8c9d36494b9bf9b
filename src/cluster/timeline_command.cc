#include "cluster/timeline_command.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cluster/group_log.h"
#include "cluster/timeline.h"

namespace tessera::cluster {
namespace {

struct TimelineFlags {
  std::string events;
  std::vector<std::string> logs;
  std::vector<std::string> offsets;
  std::vector<std::string> lnns;
};

bool ReadFile(const std::string& path, std::string& contents, std::ostream& err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err << "tessera: cannot read " << path << ": " << std::strerror(errno) << "\n";
    return false;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    err << "tessera: cannot read " << path << ": " << std::strerror(errno) << "\n";
    return false;
  }
  contents = buffer.str();
  return true;
}

std::optional<uint32_t> ParseNodeId(const std::string& text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint32_t id = static_cast<uint32_t>(std::stoul(text));
  if (id < 1 || id > kMaxNodeId) return std::nullopt;
  return id;
}

// "NODE=VALUE" with a node id on the left.
bool SplitAssignment(const std::string& text, uint32_t& node, std::string& value) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) return false;
  std::optional<uint32_t> id = ParseNodeId(text.substr(0, eq));
  if (!id) return false;
  node = *id;
  value = text.substr(eq + 1);
  return !value.empty();
}

int PrintTimeline(const Result<std::vector<std::string>>& lines, const std::string& source,
                  std::ostream& out, std::ostream& err) {
  if (!lines.ok()) {
    err << "tessera: " << source << ": " << lines.status().message() << "\n";
    return 1;
  }
  for (const std::string& line : *lines) out << line << "\n";
  return 0;
}

int RunFromEvents(const std::string& path, std::ostream& out, std::ostream& err) {
  std::string text;
  if (!ReadFile(path, text, err)) return 1;
  Result<TimelineInput> input = ParseTimelineEvents(text);
  if (!input.ok()) {
    err << "tessera: " << path << ": " << input.status().message() << "\n";
    return 1;
  }
  return PrintTimeline(BuildTimeline(input->events, input->lnn_of_array_id, input->observer), path,
                       out, err);
}

int RunFromLogs(const TimelineFlags& flags, std::ostream& out, std::ostream& err) {
  std::map<uint32_t, int64_t> offsets;
  for (const std::string& text : flags.offsets) {
    uint32_t node;
    std::string value;
    char* end = nullptr;
    double seconds = 0;
    if (SplitAssignment(text, node, value)) seconds = std::strtod(value.c_str(), &end);
    if (end == nullptr || *end != '\0' || !std::isfinite(seconds) || std::fabs(seconds) > 1e9) {
      err << "tessera: --offset '" << text << "' is not NODE=SECONDS (e.g. 3=-1.5)\n";
      return 2;
    }
    offsets[node] = std::llround(seconds * 1000);
  }
  std::map<uint32_t, uint32_t> lnns;
  for (const std::string& text : flags.lnns) {
    uint32_t node;
    std::string value;
    std::optional<uint32_t> lnn;
    if (SplitAssignment(text, node, value)) lnn = ParseNodeId(value);
    if (!lnn) {
      err << "tessera: --lnn '" << text << "' is not ARRAY_ID=LNN (e.g. 9=6)\n";
      return 2;
    }
    lnns[node] = *lnn;
  }
  std::vector<std::vector<LoggedGroup>> logs;
  for (const std::string& path : flags.logs) {
    std::string text;
    if (!ReadFile(path, text, err)) return 1;
    Result<std::vector<LoggedGroup>> log = ParseGroupLog(text);
    if (!log.ok()) {
      err << "tessera: " << path << ": " << log.status().message() << "\n";
      return 1;
    }
    logs.push_back(std::move(log).value());
  }
  return PrintTimeline(BuildTimeline(MergeGroupLogs(logs, offsets), lnns, std::nullopt), "logs",
                       out, err);
}

int RunTimeline(const TimelineFlags& flags, std::ostream& out, std::ostream& err) {
  if (flags.events.empty() == flags.logs.empty()) {
    err << "tessera: timeline: give either --events FILE.json or one or more LOG files\n";
    return 2;
  }
  if (!flags.events.empty()) {
    if (!flags.offsets.empty() || !flags.lnns.empty()) {
      err << "tessera: timeline: --offset and --lnn apply to LOG files, not --events\n";
      return 2;
    }
    return RunFromEvents(flags.events, out, err);
  }
  return RunFromLogs(flags, out, err);
}

}  // namespace

void AddTimelineCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out,
                        std::ostream* err) {
  auto flags = std::make_shared<TimelineFlags>();
  CLI::App* timeline = app.add_subcommand(
      "timeline", "Print when nodes went down and came back, from group changes");
  timeline->add_option("logs", flags->logs,
                       "Node logs with '<time> ... new group: <notation>' lines (docs/group.md)");
  timeline->add_option("--events", flags->events,
                       "JSON file of group changes: {\"events\": [{\"time\", \"kind\", "
                       "\"group\"}], \"lnn_of_array_id\": {...}, \"observer_array_id\": N}");
  timeline
      ->add_option("--offset", flags->offsets,
                   "NODE=SECONDS: add SECONDS to the times node NODE (node=<id> in its log "
                   "lines) logged, to correct its clock; repeatable")
      ->allow_extra_args(false);  // one value each: a LOG after it is a LOG
  timeline->add_option("--lnn", flags->lnns, "ARRAY_ID=LNN: name that node by LNN; repeatable")
      ->allow_extra_args(false);
  timeline->callback([flags, exit_code, out, err] {
    *exit_code = RunTimeline(*flags, out ? *out : std::cout, err ? *err : std::cerr);
  });
}

}  // namespace tessera::cluster
