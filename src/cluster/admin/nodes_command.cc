#include "cluster/admin/nodes_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cluster/admin/admin_context.h"
#include "cluster/admin/admin_snapshot.h"
#include "cluster/admin/nodes_table.h"
#include "cluster/group_state.h"
#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"
#include "cluster/whole_number.h"

namespace tessera::cluster::admin {
namespace {

struct NodesFlags {
  std::string cluster;
  bool list = false;
  bool json = false;
  uint32_t id = 0;
  int64_t priority = 0;
};

int RunList(const NodesFlags& flags, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<AdminSnapshot> snap = ReadAdminSnapshot(ctx->client.get(), ctx->file.cluster);
  if (!snap.ok()) return Fail(err, EtcdFailure(ctx->file, snap.status()));
  std::vector<NodeRow> rows = NodeRows(*snap);
  if (flags.json) {
    out << NodesJson(rows).dump(2) << "\n";
  } else {
    out << FormatNodesTable(rows);
  }
  return kExitOk;
}

int RunPriority(const NodesFlags& flags, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  const std::string& cluster = ctx->file.cluster;
  const std::string id = std::to_string(flags.id);
  // One transaction, so a node removed meanwhile does not get a stray key.
  Compare registered{ClusterPrefix(cluster) + "nodes/" + id,
                     Compare::Target::kVersion,
                     Compare::Op::kGreater,
                     0,
                     {}};
  Result<TxnResult> txn = ctx->client->Txn(
      {registered}, {TxnOp::Put(PriorityKey(cluster, flags.id), std::to_string(flags.priority))});
  if (!txn.ok()) return Fail(err, EtcdFailure(ctx->file, txn.status()));
  if (!txn->succeeded) return Fail(err, "node " + id + " is not registered in cluster " + cluster);
  out << "node " << id << " priority: " << flags.priority << "\n";
  return kExitOk;
}

}  // namespace

void AddNodesCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out_arg,
                     std::ostream* err_arg) {
  std::ostream* out = out_arg ? out_arg : &std::cout;
  std::ostream* err = err_arg ? err_arg : &std::cerr;
  auto flags = std::make_shared<NodesFlags>();
  CLI::App* nodes = app.add_subcommand(
      "nodes",
      "List the cluster's nodes (Id, Ip, Status, Master/Slave, Priority) or set one's "
      "priority");
  nodes->require_subcommand(0, 1);
  nodes->add_option("--cluster", flags->cluster,
                    "Cluster file (default: $TESSERA_CLUSTER, then ./var/cluster.json)");
  nodes->add_flag("-l,--list", flags->list, "List the nodes (the default)");
  nodes->add_flag("--json", flags->json, "Print the listing as JSON");

  CLI::App* priority = nodes->add_subcommand(
      "priority", "Set a node's master priority (the highest live one becomes master)");
  priority->fallthrough();  // --cluster may come after the verb
  priority->add_option("id", flags->id, "Array id of the node")
      ->required()
      ->check(WholeNumber())
      ->check(CLI::Range(1u, kMaxNodeId));
  // The bounds of the master_priority setting.
  priority
      ->add_option("priority", flags->priority,
                   "The new priority, -1000000..1000000 (use -- before a negative)")
      ->required()
      ->check(CLI::Range(int64_t{-1000000}, int64_t{1000000}));
  priority->callback(
      [flags, exit_code, out, err] { *exit_code = RunPriority(*flags, *out, *err); });

  nodes->callback([nodes, flags, exit_code, out, err] {
    if (nodes->got_subcommand("priority")) return;
    *exit_code = RunList(*flags, *out, *err);
  });
}

}  // namespace tessera::cluster::admin
