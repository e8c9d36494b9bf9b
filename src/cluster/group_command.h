// `tessera group`: reads and writes the group notation (group_notation.h).
//
//   tessera group --parse STRING      prints the group's meaning as JSON
//   tessera group --canonical STRING  prints the group in canonical form
//
// Without a flag it would print the live group, which needs a running
// cluster; for now that is a usage error. Exit status (in *exit_code):
// 0 ok, 1 the string is not a valid group ("tessera: at byte N: ..." on
// `err`), 2 usage error.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster {

// `out` and `err` default to std::cout and std::cerr.
void AddGroupCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                      std::ostream* err = nullptr);

}  // namespace tessera::cluster
