// ConfigStore: reads and writes a cluster's shared configuration in etcd,
// under the root of a config URI (config_uri.h has the key layout).
//
// Values. Every setting value is text that must parse as its setting's type
// (setting.h). A setting is read, for node H, from hosts/H/<name> if that key
// exists, else from <name>, else the registry default.
//
// References. Instead of a copy, an entry may hold "@ref:<key>", where <key>
// is another key relative to the root: a setting ("max_file_size"), a host
// override ("hosts/3/max_file_size") or a shared entry ("shared/big-files").
// Reads follow references (at most kMaxReferenceDepth hops) and report a
// cycle or a missing target as an error naming the chain.
//
// Writes are validated before anything is written: Set() reads the whole tree,
// applies the change to that snapshot, and re-resolves every setting entry
// whose reference chain passes through the changed key. If any of them would
// fail to resolve or parse, Set refuses with InvalidArgument (FailedPrecondition
// for a reference cycle, NotFound for a missing reference target) and etcd is
// unchanged. Nor may a write make a setting exceed its bound (SettingBounds,
// e.g. packing_max_file_size <= packing_container_max_size) for the cluster
// or any host with overrides, unless that bound was already broken before it.
// The write is a transaction conditioned on the mod revisions of every key
// that was checked, so a concurrent write makes it retry against the new
// state rather than slip past validation.
//
// Threading: thread-safe (the EtcdClient is); the client must outlive the store.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/config/config_uri.h"
#include "cluster/config/setting.h"
#include "cluster/etcd/etcd_client.h"
#include "common/status.h"

namespace tessera::cluster::config {

inline constexpr std::string_view kReferencePrefix = "@ref:";
inline constexpr int kMaxReferenceDepth = 8;

// One setting as a node sees it.
struct ResolvedSetting {
  SettingValue value;
  std::string source;  // key it came from (after references), or "default"
  std::string raw;     // the text stored at the first key ("" for default)
};

// All settings of one node (or the cluster, without host) at one revision.
struct ConfigSnapshot {
  int64_t revision = 0;         // etcd revision the tree was read at
  int64_t update_revision = 0;  // mod revision of the update key (0: never bumped)
  std::map<std::string, ResolvedSetting> values;  // every setting that resolved
  std::map<std::string, Status> errors;           // settings that did not resolve or parse
};

// Follows references from `key` through `tree` (relative key -> raw value).
// Returns the final key and its value. NotFound if a key in the chain is
// missing, FailedPrecondition on a cycle or a chain longer than
// kMaxReferenceDepth, InvalidArgument for a malformed reference.
struct Resolution {
  std::string key;
  std::string value;
  std::vector<std::string> chain;  // every key visited, starting with `key`
};
Result<Resolution> ResolveReference(const std::map<std::string, std::string>& tree,
                                    const std::string& key);

// Builds a snapshot from a tree (relative key -> raw value). Pure.
ConfigSnapshot BuildSnapshot(const std::map<std::string, std::string>& tree,
                             const std::optional<std::string>& host);

class ConfigStore {
 public:
  // Borrows `client`; `root` as in ConfigUri::root.
  ConfigStore(EtcdClient* client, std::string root);

  // Opens a client for `uri` and a store over it; the store owns the client.
  static Result<std::unique_ptr<ConfigStore>> Open(const ConfigUri& uri,
                                                   EtcdClientOptions options = {});

  // Writes `value` to setting `name` (or host `host`'s override of it), or to
  // the shared entry `name` when it is "shared/<id>". See the header comment.
  Status Set(const std::string& name, const std::string& value,
             const std::optional<std::string>& host = std::nullopt);
  // Removes an entry (a host override, a cluster value, a shared entry), with
  // the same validation as Set: refused if a reference would dangle.
  Status Unset(const std::string& name, const std::optional<std::string>& host = std::nullopt);
  // Writes several cluster values (name, value) in one transaction, validated
  // together as Set validates one: all are written, or none.
  Status SetAll(const std::vector<std::pair<std::string, std::string>>& values);

  // The raw text stored at a relative key, nullopt if absent.
  Result<std::optional<std::string>> GetRaw(const std::string& relative_key);
  // Every setting as node `host` (or, without host, the cluster) sees it.
  Result<ConfigSnapshot> Load(const std::optional<std::string>& host = std::nullopt);

  // Bumps the update key; returns its new mod revision.
  Result<int64_t> Apply();
  // Writes node `array_id`'s feedback (a JSON text).
  Status WriteFeedback(const std::string& array_id, const std::string& json);
  // Every node's feedback: array id -> JSON text.
  Result<std::map<std::string, std::string>> ReadFeedback();

  const std::string& root() const { return root_; }
  EtcdClient* client() const { return client_; }
  std::string AbsoluteKey(std::string_view relative) const;

 private:
  // A relative key and its new value; nullopt deletes it.
  using Change = std::pair<std::string, std::optional<std::string>>;
  // Shared by Set, Unset and SetAll.
  Status Write(const std::vector<Change>& changes);
  Result<std::map<std::string, std::pair<std::string, int64_t>>> ReadTree(int64_t* revision);
  // Relative key for `name` / `host`, validating both.
  Result<std::string> KeyFor(const std::string& name, const std::optional<std::string>& host);

  std::unique_ptr<EtcdClient> owned_client_;
  EtcdClient* client_;
  std::string root_;  // with trailing '/'
};

}  // namespace tessera::cluster::config
