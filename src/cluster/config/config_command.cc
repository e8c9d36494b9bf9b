#include "cluster/config/config_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cluster/cluster_file.h"
#include "cluster/config/config_store.h"
#include "cluster/config/config_uri.h"
#include "cluster/config/setting.h"

namespace tessera::cluster::config {
namespace {

struct ConfigFlags {
  std::string uri;
  std::string cluster_file;
  std::string host;
  std::string name;
  std::string value;
};

int Fail(std::ostream& err, const Status& status) {
  err << "tessera: " << status.message() << "\n";
  bool usage =
      status.code() == StatusCode::kInvalidArgument && status.message().rfind("config URI", 0) == 0;
  return usage ? 2 : 1;
}

std::optional<std::string> HostOf(const ConfigFlags& flags) {
  if (flags.host.empty()) return std::nullopt;
  return flags.host;
}

// --config URI when given, else the cluster file's (--cluster FILE,
// $TESSERA_CLUSTER, ./var/cluster.json).
Result<std::unique_ptr<ConfigStore>> OpenStore(const ConfigFlags& flags) {
  std::string text = flags.uri;
  if (text.empty()) {
    ASSIGN_OR_RETURN(ClusterFile file, LoadClusterFile(ResolveClusterFilePath(flags.cluster_file)));
    text = file.ConfigUri();
  }
  ASSIGN_OR_RETURN(ConfigUri uri, ParseConfigUri(text));
  return ConfigStore::Open(uri);
}

int RunList(std::ostream& out) {
  // The name column fits the longest name.
  int width = 26;
  for (const SettingDef& def : SettingRegistry()) {
    width = std::max(width, static_cast<int>(def.name.size()) + 2);
  }
  out << std::left << std::setw(width) << "NAME" << std::setw(10) << "TYPE" << std::setw(11)
      << "KIND" << std::setw(9) << "DEFAULT"
      << "DESCRIPTION\n";
  for (const SettingDef& def : SettingRegistry()) {
    out << std::left << std::setw(width) << def.name << std::setw(10) << SettingTypeName(def.type)
        << std::setw(11) << SettingKindName(def.kind) << std::setw(9) << def.default_value
        << def.help << "\n";
  }
  return 0;
}

int RunGet(const ConfigFlags& flags, std::ostream& out, std::ostream& err) {
  if (!flags.name.empty() && FindSetting(flags.name) == nullptr) {
    if (flags.name.rfind(config_keys::kSharedPrefix, 0) != 0) {
      err << "tessera: " << LookupSetting(flags.name).status().message() << "\n";
      return 2;
    }
  }
  Result<std::unique_ptr<ConfigStore>> store = OpenStore(flags);
  if (!store.ok()) return Fail(err, store.status());
  if (flags.name.rfind(config_keys::kSharedPrefix, 0) == 0) {
    Result<std::optional<std::string>> raw = (*store)->GetRaw(flags.name);
    if (!raw.ok()) return Fail(err, raw.status());
    if (!raw->has_value()) return Fail(err, Status::NotFound("no entry " + flags.name));
    out << **raw << "\n";
    return 0;
  }
  if (!flags.host.empty()) {
    Status valid = ValidateArrayId(flags.host);
    if (!valid.ok()) {
      err << "tessera: " << valid.message() << "\n";
      return 2;
    }
  }
  Result<ConfigSnapshot> snapshot = (*store)->Load(HostOf(flags));
  if (!snapshot.ok()) return Fail(err, snapshot.status());
  int code = 0;
  for (const SettingDef& def : SettingRegistry()) {
    std::string name(def.name);
    if (!flags.name.empty() && flags.name != name) continue;
    auto error = snapshot->errors.find(name);
    if (error != snapshot->errors.end()) {
      err << "tessera: " << name << ": " << error->second.message() << "\n";
      code = 1;
      continue;
    }
    const ResolvedSetting& r = snapshot->values.at(name);
    if (!flags.name.empty()) {
      out << r.value.canonical << "\n";
    } else {
      out << name << " = " << r.value.canonical;
      if (r.source == "default") {
        out << "  (default)";
      } else {
        out << "  (from " << r.source;
        if (r.raw.rfind(kReferencePrefix, 0) == 0) out << " via " << r.raw;
        out << ")";
      }
      out << "\n";
    }
  }
  return code;
}

int RunSet(const ConfigFlags& flags, bool unset, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<ConfigStore>> store = OpenStore(flags);
  if (!store.ok()) return Fail(err, store.status());
  Status st = unset ? (*store)->Unset(flags.name, HostOf(flags))
                    : (*store)->Set(flags.name, flags.value, HostOf(flags));
  if (!st.ok()) {
    err << "tessera: " << st.message() << "\n";
    bool usage = st.code() == StatusCode::kNotFound && st.message().rfind("no setting", 0) == 0;
    usage =
        usage || st.message().rfind("array id", 0) == 0 || st.message().rfind("shared id", 0) == 0;
    return usage ? 2 : 1;
  }
  const SettingDef* def = FindSetting(flags.name);
  if (def != nullptr && def->kind == SettingKind::kImmutable) {
    err << "tessera: note: " << def->name
        << " is immutable: running nodes ignore the change (reported as ignored_immutable)\n";
  } else if (def != nullptr && def->kind == SettingKind::kRestart) {
    err << "tessera: note: " << def->name << " takes effect when nodes restart\n";
  }
  out << (unset ? "removed " : "set ") << flags.name
      << (flags.host.empty() ? "" : " for host " + flags.host)
      << "; run `tessera config apply` to make nodes re-read\n";
  return 0;
}

int RunApply(const ConfigFlags& flags, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<ConfigStore>> store = OpenStore(flags);
  if (!store.ok()) return Fail(err, store.status());
  Result<int64_t> revision = (*store)->Apply();
  if (!revision.ok()) return Fail(err, revision.status());
  out << "update revision " << *revision << "\n";
  return 0;
}

int RunFeedback(const ConfigFlags& flags, std::ostream& out, std::ostream& err) {
  Result<std::unique_ptr<ConfigStore>> store = OpenStore(flags);
  if (!store.ok()) return Fail(err, store.status());
  Result<std::map<std::string, std::string>> feedback = (*store)->ReadFeedback();
  if (!feedback.ok()) return Fail(err, feedback.status());
  for (const auto& [id, text] : *feedback) out << "host " << id << ": " << text << "\n";
  if (feedback->empty()) out << "no feedback yet\n";
  return 0;
}

}  // namespace

void AddConfigCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out_arg,
                      std::ostream* err_arg) {
  std::ostream* out = out_arg ? out_arg : &std::cout;
  std::ostream* err = err_arg ? err_arg : &std::cerr;
  CLI::App* config =
      app.add_subcommand("config", "Read and write the cluster's shared configuration in etcd");
  config->require_subcommand(1);
  auto add_uri = [](CLI::App* cmd, ConfigFlags& flags) {
    CLI::Option* uri = cmd->add_option("--config", flags.uri,
                                       "etcd://HOST:PORT[,HOST:PORT...]/PATH (default: the "
                                       "cluster file's)");
    cmd->add_option("--cluster", flags.cluster_file,
                    "Cluster file naming etcd (default $TESSERA_CLUSTER, then ./var/cluster.json)")
        ->excludes(uri);
  };
  auto add_host = [](CLI::App* cmd, ConfigFlags& flags) {
    cmd->add_option("--host", flags.host, "Array id of the node whose override to use");
  };

  CLI::App* list = config->add_subcommand("list", "List every setting with its type and kind");
  list->callback([exit_code, out] { *exit_code = RunList(*out); });

  auto get_flags = std::make_shared<ConfigFlags>();
  CLI::App* get = config->add_subcommand("get", "Print effective values");
  get->add_option("name", get_flags->name, "Setting name or shared/<id> (default: all settings)");
  add_uri(get, *get_flags);
  add_host(get, *get_flags);
  get->callback([get_flags, exit_code, out, err] { *exit_code = RunGet(*get_flags, *out, *err); });

  auto set_flags = std::make_shared<ConfigFlags>();
  CLI::App* set = config->add_subcommand("set", "Validate and write one value");
  set->add_option("name", set_flags->name, "Setting name or shared/<id>")->required();
  set->add_option("value", set_flags->value, "The value, or @ref:<key> to refer to another entry")
      ->required();
  add_uri(set, *set_flags);
  add_host(set, *set_flags);
  set->callback(
      [set_flags, exit_code, out, err] { *exit_code = RunSet(*set_flags, false, *out, *err); });

  auto unset_flags = std::make_shared<ConfigFlags>();
  CLI::App* unset = config->add_subcommand("unset", "Remove a value (back to cluster/default)");
  unset->add_option("name", unset_flags->name, "Setting name or shared/<id>")->required();
  add_uri(unset, *unset_flags);
  add_host(unset, *unset_flags);
  unset->callback(
      [unset_flags, exit_code, out, err] { *exit_code = RunSet(*unset_flags, true, *out, *err); });

  auto apply_flags = std::make_shared<ConfigFlags>();
  CLI::App* apply = config->add_subcommand("apply", "Bump the update key: nodes re-read settings");
  add_uri(apply, *apply_flags);
  apply->callback(
      [apply_flags, exit_code, out, err] { *exit_code = RunApply(*apply_flags, *out, *err); });

  auto feedback_flags = std::make_shared<ConfigFlags>();
  CLI::App* feedback = config->add_subcommand("feedback", "Print every node's update feedback");
  add_uri(feedback, *feedback_flags);
  feedback->callback([feedback_flags, exit_code, out, err] {
    *exit_code = RunFeedback(*feedback_flags, *out, *err);
  });
}

}  // namespace tessera::cluster::config
