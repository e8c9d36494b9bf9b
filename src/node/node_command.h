// `tessera node`: runs a storage node until SIGINT or SIGTERM.
#pragma once

#include <memory>

namespace CLI {
class App;
}

namespace tessera::node {

// Registers the subcommand; when it runs, its exit status lands in *exit_code.
void AddNodeCommand(CLI::App& app, std::shared_ptr<int> exit_code);

}  // namespace tessera::node
