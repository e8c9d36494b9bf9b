// Runs CLI11 subcommands in-process for tests: registers them on a fresh
// app with captured output, parses `args` and reports the exit code the
// binary would give (a usage error is 2, as cli::ParseAndRun makes it).
#pragma once

#include <CLI/CLI.hpp>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace tessera::testing {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

// The shape of every Add*Command(app, exit_code, out, err) of the binary.
using AddCommandsFn =
    std::function<void(CLI::App&, std::shared_ptr<int>, std::ostream*, std::ostream*)>;

inline CliRun RunCli(const AddCommandsFn& add, std::vector<std::string> args) {
  CLI::App app{"test"};
  app.require_subcommand(1);
  auto exit_code = std::make_shared<int>(0);
  std::ostringstream out, err;
  add(app, exit_code, &out, &err);
  args.insert(args.begin(), "tessera");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  CliRun run;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    run.code = *exit_code;
  } catch (const CLI::ParseError& e) {
    run.code = app.exit(e, out, err) == 0 ? 0 : 2;
  }
  run.out = out.str();
  run.err = err.str();
  return run;
}

// The whole file, or "" when it cannot be read.
inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace tessera::testing
