#include "cluster/config/config_store.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

namespace tessera::cluster::config {
namespace {

constexpr int kWriteAttempts = 5;

// OK iff `key` is a well-formed relative key: '/'-separated segments of
// [A-Za-z0-9_.-], none empty, ".", or "..".
Status ValidateRelativeKey(std::string_view key) {
  bool ok = !key.empty() && key.size() <= 512;
  size_t start = 0;
  while (ok && start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    ok = !segment.empty() && segment != "." && segment != "..";
    for (char c : segment) {
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    }
    start = end + 1;
  }
  if (!ok) {
    return Status::InvalidArgument("'" + std::string(key) +
                                   "' is not a key relative to the config root (e.g. "
                                   "shared/big-files or hosts/3/max_file_size)");
  }
  return Status::Ok();
}

std::string JoinChain(const std::vector<std::string>& chain) {
  std::string out;
  for (const std::string& key : chain) out += (out.empty() ? "" : " -> ") + key;
  return out;
}

// The setting a key holds a value of ("max_file_size" for "max_file_size" and
// "hosts/3/max_file_size"), or nullptr if it is not a setting entry.
const SettingDef* SettingOfKey(const std::string& key) {
  if (key.rfind(config_keys::kHostsPrefix, 0) == 0) {
    std::string rest = key.substr(config_keys::kHostsPrefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos || !ValidateArrayId(rest.substr(0, slash)).ok()) return nullptr;
    return FindSetting(rest.substr(slash + 1));
  }
  return FindSetting(key);
}

// Refuses a change from `before` to `after` that breaks a bound of
// SettingBounds() the cluster or a host with overrides kept before. Adds the
// keys the verdict rests on to `checked`.
Status CheckBounds(const std::map<std::string, std::string>& before,
                   const std::map<std::string, std::string>& after,
                   std::set<std::string>* checked) {
  std::set<std::optional<std::string>> scopes = {std::nullopt};
  for (const auto* tree : {&before, &after}) {
    for (const auto& [key, value] : *tree) {
      if (key.rfind(config_keys::kHostsPrefix, 0) != 0 || SettingOfKey(key) == nullptr) continue;
      std::string rest = key.substr(config_keys::kHostsPrefix.size());
      scopes.insert(rest.substr(0, rest.find('/')));
    }
  }
  for (const std::optional<std::string>& host : scopes) {
    const ConfigSnapshot was = BuildSnapshot(before, host), now = BuildSnapshot(after, host);
    for (const SettingBound& bound : SettingBounds()) {
      // Every key the two values rest on, references followed: a write to
      // any of them meanwhile makes this one retry.
      for (std::string_view name : {bound.lesser, bound.greater}) {
        std::vector<std::string> keys = {config_keys::Setting(name)};
        if (host) keys.push_back(config_keys::HostSetting(*host, name));
        for (const std::string& key : keys) {
          checked->insert(key);
          if (Result<Resolution> r = ResolveReference(after, key); r.ok()) {
            checked->insert(r->chain.begin(), r->chain.end());
          }
        }
      }
      auto kept = [&bound](const ConfigSnapshot& snapshot) -> Status {
        auto lesser = snapshot.values.find(std::string(bound.lesser));
        auto greater = snapshot.values.find(std::string(bound.greater));
        if (lesser == snapshot.values.end() || greater == snapshot.values.end())
          return Status::Ok();
        return CheckSettingBound(bound, lesser->second.value, greater->second.value);
      };
      Status st = kept(now);
      if (!st.ok() && kept(was).ok()) {
        return host ? st.WithContext("for host " + *host) : st;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Resolution> ResolveReference(const std::map<std::string, std::string>& tree,
                                    const std::string& key) {
  Resolution r;
  std::string current = key;
  std::set<std::string> seen;
  while (true) {
    r.chain.push_back(current);
    if (!seen.insert(current).second) {
      return Status::FailedPrecondition("reference cycle: " + JoinChain(r.chain));
    }
    auto it = tree.find(current);
    if (it == tree.end()) {
      if (r.chain.size() == 1) return Status::NotFound("no entry " + current);
      return Status::NotFound("dangling reference: " + JoinChain(r.chain) + " does not exist");
    }
    if (it->second.rfind(kReferencePrefix, 0) != 0) {
      r.key = current;
      r.value = it->second;
      return r;
    }
    if (static_cast<int>(r.chain.size()) > kMaxReferenceDepth) {
      return Status::FailedPrecondition("reference chain longer than " +
                                        std::to_string(kMaxReferenceDepth) + ": " +
                                        JoinChain(r.chain));
    }
    std::string target = it->second.substr(kReferencePrefix.size());
    Status valid = ValidateRelativeKey(target);
    if (!valid.ok()) return valid.WithContext("reference in " + current);
    current = target;
  }
}

ConfigSnapshot BuildSnapshot(const std::map<std::string, std::string>& tree,
                             const std::optional<std::string>& host) {
  ConfigSnapshot snapshot;
  for (const SettingDef& def : SettingRegistry()) {
    std::string key = config_keys::Setting(def.name);
    if (host) {
      std::string host_key = config_keys::HostSetting(*host, def.name);
      if (tree.count(host_key)) key = host_key;
    }
    ResolvedSetting resolved;
    std::string text;
    auto it = tree.find(key);
    if (it == tree.end()) {
      resolved.source = "default";
      text = std::string(def.default_value);
    } else {
      Result<Resolution> r = ResolveReference(tree, key);
      if (!r.ok()) {
        snapshot.errors.emplace(def.name, r.status());
        continue;
      }
      resolved.raw = it->second;
      resolved.source = r->key;
      text = r->value;
    }
    Result<SettingValue> value = ParseSettingValue(def, text);
    if (!value.ok()) {
      snapshot.errors.emplace(def.name, value.status().WithContext("from " + resolved.source));
      continue;
    }
    resolved.value = std::move(value).value();
    snapshot.values.emplace(def.name, std::move(resolved));
  }
  return snapshot;
}

ConfigStore::ConfigStore(EtcdClient* client, std::string root)
    : client_(client), root_(std::move(root) + "/") {}

Result<std::unique_ptr<ConfigStore>> ConfigStore::Open(const ConfigUri& uri,
                                                       EtcdClientOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<EtcdClient> client,
                   EtcdClient::Create(uri.EtcdEndpoints(), options));
  auto store = std::make_unique<ConfigStore>(client.get(), uri.root);
  store->owned_client_ = std::move(client);
  return store;
}

std::string ConfigStore::AbsoluteKey(std::string_view relative) const {
  return root_ + std::string(relative);
}

Result<std::string> ConfigStore::KeyFor(const std::string& name,
                                        const std::optional<std::string>& host) {
  if (name.rfind(config_keys::kSharedPrefix, 0) == 0) {
    if (host) return Status::InvalidArgument("shared entries have no per-host override");
    RETURN_IF_ERROR(ValidateSharedId(name.substr(config_keys::kSharedPrefix.size())));
    return name;
  }
  ASSIGN_OR_RETURN(const SettingDef* def, LookupSetting(name));
  if (!host) return config_keys::Setting(def->name);
  RETURN_IF_ERROR(ValidateArrayId(*host));
  return config_keys::HostSetting(*host, def->name);
}

Result<std::map<std::string, std::pair<std::string, int64_t>>> ConfigStore::ReadTree(
    int64_t* revision) {
  ASSIGN_OR_RETURN(RangeResult range, client_->GetPrefix(root_));
  std::map<std::string, std::pair<std::string, int64_t>> tree;
  for (KeyValue& kv : range.kvs) {
    tree.emplace(kv.key.substr(root_.size()), std::make_pair(std::move(kv.value), kv.mod_revision));
  }
  if (revision) *revision = range.revision;
  return tree;
}

Status ConfigStore::Set(const std::string& name, const std::string& value,
                        const std::optional<std::string>& host) {
  ASSIGN_OR_RETURN(std::string key, KeyFor(name, host));
  return Write({{key, value}});
}

Status ConfigStore::Unset(const std::string& name, const std::optional<std::string>& host) {
  ASSIGN_OR_RETURN(std::string key, KeyFor(name, host));
  return Write({{key, std::nullopt}});
}

Status ConfigStore::SetAll(const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<Change> changes;
  for (const auto& [name, value] : values) {
    ASSIGN_OR_RETURN(std::string key, KeyFor(name, std::nullopt));
    changes.emplace_back(std::move(key), value);
  }
  if (changes.empty()) return Status::Ok();
  return Write(changes);
}

Status ConfigStore::Write(const std::vector<Change>& changes) {
  std::set<std::string> changed;
  for (const auto& [key, value] : changes) {
    changed.insert(key);
    if (value && value->rfind(kReferencePrefix, 0) == 0) {
      RETURN_IF_ERROR(ValidateRelativeKey(value->substr(kReferencePrefix.size()))
                          .WithContext("reference in " + key));
    }
  }
  // Messages name the first change, as a single Set or Unset does.
  const std::string what =
      std::string(changes.front().second ? "refusing to set " : "refusing to remove ") +
      changes.front().first;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto stored, ReadTree(nullptr));
    std::map<std::string, std::string> before;
    for (const auto& [k, v] : stored) before.emplace(k, v.first);
    std::map<std::string, std::string> tree = before;
    for (const auto& [key, value] : changes) {
      if (value) {
        tree[key] = *value;
      } else if (tree.erase(key) == 0) {
        return Status::NotFound("no entry " + key + " to remove");
      }
    }

    std::set<std::string> checked = changed;
    // Each written entry itself must resolve (no dangling target, no cycle).
    for (const auto& [key, value] : changes) {
      if (!value) continue;
      Result<Resolution> own = ResolveReference(tree, key);
      if (!own.ok()) return own.status().WithContext("refusing to set " + key);
      checked.insert(own->chain.begin(), own->chain.end());
    }
    // Every setting entry that reaches a changed key must still resolve and parse.
    for (const auto& [entry, text] : tree) {
      const SettingDef* def = SettingOfKey(entry);
      if (def == nullptr) continue;
      Result<Resolution> r = ResolveReference(tree, entry);
      bool affected = changed.count(entry) > 0;
      if (r.ok()) {
        for (const std::string& k : r->chain) affected = affected || changed.count(k) > 0;
      } else {
        // An unresolvable entry is affected if the change caused it: it
        // resolved before the change, or it now mentions a changed key.
        affected = affected || ResolveReference(before, entry).ok();
      }
      if (!affected) continue;
      if (!r.ok()) return r.status().WithContext(what + ": " + entry);
      Result<SettingValue> parsed = ParseSettingValue(*def, r->value);
      if (!parsed.ok()) {
        Status st = parsed.status();
        if (!changed.count(entry)) {
          auto via = std::find_if(r->chain.begin(), r->chain.end(),
                                  [&](const std::string& k) { return changed.count(k) > 0; });
          st = st.WithContext(entry + " refers to " + *via);
        }
        return Status::InvalidArgument(what + ": " + st.message());
      }
      checked.insert(r->chain.begin(), r->chain.end());
    }
    RETURN_IF_ERROR(CheckBounds(before, tree, &checked).WithContext(what));

    std::vector<Compare> compares;
    for (const std::string& k : checked) {
      auto it = stored.find(k);
      compares.push_back(
          Compare::ModRevisionEquals(AbsoluteKey(k), it == stored.end() ? 0 : it->second.second));
    }
    std::vector<TxnOp> ops;
    for (const auto& [key, value] : changes) {
      ops.push_back(value ? TxnOp::Put(AbsoluteKey(key), *value) : TxnOp::Delete(AbsoluteKey(key)));
    }
    ASSIGN_OR_RETURN(TxnResult txn, client_->Txn(compares, ops));
    if (txn.succeeded) return Status::Ok();
  }
  return Status::Unavailable("could not write " + changes.front().first +
                             ": the configuration kept changing (" +
                             std::to_string(kWriteAttempts) + " attempts)");
}

Result<std::optional<std::string>> ConfigStore::GetRaw(const std::string& relative_key) {
  RETURN_IF_ERROR(ValidateRelativeKey(relative_key));
  ASSIGN_OR_RETURN(GetResult got, client_->Get(AbsoluteKey(relative_key)));
  if (!got.kv) return std::optional<std::string>();
  return std::optional<std::string>(got.kv->value);
}

Result<ConfigSnapshot> ConfigStore::Load(const std::optional<std::string>& host) {
  if (host) RETURN_IF_ERROR(ValidateArrayId(*host));
  int64_t revision = 0;
  ASSIGN_OR_RETURN(auto stored, ReadTree(&revision));
  std::map<std::string, std::string> tree;
  for (const auto& [k, v] : stored) tree.emplace(k, v.first);
  ConfigSnapshot snapshot = BuildSnapshot(tree, host);
  snapshot.revision = revision;
  auto update = stored.find(std::string(config_keys::kUpdate));
  if (update != stored.end()) snapshot.update_revision = update->second.second;
  return snapshot;
}

Result<int64_t> ConfigStore::Apply() {
  nlohmann::json value = {{"requested_at_unix", static_cast<int64_t>(std::time(nullptr))}};
  return client_->Put(AbsoluteKey(config_keys::kUpdate), value.dump());
}

Status ConfigStore::WriteFeedback(const std::string& array_id, const std::string& json) {
  RETURN_IF_ERROR(ValidateArrayId(array_id));
  Result<int64_t> put = client_->Put(AbsoluteKey(config_keys::Feedback(array_id)), json);
  return put.status();
}

Result<std::map<std::string, std::string>> ConfigStore::ReadFeedback() {
  std::string prefix = AbsoluteKey(config_keys::kFeedbackPrefix);
  ASSIGN_OR_RETURN(RangeResult range, client_->GetPrefix(prefix));
  std::map<std::string, std::string> out;
  for (KeyValue& kv : range.kvs) out.emplace(kv.key.substr(prefix.size()), std::move(kv.value));
  return out;
}

}  // namespace tessera::cluster::config
