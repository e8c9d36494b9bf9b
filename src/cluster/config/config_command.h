// `tessera config`: reads and writes the shared configuration (docs/config.md).
//
//   tessera config list
//       every setting of the registry: name, type, kind, default, help
//   tessera config get [NAME] --config URI [--host ARRAY_ID]
//       the effective value of NAME (or of every setting) and where it came from
//   tessera config set NAME VALUE --config URI [--host ARRAY_ID]
//       validates and writes; NAME may be "shared/<id>"; VALUE may be "@ref:<key>"
//   tessera config unset NAME --config URI [--host ARRAY_ID]
//   tessera config apply --config URI
//       bumps the update key so nodes re-read their settings
//   tessera config feedback --config URI
//       every node's feedback for the last update it handled
//
// Instead of --config URI every verb takes --cluster FILE (default
// $TESSERA_CLUSTER, then ./var/cluster.json) and uses that cluster's URI.
//
// Exit status (in *exit_code): 0 ok, 1 refused or etcd failed ("tessera: ..."
// on `err`), 2 usage error (bad URI, unknown setting, bad array id).
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::config {

// `out` and `err` default to std::cout and std::cerr.
void AddConfigCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                      std::ostream* err = nullptr);

}  // namespace tessera::cluster::config
