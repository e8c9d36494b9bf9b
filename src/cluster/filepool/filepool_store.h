// File pool policies in etcd (docs/packing.md), under ClusterPrefix(cluster):
//
//   filepool/policies/<name>   FilePoolPolicyJson (filepool_policy.h)
//   filepool/generation        decimal counter bumped by every write below
//
// The set is kept valid as a whole (ValidateFilePoolPolicySet: unique names,
// apply orders exactly 1..N). A write reads the set, computes the new one
// and commits every changed record in one transaction conditioned on the
// generation key's mod_revision, so two writers never interleave: the loser
// re-reads and re-applies its change to the new set (nothing is lost), or,
// when it asked for a compare-and-swap on a record it read
// (expected_mod_revision), fails with FailedPrecondition.
//
// Errors: NotFound (no such policy), AlreadyExists (duplicate name),
// InvalidArgument (a value or apply order the rules refuse; nothing is
// written), FailedPrecondition (CAS lost), Corruption (a stored record does
// not parse), Unavailable (etcd, or too many concurrent writers).
//
// Threading: free functions over a thread-safe EtcdClient.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/etcd/etcd_client.h"
#include "cluster/filepool/filepool_policy.h"
#include "common/status.h"

namespace tessera::cluster::filepool {

std::string FilePoolPolicyKey(const std::string& cluster, const std::string& name);

struct StoredFilePoolPolicy {
  FilePoolPolicy policy;
  int64_t mod_revision = 0;  // of its key; for ModifyFilePoolPolicy's compare-and-swap
};

// Every policy, by apply order.
Result<std::vector<StoredFilePoolPolicy>> ListFilePoolPolicies(EtcdClient* client,
                                                               const std::string& cluster);
// NotFound "no file pool policy 'NAME'".
Result<StoredFilePoolPolicy> GetFilePoolPolicy(EtcdClient* client, const std::string& cluster,
                                               const std::string& name);

// Adds `policy` (created_ns = modified_ns = now_ns). apply_order 0 puts it
// last (count + 1); 1..count+1 inserts it there and moves the policies from
// that order on down by one.
Result<FilePoolPolicy> CreateFilePoolPolicy(EtcdClient* client, const std::string& cluster,
                                            FilePoolPolicy policy, int64_t now_ns);

// What `modify` changes; unset fields keep their value.
struct FilePoolPolicyChange {
  std::optional<std::string> description;
  std::optional<std::string> path_prefix;
  std::optional<bool> enable_packing;
  std::optional<int64_t> min_age_seconds;
  std::optional<std::optional<uint64_t>> max_size;  // {nullopt}: back to the setting
  std::optional<int> apply_order;                   // 1..count; the others shift
  bool empty() const {
    return !description && !path_prefix && !enable_packing && !min_age_seconds && !max_size &&
           !apply_order;
  }
};

// Applies `change` to policy `name` (modified_ns = now_ns). With
// `expected_mod_revision`, only if the record is still at that revision
// (FailedPrecondition otherwise); without, the change is re-applied to the
// current record until it commits.
Result<FilePoolPolicy> ModifyFilePoolPolicy(
    EtcdClient* client, const std::string& cluster, const std::string& name,
    const FilePoolPolicyChange& change, int64_t now_ns,
    std::optional<int64_t> expected_mod_revision = std::nullopt);

// Removes policy `name`; the ones after it move up by one.
Status DeleteFilePoolPolicy(EtcdClient* client, const std::string& cluster,
                            const std::string& name);

}  // namespace tessera::cluster::filepool
