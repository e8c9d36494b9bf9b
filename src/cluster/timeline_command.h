// `tessera timeline`: prints the outage timeline (timeline.h), one line per
// change, from either
//
//   tessera timeline --events FILE.json
//       an events file (timeline.h, ParseTimelineEvents), or
//   tessera timeline LOG... [--offset NODE=SECONDS]... [--lnn ID=LNN]...
//       node logs (group_log.h), merged: NODE's timestamps get SECONDS added
//       (its clock ran that much behind), the same change logged by several
//       nodes is printed once, nodes are named by LNN where --lnn says so.
//
// Exit status (in *exit_code): 0 ok, 1 a file cannot be read or is invalid
// ("tessera: ..." on `err`), 2 usage error.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster {

// `out` and `err` default to std::cout and std::cerr.
void AddTimelineCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                        std::ostream* err = nullptr);

}  // namespace tessera::cluster
