#include "cluster/jobs/job_store.h"

#include <cstdio>

#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"

namespace tessera::cluster {
namespace {

constexpr int kMaxAttempts = 50;

std::string CounterKey(const std::string& cluster) {
  return ClusterPrefix(cluster) + "counters/job-id";
}

Result<uint64_t> ParseLastId(const std::optional<KeyValue>& kv) {
  if (!kv) return uint64_t{0};
  try {
    size_t used = 0;
    uint64_t id = std::stoull(kv->value, &used);
    if (used == kv->value.size()) return id;
  } catch (...) {
  }
  return Status::Corruption("counters/job-id holds '" + kv->value + "'");
}

}  // namespace

std::string JobKey(const std::string& cluster, uint64_t id) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%010llu", static_cast<unsigned long long>(id));
  return ClusterPrefix(cluster) + "jobs/" + buf;
}

Result<JobRecord> CreateJob(EtcdClient* client, const std::string& cluster, const std::string& type,
                            const std::string& trigger, int64_t now_ns,
                            std::optional<int64_t> master_token) {
  const std::string counter = CounterKey(cluster);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(GetResult got, client->Get(counter));
    ASSIGN_OR_RETURN(uint64_t last, ParseLastId(got.kv));
    JobRecord record;
    record.id = last + 1;
    record.type = type;
    record.trigger = trigger;
    record.created_ns = now_ns;
    std::vector<Compare> compares = {
        Compare::ModRevisionEquals(counter, got.kv ? got.kv->mod_revision : 0)};
    if (master_token) compares.push_back(MasterTokenHolds(cluster, *master_token));
    ASSIGN_OR_RETURN(TxnResult txn,
                     client->Txn(compares,
                                 {TxnOp::Put(counter, std::to_string(record.id)),
                                  TxnOp::Put(JobKey(cluster, record.id), JobRecordJson(record))},
                                 {TxnOp::Get(MasterKey(cluster))}));
    if (txn.succeeded) return record;
    if (master_token) {
      const auto& master = txn.responses.empty() ? std::vector<KeyValue>{} : txn.responses[0].kvs;
      if (master.empty() || master[0].create_revision != *master_token) {
        return Status::FailedPrecondition("not master: the tenure ended");
      }
    }
    // Another job took the id: take the next one.
  }
  return Status::Unavailable("could not allocate a job id: too many concurrent creations");
}

Result<StoredJob> ReadJob(EtcdClient* client, const std::string& cluster, uint64_t id) {
  ASSIGN_OR_RETURN(GetResult got, client->Get(JobKey(cluster, id)));
  if (!got.kv) return Status::NotFound("no job " + std::to_string(id));
  ASSIGN_OR_RETURN(JobRecord record, ParseJobRecord(got.kv->value));
  return StoredJob{std::move(record), got.kv->mod_revision};
}

Result<std::vector<StoredJob>> ListJobs(EtcdClient* client, const std::string& cluster) {
  ASSIGN_OR_RETURN(RangeResult range, client->GetPrefix(ClusterPrefix(cluster) + "jobs/"));
  std::vector<StoredJob> jobs;
  for (const KeyValue& kv : range.kvs) {
    ASSIGN_OR_RETURN(JobRecord record, ParseJobRecord(kv.value));
    jobs.push_back({std::move(record), kv.mod_revision});
  }
  return jobs;
}

Result<std::optional<int64_t>> WriteJobFenced(EtcdClient* client, const std::string& cluster,
                                              int64_t master_token, const JobRecord& record,
                                              int64_t expected_revision) {
  const std::string key = JobKey(cluster, record.id);
  ASSIGN_OR_RETURN(TxnResult txn, client->Txn({MasterTokenHolds(cluster, master_token),
                                               Compare::ModRevisionEquals(key, expected_revision)},
                                              {TxnOp::Put(key, JobRecordJson(record))}));
  if (!txn.succeeded) return std::optional<int64_t>();
  return std::optional<int64_t>(txn.revision);
}

Result<JobRecord> ControlJob(EtcdClient* client, const std::string& cluster, uint64_t id,
                             JobControl control, int64_t now_ns) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(StoredJob stored, ReadJob(client, cluster, id));
    ASSIGN_OR_RETURN(JobRecord next, ApplyJobControl(stored.record, control, now_ns));
    const std::string key = JobKey(cluster, id);
    ASSIGN_OR_RETURN(TxnResult txn,
                     client->Txn({Compare::ModRevisionEquals(key, stored.mod_revision)},
                                 {TxnOp::Put(key, JobRecordJson(next))}));
    if (txn.succeeded) return next;
  }
  return Status::Unavailable("job " + std::to_string(id) + " kept changing; try again");
}

}  // namespace tessera::cluster
