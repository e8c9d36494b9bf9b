// tessera: one executable, one subcommand per role or admin verb.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "cluster/admin/admin_commands.h"
#include "cluster/config/config_command.h"
#include "cluster/local/up_command.h"
#include "cluster/timeline_command.h"
#include "images/images_command.h"
#include "node/node_command.h"
#include "rpc/runtime_setup.h"

int main(int argc, char** argv) {
  // A peer closing a socket must surface as an error value, not kill us.
  signal(SIGPIPE, SIG_IGN);
  tessera::rpc::SetUpRpcRuntime();
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  CLI::App app{"Tessera: a scale-out storage cluster with erasure-coded protection"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  auto exit_code = std::make_shared<int>(0);
  tessera::node::AddNodeCommand(app, exit_code);
  tessera::cli::AddClientCommands(app);
  // group, nodes, status, devices: the verbs over cluster state in etcd.
  tessera::cluster::admin::AddAdminCommands(app, exit_code);
  tessera::cluster::AddTimelineCommand(app, exit_code);
  tessera::cluster::config::AddConfigCommand(app, exit_code);
  tessera::cluster::local::AddUpDownCommands(app, exit_code);
  tessera::images::AddImagesCommand(app, exit_code);
  int code = tessera::cli::ParseAndRun(app, argc, argv);
  return code != 0 ? code : *exit_code;
}
