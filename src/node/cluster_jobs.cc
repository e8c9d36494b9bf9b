#include "node/cluster_jobs.h"

#include <chrono>

#include "cluster/filepool/filepool_policy.h"
#include "cluster/filepool/filepool_store.h"
#include "cluster/filepool/packing_settings.h"
#include "jobs/flexprotect.h"
#include "jobs/fsanalyze.h"
#include "jobs/media_scan.h"
#include "jobs/shadow_store_delete.h"
#include "jobs/smartpools.h"
#include "node/cluster_agent.h"
#include "node/storage_node.h"

namespace tessera::node {
namespace {

namespace filepool = cluster::filepool;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string SettingText(ClusterAgent& agent, const std::string& name) {
  auto settings = agent.settings();
  auto it = settings.find(name);
  return it == settings.end() ? std::string() : it->second.canonical;
}

filepool::PackingSettings Packing(ClusterAgent& agent) {
  return filepool::PackingSettingsFrom(
      [&agent](std::string_view name) { return agent.SettingNumber(std::string(name)); });
}

Result<jobs::SmartPoolsJob::Inputs> SmartPoolsInputs(StorageNode& node, ClusterAgent& agent) {
  const filepool::PackingSettings settings = Packing(agent);
  ASSIGN_OR_RETURN(std::vector<filepool::StoredFilePoolPolicy> stored,
                   filepool::ListFilePoolPolicies(agent.client(), agent.cluster()));
  jobs::SmartPoolsJob::Inputs in;
  in.rules = {settings.enabled, settings.max_file_size, settings.min_age_seconds,
              settings.unpack_recently_modified};
  in.container_min_size = settings.container_min_size;
  in.container_max_size = settings.container_max_size;
  in.protection = node.options().protection;
  in.impact = SettingText(agent, "smartpools_impact");
  auto policies = std::make_shared<std::vector<filepool::FilePoolPolicy>>();
  for (const filepool::StoredFilePoolPolicy& s : stored) {
    policies->push_back(s.policy);
    in.policies.push_back(
        {s.policy.name, {s.policy.enable_packing, s.policy.min_age_seconds, s.policy.max_size}});
  }
  in.match = [policies](std::string_view ns, std::string_view path) {
    const filepool::FilePoolPolicy* p = filepool::MatchFilePoolPolicy(*policies, ns, path);
    return p ? static_cast<int>(p - policies->data()) : -1;
  };
  return in;
}

}  // namespace

std::unique_ptr<jobs::Job> MakeClusterJob(const cluster::JobRecord& record, StorageNode& node,
                                          ClusterAgent& agent) {
  auto new_object_id = [&node] { return node.NewObjectId(); };
  if (record.type == "FlexProtect") {
    return std::make_unique<jobs::FlexProtectJob>(
        node.pieces(), node.metadata(), agent.client(), agent.cluster(),
        [&agent] { return agent.Group(); },
        [&agent] { return agent.SettingNumber("flexprotect_files_per_second"); }, new_object_id);
  }
  if (record.type == "SmartPools") {
    return std::make_unique<jobs::SmartPoolsJob>(
        node.pieces_deleted_after_grace(), node.metadata(),
        [&node, &agent] { return SmartPoolsInputs(node, agent); }, new_object_id, NowNs);
  }
  if (record.type == "MediaScan") {
    return std::make_unique<jobs::MediaScanJob>(node.pieces(), node.metadata(), [&agent] {
      return SettingText(agent, "mediascan_impact");
    });
  }
  if (record.type == "FSAnalyze") return std::make_unique<jobs::FsAnalyzeJob>(node.metadata());
  if (record.type == "ShadowStoreDelete") {
    return std::make_unique<jobs::ShadowStoreDeleteJob>(
        node.pieces_deleted_after_grace(), node.metadata(),
        [&node, &agent]() -> Result<jobs::ShadowStoreDeleteJob::Inputs> {
          return jobs::ShadowStoreDeleteJob::Inputs{
              agent.SettingNumber("sstore_defrag_enabled") != 0, node.options().protection,
              Packing(agent).container_max_size, NowNs()};
        },
        new_object_id);
  }
  return nullptr;
}

jobs::JobEngine::Inputs JobEngineInputs(ClusterAgent& agent) {
  jobs::JobEngine::Inputs in;
  in.is_master = agent.IsMaster();
  in.token = agent.MasterToken();
  in.group = agent.Group();
  in.grace_seconds = agent.SettingNumber("flexprotect_grace_seconds");
  in.smartpools_schedule = SettingText(agent, "smartpools_schedule");
  return in;
}

}  // namespace tessera::node
