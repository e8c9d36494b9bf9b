// A timeline of node outages, built from the successive groups one node saw.
//
// Each GroupEvent is a group change as one node recorded it. BuildTimeline
// compares each event with the one before it; the first event is the
// baseline and yields no line. A node counts as down while the group names it
// as a whole node in its `down` list. Every event that changes that set
// yields one line:
//
//   "<time> <nodes> up, <nodes> down, <nodes> removed (<nodes> still down)"
//
// "up" lists nodes that left the down list and are members again, "down"
// nodes newly on it, "removed" nodes that left the down list without
// rejoining; parts with no nodes are left out. Nodes are named by LNN via
// lnn_of_array_id (an id missing from the map is shown as its array id),
// sorted by that number and joined by ", ". The parenthesis lists the nodes
// down before and after the event; when there are none it reads
// "(none down)" if nothing is down after the event, and is left out if the
// line itself takes nodes down. Drive-level changes and changes of
// membership, services or flags that leave the down set as it was yield no
// line. Example (from the 15-node test data):
//
//   2020-06-15T06:44:58 2, 9 down (6 still down)
//   2020-06-15T06:56:10 12 up (none down)
//   2020-06-15T06:59:54 10 down
//
// If `observer` is set, it must be a member of every event's group (a node
// always belongs to the groups it records); otherwise InvalidArgument.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/group_state.h"
#include "common/status.h"

namespace tessera::cluster {

struct GroupEvent {
  std::string time;  // printed as given; events must already be in order
  std::string kind;  // e.g. "merge", "split"; informational
  GroupState group;
};

Result<std::vector<std::string>> BuildTimeline(const std::vector<GroupEvent>& events,
                                               const std::map<uint32_t, uint32_t>& lnn_of_array_id,
                                               std::optional<uint32_t> observer);

// The events file that `tessera timeline --events` reads:
//   {"observer_array_id": 20,               (optional)
//    "lnn_of_array_id": {"1": 1, ...},      (optional)
//    "events": [{"time": "...", "kind": "...", "group": "<notation>"}, ...]}
// Other keys are ignored. Errors name the event and, for a bad group, the
// byte position within it.
struct TimelineInput {
  std::vector<GroupEvent> events;
  std::map<uint32_t, uint32_t> lnn_of_array_id;
  std::optional<uint32_t> observer;
};
Result<TimelineInput> ParseTimelineEvents(std::string_view json_text);

}  // namespace tessera::cluster
