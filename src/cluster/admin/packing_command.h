// `tessera packing`: the cluster's small-file packing settings
// (docs/packing.md, "Settings and file pool policies").
//
//   tessera packing --ls
//       the settings as the SmartPools job uses them (FormatPackingSettings)
//   tessera packing set [--enabled BOOL] [--max-size SIZE] [--min-age DURATION]
//                       [--dir-hint-max-entries N] [--container-min-size SIZE]
//                       [--container-max-size SIZE] [--unpack-recently-modified BOOL]
//       validates every given value (alone, and against the others:
//       ValidatePackingSettings), then writes them through the config store
//       as `tessera config set` does and prints the new listing. A bad value
//       changes nothing. Nodes use the new values after `tessera config apply`.
//
// Every verb takes --cluster FILE (admin_context.h). Exit status (in
// *exit_code): 0 ok; 1 no cluster file, etcd unreachable, a value refused
// ("tessera: ..." on `err`); 2 usage error.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::admin {

// `out` and `err` default to std::cout and std::cerr.
void AddPackingCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                       std::ostream* err = nullptr);

}  // namespace tessera::cluster::admin
