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
};

int RunGroup(const GroupFlags& flags, std::ostream& out, std::ostream& err) {
  if (!flags.parse && !flags.canonical) {
    err << "tessera: group: showing the live group needs a running cluster, which this build "
           "cannot reach yet; use --parse STRING or --canonical STRING\n";
    return 2;
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
                      std::ostream* err) {
  auto flags = std::make_shared<GroupFlags>();
  CLI::App* group = app.add_subcommand(
      "group",
      "Parse or print a cluster group in the OneFS notation, e.g. "
      "'<3,6>: { 1-2:0-11, 3:0-3,5-11, down: 3:4 }'. Without a flag it shows the live "
      "group, which needs a running cluster (not available yet: exits 2)");
  CLI::Option* parse =
      group->add_option("--parse", flags->parse, "Print the meaning of a group string as JSON");
  CLI::Option* canonical =
      group->add_option("--canonical", flags->canonical, "Print a group string in canonical form");
  parse->excludes(canonical);
  group->callback([flags, exit_code, out, err] {
    *exit_code = RunGroup(*flags, out ? *out : std::cout, err ? *err : std::cerr);
  });
}

}  // namespace tessera::cluster
