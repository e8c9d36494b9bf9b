// `tessera devices node`: sets or clears a node's persistent states
// (device_state.h), which the group proposer folds into the group.
//
//   tessera devices node smartfail ID [--clear] [--cluster FILE]   soft_failed
//   tessera devices node readonly  ID [--clear] [--cluster FILE]   read_only
//   tessera devices node dead      ID [--clear] [--cluster FILE]   dead
//
// Each changes one flag of states/<ID> and keeps the others, by
// compare-and-swap (node_state_change.h); --clear takes the flag off again.
// On success it prints the node's states, e.g.
// "node 3 states: soft_failed, read_only (was: read_only)".
//
// Exit status (in *exit_code): 0 ok; 1 no cluster file, etcd unreachable,
// node not registered ("tessera: ..." on `err`); 2 usage error.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::admin {

// `out` and `err` default to std::cout and std::cerr.
void AddDevicesCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                       std::ostream* err = nullptr);

}  // namespace tessera::cluster::admin
