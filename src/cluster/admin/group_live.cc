#include "cluster/admin/group_live.h"

#include <ostream>

#include "cluster/admin/admin_context.h"
#include "cluster/admin/status_report.h"
#include "cluster/group_notation.h"
#include "cluster/membership/registry.h"

namespace tessera::cluster::admin {

int RunLiveGroup(const LiveGroupRequest& request, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(request.cluster_file);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  const std::string& cluster = ctx->file.cluster;
  Result<GetResult> got = ctx->client->Get(ClusterPrefix(cluster) + "group");
  if (!got.ok()) return Fail(err, EtcdFailure(ctx->file, got.status()));
  if (!got->kv) {
    return Fail(err, "cluster " + cluster +
                         " has no group yet: no node has proposed one (is any node running?)");
  }
  Result<GroupRecord> record = ParseGroupRecord(got->kv->value, got->kv->mod_revision);
  if (!record.ok()) return Fail(err, "the stored group: " + record.status().message());
  GroupState group = GroupWithSequence(*record);
  if (request.json) {
    out << GroupToJson(group).dump(2) << "\n";
  } else {
    out << FormatGroupNotation(group) << "\n";
  }
  return kExitOk;
}

}  // namespace tessera::cluster::admin
