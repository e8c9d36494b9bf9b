// The cluster jobs a node's job engine can run (jobs/job_engine.h), bound
// to this node's stores and its agent's settings and etcd client:
// FlexProtect, SmartPools, FSAnalyze and ShadowStoreDelete. Each job reads
// the settings and file pool policies it needs when it starts, so a run
// uses the values current at its start.
//
// Threading: called on the engine's thread; node and agent outlive the jobs.
#pragma once

#include <memory>

#include "cluster/jobs/job_record.h"
#include "jobs/job.h"
#include "jobs/job_engine.h"

namespace tessera::node {

class StorageNode;
class ClusterAgent;

// nullptr for a type this node cannot run.
std::unique_ptr<jobs::Job> MakeClusterJob(const cluster::JobRecord& record, StorageNode& node,
                                          ClusterAgent& agent);

// The engine's inputs from the agent: mastership, group, and the live
// flexprotect_grace_seconds and smartpools_schedule settings.
jobs::JobEngine::Inputs JobEngineInputs(ClusterAgent& agent);

}  // namespace tessera::node
