// Cluster jobs in etcd, under ClusterPrefix(cluster):
//
//   counters/job-id   the last job id handed out, decimal (CAS; never reused)
//   jobs/<id>         JobRecordJson, id zero-padded to 10 digits so keys
//                     list in id order
//
// Who writes what: anyone may create a job (an operator's `tessera job
// start`; the master, fenced by its token, when it starts one itself); an
// operator's pause/resume/cancel is a compare-and-swap on the record's
// mod_revision; the master writes progress with a transaction that compares
// both the record's mod_revision and its fencing token (MasterTokenHolds),
// so a deposed master can never overwrite a record, and an operator's
// control always wins a race with a progress write (the master re-reads and
// obeys it).
//
// Threading: free functions over a thread-safe EtcdClient.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/etcd/etcd_client.h"
#include "cluster/jobs/job_record.h"
#include "common/status.h"

namespace tessera::cluster {

std::string JobKey(const std::string& cluster, uint64_t id);

struct StoredJob {
  JobRecord record;
  int64_t mod_revision = 0;
};

// A new job in state queued. With `master_token` the creation is fenced by
// it (FailedPrecondition "not master" when the token no longer holds).
Result<JobRecord> CreateJob(EtcdClient* client, const std::string& cluster, const std::string& type,
                            const std::string& trigger, int64_t now_ns,
                            std::optional<int64_t> master_token = std::nullopt);

// NotFound when there is no such job.
Result<StoredJob> ReadJob(EtcdClient* client, const std::string& cluster, uint64_t id);
// Every job, by id.
Result<std::vector<StoredJob>> ListJobs(EtcdClient* client, const std::string& cluster);

// Writes `record` only while the master key is `master_token` and the record
// is still at `expected_revision`. The new mod_revision, or nullopt when a
// compare failed (nothing written).
Result<std::optional<int64_t>> WriteJobFenced(EtcdClient* client, const std::string& cluster,
                                              int64_t master_token, const JobRecord& record,
                                              int64_t expected_revision);

// An operator's pause/resume/cancel by compare-and-swap, retried on races.
// NotFound for an unknown id; FailedPrecondition when the control does not
// apply to the job's state (ApplyJobControl).
Result<JobRecord> ControlJob(EtcdClient* client, const std::string& cluster, uint64_t id,
                             JobControl control, int64_t now_ns);

}  // namespace tessera::cluster
