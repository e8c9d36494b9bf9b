// `tessera images`: serves the OpenStack Image API v2 until SIGINT or
// SIGTERM, keeping every image in the cluster it reaches through --node or
// --cluster (as the data verbs do, cli/node_resolver.h).
#pragma once

#include <memory>

namespace CLI {
class App;
}

namespace tessera::images {

// Registers the subcommand; when it runs, its exit status lands in *exit_code.
void AddImagesCommand(CLI::App& app, std::shared_ptr<int> exit_code);

}  // namespace tessera::images
