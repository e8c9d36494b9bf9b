#include "cluster/admin/devices_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cluster/admin/admin_context.h"
#include "cluster/admin/node_state_change.h"
#include "cluster/group_state.h"
#include "cluster/whole_number.h"

namespace tessera::cluster::admin {
namespace {

struct StateFlags {
  std::string cluster;
  uint32_t id = 0;
  bool clear = false;
};

int RunSetState(const StateFlags& flags, PersistentFlag flag, std::ostream& out,
                std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  // Read first only to say what changed; the update itself is a CAS.
  Result<GetResult> before =
      ctx->client->Get(ClusterPrefix(ctx->file.cluster) + "states/" + std::to_string(flags.id));
  if (!before.ok()) return Fail(err, EtcdFailure(ctx->file, before.status()));
  Result<PersistentNodeState> now =
      UpdatePersistentFlag(ctx->client.get(), ctx->file.cluster, flags.id, flag, !flags.clear);
  if (!now.ok()) {
    if (now.status().code() == StatusCode::kNotFound) {
      return Fail(err, now.status().message() + " in cluster " + ctx->file.cluster);
    }
    return Fail(err, EtcdFailure(ctx->file, now.status()));
  }
  PersistentNodeState was;
  if (before->kv) {
    Result<PersistentNodeState> parsed = ParsePersistentState(before->kv->value);
    if (parsed.ok()) was = *parsed;
  }
  out << "node " << flags.id << " states: " << DescribePersistentState(*now)
      << " (was: " << DescribePersistentState(was) << ")\n";
  return kExitOk;
}

}  // namespace

void AddDevicesCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out_arg,
                       std::ostream* err_arg) {
  std::ostream* out = out_arg ? out_arg : &std::cout;
  std::ostream* err = err_arg ? err_arg : &std::cerr;
  CLI::App* devices = app.add_subcommand("devices", "Change the persistent states of devices");
  devices->require_subcommand(1);
  CLI::App* node = devices->add_subcommand(
      "node", "Set (or --clear) a node's soft_failed, read_only or dead state in etcd");
  node->require_subcommand(1);

  struct Verb {
    const char* name;
    PersistentFlag flag;
    const char* help;
  };
  const Verb verbs[] = {
      {"smartfail", PersistentFlag::kSoftFailed,
       "Mark the node soft_failed: it takes no new data and FlexProtect moves its data off"},
      {"readonly", PersistentFlag::kReadOnly,
       "Mark the node read_only: its drives take no new data"},
      {"dead", PersistentFlag::kDead, "Mark the node dead: it is not expected back"},
  };
  for (const Verb& verb : verbs) {
    auto flags = std::make_shared<StateFlags>();
    CLI::App* cmd = node->add_subcommand(verb.name, verb.help);
    cmd->add_option("id", flags->id, "Array id of the node")
        ->required()
        ->check(WholeNumber())
        ->check(CLI::Range(1u, kMaxNodeId));
    cmd->add_flag("--clear", flags->clear, "Take the state off instead");
    cmd->add_option("--cluster", flags->cluster,
                    "Cluster file (default: $TESSERA_CLUSTER, then ./var/cluster.json)");
    PersistentFlag flag = verb.flag;
    cmd->callback(
        [flags, flag, exit_code, out, err] { *exit_code = RunSetState(*flags, flag, *out, *err); });
  }
}

}  // namespace tessera::cluster::admin
