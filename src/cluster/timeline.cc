#include "cluster/timeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cluster/group_notation.h"

namespace tessera::cluster {
namespace {

// Names `nodes` by LNN where known, sorted by that number: "1, 2, 9".
std::string NodeList(const std::vector<uint32_t>& nodes,
                     const std::map<uint32_t, uint32_t>& lnn_of_array_id) {
  std::vector<uint32_t> names;
  for (uint32_t node : nodes) {
    auto it = lnn_of_array_id.find(node);
    names.push_back(it == lnn_of_array_id.end() ? node : it->second);
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (uint32_t name : names) {
    if (!out.empty()) out += ", ";
    out += std::to_string(name);
  }
  return out;
}

Result<uint32_t> ParseId(const std::string& text, std::string_view what) {
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::InvalidArgument(std::string(what) + " '" + text + "' is not a number");
  }
  return static_cast<uint32_t>(std::stoul(text));
}

}  // namespace

Result<std::vector<std::string>> BuildTimeline(const std::vector<GroupEvent>& events,
                                               const std::map<uint32_t, uint32_t>& lnn_of_array_id,
                                               std::optional<uint32_t> observer) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < events.size(); ++i) {
    const GroupEvent& event = events[i];
    if (observer && event.group.members.count(*observer) == 0) {
      return Status::InvalidArgument("event " + std::to_string(i) + " at " + event.time +
                                     ": observer array id " + std::to_string(*observer) +
                                     " is not a member of the group it recorded");
    }
    if (i == 0) continue;
    const GroupState& before = events[i - 1].group;
    std::vector<uint32_t> down_before = before.NodesDown().ToVector();
    IdSet down_after_set = event.group.NodesDown();
    std::vector<uint32_t> down_after = down_after_set.ToVector();
    std::vector<uint32_t> went_up, went_down, removed, still_down;
    for (uint32_t node : down_before) {
      if (down_after_set.Contains(node)) {
        still_down.push_back(node);
      } else if (event.group.members.count(node) != 0) {
        went_up.push_back(node);
      } else {
        removed.push_back(node);
      }
    }
    std::set_difference(down_after.begin(), down_after.end(), down_before.begin(),
                        down_before.end(), std::back_inserter(went_down));
    if (went_up.empty() && went_down.empty() && removed.empty()) continue;
    std::string line = event.time;
    std::string separator = " ";
    for (const auto& [nodes, verb] : {std::pair{&went_up, " up"}, std::pair{&went_down, " down"},
                                      std::pair{&removed, " removed"}}) {
      if (nodes->empty()) continue;
      line += separator + NodeList(*nodes, lnn_of_array_id) + verb;
      separator = ", ";
    }
    if (!still_down.empty()) {
      line += " (" + NodeList(still_down, lnn_of_array_id) + " still down)";
    } else if (went_down.empty()) {
      line += " (none down)";
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

Result<TimelineInput> ParseTimelineEvents(std::string_view json_text) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("events file is not valid JSON");
  if (!doc.is_object()) return Status::InvalidArgument("events file must be a JSON object");
  TimelineInput input;
  if (doc.contains("observer_array_id")) {
    const nlohmann::json& observer = doc["observer_array_id"];
    if (!observer.is_number_unsigned()) {
      return Status::InvalidArgument("observer_array_id must be a non-negative integer");
    }
    input.observer = observer.get<uint32_t>();
  }
  if (doc.contains("lnn_of_array_id")) {
    const nlohmann::json& map = doc["lnn_of_array_id"];
    if (!map.is_object()) return Status::InvalidArgument("lnn_of_array_id must be an object");
    for (const auto& [key, value] : map.items()) {
      ASSIGN_OR_RETURN(uint32_t id, ParseId(key, "lnn_of_array_id key"));
      if (!value.is_number_unsigned()) {
        return Status::InvalidArgument("lnn_of_array_id[" + key + "] must be a number");
      }
      input.lnn_of_array_id[id] = value.get<uint32_t>();
    }
  }
  if (!doc.contains("events") || !doc["events"].is_array()) {
    return Status::InvalidArgument("events file needs an \"events\" array");
  }
  size_t index = 0;
  for (const nlohmann::json& item : doc["events"]) {
    std::string where = "event " + std::to_string(index++);
    if (!item.is_object() || !item.contains("time") || !item["time"].is_string() ||
        !item.contains("group") || !item["group"].is_string()) {
      return Status::InvalidArgument(where + ": needs string fields \"time\" and \"group\"");
    }
    GroupEvent event;
    event.time = item["time"].get<std::string>();
    if (item.contains("kind") && item["kind"].is_string()) event.kind = item["kind"];
    Result<GroupState> group = ParseGroupNotation(item["group"].get<std::string>());
    if (!group.ok()) return group.status().WithContext(where + " group");
    event.group = std::move(group).value();
    input.events.push_back(std::move(event));
  }
  return input;
}

}  // namespace tessera::cluster
