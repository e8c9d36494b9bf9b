#include "cluster/admin/status_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cluster/admin/admin_context.h"
#include "cluster/admin/admin_snapshot.h"
#include "cluster/admin/node_view.h"
#include "cluster/admin/status_report.h"
#include "cluster/config/config_store.h"

namespace tessera::cluster::admin {
namespace {

struct StatusFlags {
  std::string cluster;
  bool json = false;
};

std::string JoinEndpoints(const std::vector<std::string>& endpoints) {
  std::string out;
  for (const std::string& e : endpoints) out += (out.empty() ? "" : ",") + e;
  return out;
}

ProtectionSetting ReadProtection(EtcdClient* client, const std::string& cluster) {
  ProtectionSetting p;
  config::ConfigStore store(client, "/tessera/" + cluster + "/config");
  Result<config::ConfigSnapshot> snap = store.Load();
  if (!snap.ok()) {
    p.error = snap.status().message();
    return p;
  }
  if (auto e = snap->errors.find("protection"); e != snap->errors.end()) {
    p.error = e->second.message();
  } else if (auto v = snap->values.find("protection"); v != snap->values.end()) {
    p.value = v->second.value.canonical;
    p.source = v->second.source;
  } else {
    p.error = "not in the setting registry";
  }
  return p;
}

void Probe(std::vector<NodeProbe>& probes) {
  std::vector<std::string> addresses;
  for (const NodeProbe& p : probes) addresses.push_back(p.address);
  std::vector<Result<NodeView>> views = FetchNodeViews(addresses);
  for (size_t i = 0; i < probes.size(); ++i) probes[i].view = std::move(views[i]);
}

// The master's view of the data's protection; without a master, the first
// node that answered.
Result<ProtectionView> AskForProtection(const AdminSnapshot& snap,
                                        const std::vector<NodeProbe>& probes) {
  std::string address;
  for (const AdminNode& node : snap.nodes) {
    if (snap.master && node.record.array_id == snap.master->array_id) {
      address = node.record.address;
    }
  }
  for (const NodeProbe& p : probes) {
    if (address.empty() && p.view.ok()) address = p.address;
  }
  if (address.empty()) return Status::Unavailable("no node answered");
  return FetchProtectionView(address, std::chrono::seconds(60));
}

int RunStatus(const StatusFlags& flags, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  StatusInput in;
  in.cluster = ctx->file.cluster;
  in.etcd_endpoints = JoinEndpoints(ctx->file.etcd);
  Result<AdminSnapshot> snap = ReadAdminSnapshot(ctx->client.get(), ctx->file.cluster);
  if (snap.ok()) {
    in.snapshot = std::move(snap).value();
    in.protection = ReadProtection(ctx->client.get(), ctx->file.cluster);
    for (const AdminNode& node : in.snapshot->nodes) {
      NodeProbe probe;
      probe.array_id = node.record.array_id;
      probe.address = node.record.address;
      in.probes.push_back(std::move(probe));
    }
  } else {
    in.etcd_status = snap.status();
    // Without etcd the node list comes from cluster.json.
    for (const ClusterFileNode& node : ctx->file.nodes) {
      NodeProbe probe;
      probe.name = node.name;
      probe.address = node.api;
      in.probes.push_back(std::move(probe));
    }
  }
  Probe(in.probes);
  if (in.snapshot) in.data = AskForProtection(*in.snapshot, in.probes);
  if (flags.json) {
    out << StatusJson(in).dump(2) << "\n";
  } else {
    out << FormatStatus(in);
  }
  return in.snapshot ? kExitOk : kExitFailed;
}

}  // namespace

void AddStatusCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out_arg,
                      std::ostream* err_arg) {
  std::ostream* out = out_arg ? out_arg : &std::cout;
  std::ostream* err = err_arg ? err_arg : &std::cerr;
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* status = app.add_subcommand(
      "status",
      "Summarise the cluster: nodes, drives, quorum, master, group, protection and "
      "what every node says about itself");
  status->add_option("--cluster", flags->cluster,
                     "Cluster file (default: $TESSERA_CLUSTER, then ./var/cluster.json)");
  status->add_flag("--json", flags->json, "Print the summary as JSON");
  status->callback([flags, exit_code, out, err] { *exit_code = RunStatus(*flags, *out, *err); });
}

}  // namespace tessera::cluster::admin
