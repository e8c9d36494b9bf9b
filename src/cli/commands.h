// The operator verbs of the `tessera` binary that talk to a node over its
// HTTP API: put, get, ls, rm, stat and cp.
//
// AddClientCommands registers them as CLI11 subcommands of `app`. Each takes
// --node URL or --cluster FILE (node_resolver.h: then $TESSERA_NODE,
// $TESSERA_CLUSTER, ./var/cluster.json, http://127.0.0.1:8080). A
// subcommand's callback runs the command; when it fails it has already
// printed "tessera: <why>" on stderr and throws CLI::RuntimeError(code), with
// code 1 when the operation failed and 2 when an argument is malformed (a bad
// NS/PATH, node URL or cluster file; no live node of a cluster is 1).
// CLI::App::exit() returns that code and prints nothing more, so the stock
// CLI11_PARSE works; ParseAndRun below also maps CLI11's
// own usage errors (exit codes 100+) to 2, giving the documented contract:
//
//   0 ok, 1 the operation failed, 2 usage error.
//
//   int main(int argc, char** argv) {
//     CLI::App app{"Tessera storage cluster"};
//     app.require_subcommand(1);
//     tessera::cli::AddClientCommands(app);
//     ... other subcommands ...
//     return tessera::cli::ParseAndRun(app, argc, argv);
//   }
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>

namespace CLI {
class App;
}

namespace tessera::cli {

// Injection points for tests; the defaults are what the binary wants.
struct ClientCommandOptions {
  std::ostream* out = nullptr;  // results; nullptr: std::cout
  std::ostream* err = nullptr;  // errors, warnings, progress; nullptr: std::cerr
  std::optional<bool> progress_tty = std::nullopt;  // redraw progress in place; nullopt: isatty(2)
  // cp waits this long before the first retry of a file, doubling each time.
  std::chrono::milliseconds retry_backoff{500};
};

void AddClientCommands(CLI::App& app, ClientCommandOptions options = {});

// Parses argv and runs the chosen subcommand's callback. Returns the exit
// code: 0 ok (including --help), 1 the operation failed, 2 usage error (CLI11
// prints what and "Run with --help" on `err`).
int ParseAndRun(CLI::App& app, int argc, const char* const* argv);
int ParseAndRun(CLI::App& app, int argc, const char* const* argv, std::ostream& out,
                std::ostream& err);

}  // namespace tessera::cli
