// The OneFS-style group notation, e.g.
//
//   <3,6>: { 1-2:0-11, 3:0-3,5-11, down: 3:4, soft_failed: 3:4, diskless: 4, smb: 1-3 }
//
// ParseGroupNotation reads it into a GroupState; FormatGroupNotation writes
// the canonical form; GroupToJson gives the structured view that
// `tessera group --parse` prints. docs/group.md has the grammar.
//
// Parsing is pure and total: any byte string either yields a GroupState or an
// InvalidArgument whose message names the 0-based byte offset and what was
// expected there ("at byte 14: expected a node id"). Entries of the group are
// separated by ',' plus whitespace, ids inside one set by a bare ','.
//
// For every GroupState s whose services all have nodes and whose device
// references use ids within kMaxNodeId/kMaxDriveLnum,
// ParseGroupNotation(FormatGroupNotation(s)) == s.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cluster/group_state.h"
#include "common/status.h"

namespace tessera::cluster {

Result<GroupState> ParseGroupNotation(std::string_view text);

// Canonical form: the sequence prefix ("<i,s>: " or "<cookie> (g): ", none
// when there is no sequence), then "{ ", the entries joined by ", ", " }"
// ("{ }" when there are none). Members come first in id order, consecutive
// members with the same drive set sharing one entry ("1-3:0-11", "2,4:0-5",
// "6-8" for diskless members); then down, soft_failed, dead, stalled (in
// list order, adjacent references to ascending nodes with the same drives
// sharing one entry), read_only, diskless, and the services in order.
// Empty lists, sets and services are left out.
std::string FormatGroupNotation(const GroupState& state);

// {"sequence": null | {"initiator", "serial"} | {"cookie", "generation"},
//  "members": {"<id>": "<drive set>", ...},
//  then, only when non-empty: "down", "soft_failed", "dead", "stalled" as
//  lists of "node" / "node:drives" strings, "read_only" and "diskless" as
//  set strings, "services" as {"name": "<node set>"} in order}.
nlohmann::ordered_json GroupToJson(const GroupState& state);

}  // namespace tessera::cluster
