#include "cluster/admin/admin_context.h"

#include <ostream>

namespace tessera::cluster::admin {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

}  // namespace

EtcdClientOptions AdminEtcdOptions() {
  EtcdClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.request_timeout = std::chrono::milliseconds(3000);
  return options;
}

Result<AdminContext> OpenCluster(const std::string& cluster_flag, EtcdClientOptions options) {
  AdminContext ctx;
  ctx.path = ResolveClusterFilePath(cluster_flag);
  Result<ClusterFile> file = LoadClusterFile(ctx.path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no cluster file at " + ctx.path +
                              ": start a cluster with `tessera up --dir DIR` (it writes "
                              "DIR/cluster.json), then pass --cluster DIR/cluster.json or set "
                              "TESSERA_CLUSTER");
    }
    return Status(file.status().code(), ctx.path + ": " + file.status().message());
  }
  ctx.file = std::move(file).value();
  Result<std::unique_ptr<EtcdClient>> client =
      EtcdClient::Create(ctx.file.EtcdEndpoints(), options);
  if (!client.ok()) {
    return Status(client.status().code(),
                  ctx.path + ": etcd endpoints: " + client.status().message());
  }
  ctx.client = std::move(client).value();
  return ctx;
}

std::string EtcdFailure(const ClusterFile& file, const Status& status) {
  if (status.code() == StatusCode::kUnavailable) {
    return "etcd unreachable at " + Join(file.etcd) + " (no quorum?): " + status.message();
  }
  return status.message();
}

int Fail(std::ostream& err, const std::string& message) {
  err << "tessera: " << message << "\n";
  return kExitFailed;
}

}  // namespace tessera::cluster::admin
