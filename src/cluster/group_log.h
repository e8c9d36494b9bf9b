// Reading group changes out of node logs, for `tessera timeline LOG...`.
//
// A node logs every group change as one line (docs/group.md):
//
//   <time> [<zone>] ... [node=<array id>] ... new group: <notation>
//
// e.g. "2026-11-21T21:00:00.250Z node=3 gmp: new group: { 1-3:0-11, down: 4 }".
// <time> is the line's first token, YYYY-MM-DDTHH:MM:SS with optional
// fraction and zone (Z or +HH:MM/-HH:MM, attached or as the next token; none
// means UTC); "YYYY-MM-DD-THH:MM:SS" (as OneFS writes it) is accepted too.
// Lines without "new group: " are ignored; a line with it that does not parse
// is an error naming the line number.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/group_state.h"
#include "cluster/timeline.h"
#include "common/status.h"

namespace tessera::cluster {

// Milliseconds since the Unix epoch, UTC.
Result<int64_t> ParseLogTime(std::string_view text);
// "YYYY-MM-DDTHH:MM:SS", plus ".mmm" when the milliseconds are not zero; UTC.
std::string FormatLogTime(int64_t ms);

struct LoggedGroup {
  int64_t time_ms = 0;           // as logged, before any clock correction
  std::optional<uint32_t> node;  // from "node=<id>", if present
  GroupState group;
};

Result<std::vector<LoggedGroup>> ParseGroupLog(std::string_view text);

// Merges the groups of several logs into one event sequence for
// BuildTimeline. Each group's time is corrected by adding
// offset_ms_of_node[node] (a node's clock that runs 2 s fast needs -2000);
// groups are then ordered by corrected time (ties keep input order), and a
// group that means the same as the one kept before it, ignoring the sequence
// stamp, is dropped: that is the same change seen by another node.
std::vector<GroupEvent> MergeGroupLogs(const std::vector<std::vector<LoggedGroup>>& logs,
                                       const std::map<uint32_t, int64_t>& offset_ms_of_node);

}  // namespace tessera::cluster
