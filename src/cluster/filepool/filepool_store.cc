#include "cluster/filepool/filepool_store.h"

#include <algorithm>
#include <map>

#include "cluster/membership/registry.h"
#include "common/object_name.h"
#include "common/units.h"

namespace tessera::cluster::filepool {
namespace {

constexpr int kMaxAttempts = 50;

std::string FilePoolPrefix(const std::string& cluster) {
  return ClusterPrefix(cluster) + "filepool/";
}
std::string PoliciesPrefix(const std::string& cluster) {
  return FilePoolPrefix(cluster) + "policies/";
}
std::string GenerationKey(const std::string& cluster) {
  return FilePoolPrefix(cluster) + "generation";
}

// The set as one read saw it.
struct PolicySet {
  std::vector<StoredFilePoolPolicy> policies;  // by apply order, then name
  int64_t generation_revision = 0;             // 0: never written
  int64_t generation = 0;
};

Result<PolicySet> ReadSet(EtcdClient* client, const std::string& cluster) {
  ASSIGN_OR_RETURN(RangeResult range, client->GetPrefix(FilePoolPrefix(cluster)));
  const std::string policies = PoliciesPrefix(cluster);
  const std::string generation = GenerationKey(cluster);
  PolicySet set;
  for (const KeyValue& kv : range.kvs) {
    if (kv.key == generation) {
      set.generation_revision = kv.mod_revision;
      std::optional<uint64_t> n = ParseDecimal(kv.value);
      set.generation = n ? static_cast<int64_t>(*n) : 0;
      continue;
    }
    if (kv.key.rfind(policies, 0) != 0) continue;
    Result<FilePoolPolicy> policy = ParseFilePoolPolicy(kv.value);
    if (!policy.ok()) {
      return Status::Corruption(kv.key + ": " + std::string(policy.status().message()));
    }
    if (policy->name != kv.key.substr(policies.size())) {
      return Status::Corruption(kv.key + ": holds policy " + QuoteForMessage(policy->name));
    }
    set.policies.push_back({std::move(policy).value(), kv.mod_revision});
  }
  std::stable_sort(set.policies.begin(), set.policies.end(),
                   [](const StoredFilePoolPolicy& a, const StoredFilePoolPolicy& b) {
                     return a.policy.apply_order < b.policy.apply_order;
                   });
  return set;
}

Status NoPolicy(const std::string& name) {
  return Status::NotFound("no file pool policy " + QuoteForMessage(name));
}

// `policies` in their new order; numbers them 1..N.
void Renumber(std::vector<FilePoolPolicy>& policies) {
  for (size_t i = 0; i < policies.size(); ++i) policies[i].apply_order = static_cast<int>(i + 1);
}

std::vector<FilePoolPolicy> Plain(const PolicySet& set) {
  std::vector<FilePoolPolicy> out;
  for (const StoredFilePoolPolicy& s : set.policies) out.push_back(s.policy);
  return out;
}

// Writes `next` over `set` (puts what changed, deletes `removed`) if the
// generation is unchanged. True when it committed.
Result<bool> Commit(EtcdClient* client, const std::string& cluster, const PolicySet& set,
                    const std::vector<FilePoolPolicy>& next,
                    const std::optional<std::string>& removed = std::nullopt) {
  RETURN_IF_ERROR(ValidateFilePoolPolicySet(next));
  std::map<std::string, std::string> before;
  for (const StoredFilePoolPolicy& s : set.policies) {
    before[s.policy.name] = FilePoolPolicyJson(s.policy);
  }
  std::vector<TxnOp> ops;
  for (const FilePoolPolicy& p : next) {
    std::string text = FilePoolPolicyJson(p);
    auto it = before.find(p.name);
    if (it == before.end() || it->second != text) {
      ops.push_back(TxnOp::Put(FilePoolPolicyKey(cluster, p.name), std::move(text)));
    }
  }
  if (removed) ops.push_back(TxnOp::Delete(FilePoolPolicyKey(cluster, *removed)));
  ops.push_back(TxnOp::Put(GenerationKey(cluster), std::to_string(set.generation + 1)));
  ASSIGN_OR_RETURN(
      TxnResult txn,
      client->Txn({Compare::ModRevisionEquals(GenerationKey(cluster), set.generation_revision)},
                  ops));
  return txn.succeeded;
}

Status TooBusy(const std::string& what) {
  return Status::Unavailable("file pool policies kept changing while " + what + "; try again");
}

int FindIndex(const std::vector<FilePoolPolicy>& policies, const std::string& name) {
  for (size_t i = 0; i < policies.size(); ++i) {
    if (policies[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::string FilePoolPolicyKey(const std::string& cluster, const std::string& name) {
  return PoliciesPrefix(cluster) + name;
}

Result<std::vector<StoredFilePoolPolicy>> ListFilePoolPolicies(EtcdClient* client,
                                                               const std::string& cluster) {
  ASSIGN_OR_RETURN(PolicySet set, ReadSet(client, cluster));
  return std::move(set.policies);
}

Result<StoredFilePoolPolicy> GetFilePoolPolicy(EtcdClient* client, const std::string& cluster,
                                               const std::string& name) {
  RETURN_IF_ERROR(ValidatePolicyName(name));
  ASSIGN_OR_RETURN(GetResult got, client->Get(FilePoolPolicyKey(cluster, name)));
  if (!got.kv) return NoPolicy(name);
  Result<FilePoolPolicy> policy = ParseFilePoolPolicy(got.kv->value);
  if (!policy.ok()) {
    return Status::Corruption(got.kv->key + ": " + std::string(policy.status().message()));
  }
  return StoredFilePoolPolicy{std::move(policy).value(), got.kv->mod_revision};
}

Result<FilePoolPolicy> CreateFilePoolPolicy(EtcdClient* client, const std::string& cluster,
                                            FilePoolPolicy policy, int64_t now_ns) {
  policy.created_ns = policy.modified_ns = now_ns;
  const int wanted = policy.apply_order;
  {
    // Check the policy alone first, so a bad value is reported as itself.
    FilePoolPolicy probe = policy;
    probe.apply_order = 1;
    RETURN_IF_ERROR(ValidateFilePoolPolicy(probe));
  }
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(PolicySet set, ReadSet(client, cluster));
    std::vector<FilePoolPolicy> next = Plain(set);
    if (FindIndex(next, policy.name) >= 0) {
      return Status::AlreadyExists("file pool policy " + policy.name + " already exists");
    }
    const int count = static_cast<int>(next.size());
    if (wanted < 0 || wanted > count + 1) {
      return Status::InvalidArgument("apply order " + std::to_string(wanted) +
                                     " is out of range: a new policy may go at 1.." +
                                     std::to_string(count + 1));
    }
    const int at = wanted == 0 ? count : wanted - 1;
    next.insert(next.begin() + at, policy);
    Renumber(next);
    ASSIGN_OR_RETURN(bool committed, Commit(client, cluster, set, next));
    if (committed) return next[at];
  }
  return TooBusy("creating " + policy.name);
}

Result<FilePoolPolicy> ModifyFilePoolPolicy(EtcdClient* client, const std::string& cluster,
                                            const std::string& name,
                                            const FilePoolPolicyChange& change, int64_t now_ns,
                                            std::optional<int64_t> expected_mod_revision) {
  RETURN_IF_ERROR(ValidatePolicyName(name));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(PolicySet set, ReadSet(client, cluster));
    std::vector<FilePoolPolicy> next = Plain(set);
    int index = FindIndex(next, name);
    if (index < 0) return NoPolicy(name);
    if (expected_mod_revision && set.policies[index].mod_revision != *expected_mod_revision) {
      return Status::FailedPrecondition(
          "file pool policy " + name + " changed since it was read (revision " +
          std::to_string(set.policies[index].mod_revision) + ", expected " +
          std::to_string(*expected_mod_revision) + "); read it again");
    }
    FilePoolPolicy p = next[index];
    if (change.description) p.description = *change.description;
    if (change.path_prefix) p.path_prefix = *change.path_prefix;
    if (change.enable_packing) p.enable_packing = *change.enable_packing;
    if (change.min_age_seconds) p.min_age_seconds = *change.min_age_seconds;
    if (change.max_size) p.max_size = *change.max_size;
    p.modified_ns = now_ns;
    RETURN_IF_ERROR(ValidateFilePoolPolicy(p));
    const int count = static_cast<int>(next.size());
    int at = index;
    if (change.apply_order) {
      if (*change.apply_order < 1 || *change.apply_order > count) {
        return Status::InvalidArgument("apply order " + std::to_string(*change.apply_order) +
                                       " is out of range: there " +
                                       (count == 1 ? std::string("is 1 policy")
                                                   : "are " + std::to_string(count) + " policies") +
                                       " (1.." + std::to_string(count) + ")");
      }
      at = *change.apply_order - 1;
    }
    next.erase(next.begin() + index);
    next.insert(next.begin() + at, p);
    Renumber(next);
    ASSIGN_OR_RETURN(bool committed, Commit(client, cluster, set, next));
    if (committed) return next[at];
  }
  return TooBusy("modifying " + name);
}

Status DeleteFilePoolPolicy(EtcdClient* client, const std::string& cluster,
                            const std::string& name) {
  RETURN_IF_ERROR(ValidatePolicyName(name));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(PolicySet set, ReadSet(client, cluster));
    std::vector<FilePoolPolicy> next = Plain(set);
    int index = FindIndex(next, name);
    if (index < 0) return NoPolicy(name);
    next.erase(next.begin() + index);
    Renumber(next);
    ASSIGN_OR_RETURN(bool committed, Commit(client, cluster, set, next, name));
    if (committed) return Status::Ok();
  }
  return TooBusy("deleting " + name);
}

}  // namespace tessera::cluster::filepool
