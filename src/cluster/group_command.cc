#include "cluster/group_command.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "cluster/group_notation.h"

namespace tessera::cluster {
namespace {

struct GroupFlags {
  std::optional<std::string> parse;
  std::optional<std::string> canonical;
  LiveGroupRequest live;
};

int RunGroup(const GroupFlags& flags, const LiveGroupRunner& live, std::ostream& out,
             std::ostream& err) {
  if (!flags.parse && !flags.canonical) {
    if (!live) {
      err << "tessera: group: this build cannot read the live group; use --parse STRING or "
             "--canonical STRING\n";
      return 2;
    }
    return live(flags.live, out, err);
  }
  const std::string& text = flags.parse ? *flags.parse : *flags.canonical;
  Result<GroupState> state = ParseGroupNotation(text);
  if (!state.ok()) {
    err << "tessera: not a group: " << state.status().message() << "\n";
    return 1;
  }
  if (flags.parse) {
    out << GroupToJson(*state).dump(2) << "\n";
  } else {
    out << FormatGroupNotation(*state) << "\n";
  }
  return 0;
}

}  // namespace

void AddGroupCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out,
                      std::ostream* err, LiveGroupRunner live) {
  auto flags = std::make_shared<GroupFlags>();
  CLI::App* group = app.add_subcommand(
      "group",
      "Print the cluster's current group from etcd, e.g. '<1,57>: { 1-2:0-11, down: 3 }' "
      "(sequence <initiator,epoch>), or parse a group string in the OneFS notation");
  CLI::Option* parse =
      group->add_option("--parse", flags->parse, "Print the meaning of a group string as JSON");
  CLI::Option* canonical =
      group->add_option("--canonical", flags->canonical, "Print a group string in canonical form");
  CLI::Option* cluster =
      group->add_option("--cluster", flags->live.cluster_file,
                        "Cluster file (default: $TESSERA_CLUSTER, then ./var/cluster.json)");
  CLI::Option* json =
      group->add_flag("--json", flags->live.json, "Print the current group's meaning as JSON");
  parse->excludes(canonical);
  for (CLI::Option* live_only : {cluster, json}) {
    live_only->excludes(parse);
    live_only->excludes(canonical);
  }
  group->callback([flags, exit_code, out, err, live] {
    *exit_code = RunGroup(*flags, live, out ? *out : std::cout, err ? *err : std::cerr);
  });
}

}  // namespace tessera::cluster
