// File pool policies: which files the SmartPools job packs (docs/packing.md,
// "Settings and file pool policies").
//
// A policy matches a file by where it lives: its path_prefix is
// "<namespace>/<path prefix>" and it matches every file whose "ns/path"
// begins with it ("archive/dicom/" matches archive/dicom/2024/a.dcm; plain
// "archive/" a whole namespace). Policies are tried in apply order (1, 2, ...
// dense and unique across the cluster); the first that matches decides. A
// matching policy with enable_packing packs the file once it is older than
// min_age_seconds and no larger than max_size (else the cluster's
// packing_max_file_size); one without enable_packing keeps (or makes) the
// file native.
//
// Rules a policy must satisfy (ValidateFilePoolPolicy):
//   name         1..64 of A-Z a-z 0-9 _ -
//   description  0..1024 printable characters, one line
//   apply_order  >= 1 (the store keeps the set dense: 1..N)
//   path_prefix  a namespace (object_name.h), '/', then a listing prefix
//                (object_name.h: may be empty or end with '/')
//   min_age_seconds  0..kMaxPolicyMinAgeSeconds
//   max_size     1..kMaxPolicyMaxSize when set
//
// Records travel as JSON (FilePoolPolicyJson / ParseFilePoolPolicy):
//   {"name": "dicom", "description": "", "apply_order": 1,
//    "path_prefix": "archive/dicom/", "enable_packing": true,
//    "min_age_seconds": 86400, "max_size": 524288,   (max_size absent: unset)
//    "created_ns": ..., "modified_ns": ...}
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::cluster::filepool {

inline constexpr int64_t kDefaultPolicyMinAgeSeconds = 86400;
inline constexpr int64_t kMaxPolicyMinAgeSeconds = int64_t{3650} * 86400;
// A packed file never spans two container chunks (io/shadow_store.h).
inline constexpr uint64_t kMaxPolicyMaxSize = uint64_t{32} << 20;
inline constexpr size_t kMaxPolicyNameLength = 64;
inline constexpr size_t kMaxPolicyDescriptionLength = 1024;

struct FilePoolPolicy {
  std::string name;  // [A-Za-z0-9_-]{1,64}
  std::string description;
  int apply_order = 0;      // 1-based, unique, dense
  std::string path_prefix;  // "<namespace>/<path prefix>", e.g. "archive/dicom/"
  bool enable_packing = false;
  // Files modified more recently are never packed (the view shows "Birth Time > 1D").
  int64_t min_age_seconds = kDefaultPolicyMinAgeSeconds;
  // Only files up to this size are packed (unset: the packing_max_file_size setting).
  std::optional<uint64_t> max_size;
  int64_t created_ns = 0, modified_ns = 0;

  friend bool operator==(const FilePoolPolicy&, const FilePoolPolicy&) = default;
};

// The first policy in apply order whose path_prefix matches ns + "/" + path
// (one leading '/' of `path` is ignored); nullptr if none. `policies` need
// not be sorted.
const FilePoolPolicy* MatchFilePoolPolicy(const std::vector<FilePoolPolicy>& policies,
                                          std::string_view ns, std::string_view path);

// Each InvalidArgument says which field, the value and the rule, e.g.
// "policy name 'a b': must be 1..64 of A-Z a-z 0-9 _ -".
Status ValidatePolicyName(std::string_view name);
Status ValidatePolicyPathPrefix(std::string_view path_prefix);
Status ValidateFilePoolPolicy(const FilePoolPolicy& policy);
// A whole set as stored: every policy valid, names unique, apply orders
// exactly 1..N.
Status ValidateFilePoolPolicySet(const std::vector<FilePoolPolicy>& policies);

std::string FilePoolPolicyJson(const FilePoolPolicy& policy);
// Corruption naming the field when `text` is not such a record (bad JSON, a
// missing or mistyped field, or a value ValidateFilePoolPolicy refuses).
Result<FilePoolPolicy> ParseFilePoolPolicy(std::string_view text);

// "Birth Time > 1D AND Path == archive/dicom/ (begins with)"; without a
// minimum age just the path part.
std::string FormatFileMatchingPattern(const FilePoolPolicy& policy);

// The `tessera filepool policies view` layout: right-aligned labels, e.g.
//                              Name: dicom
//                       Description: -
//                             State: OK
//                     State Details:
//                       Apply Order: 1
//             File Matching Pattern: Birth Time > 1D AND Path == archive/dicom/ (begins with)
//          Set Requested Protection: -
//               Data Access Pattern: -
//                  Enable Coalescer: -
//                    Enable Packing: Yes
// plus "Maximum File Size: 512.0k" after Enable Packing when max_size is set.
std::string FormatFilePoolPolicyView(const FilePoolPolicy& policy);

// A table of Name, Description, Apply Order, Enable Packing, Path, in the
// order given, framed by dashes and followed by "Total: N".
std::string FormatFilePoolPolicyList(const std::vector<FilePoolPolicy>& policies);

}  // namespace tessera::cluster::filepool
