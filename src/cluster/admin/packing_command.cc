#include "cluster/admin/packing_command.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <optional>

#include "cluster/admin/admin_context.h"
#include "cluster/config/config_store.h"
#include "cluster/config/config_uri.h"
#include "cluster/config/setting.h"
#include "cluster/filepool/packing_settings.h"
#include "cluster/jobs/job_store.h"
#include "cluster/jobs/packing_reports.h"
#include "cluster/whole_number.h"

namespace tessera::cluster::admin {
namespace {

using config::ConfigSnapshot;
using config::ConfigStore;
using filepool::PackingSettings;

// `tessera packing` itself: one listing mode per flag.
struct PackingFlags {
  std::string cluster;
  bool ls = false;
  bool fsa = false;        // the efficiency report of an FSAnalyze job
  uint64_t fsa_jobid = 0;  // 0: the latest that succeeded
};

// One option of `packing set` and the setting it writes.
struct SetOption {
  const char* flag;     // "--max-size"
  const char* setting;  // "packing_max_file_size"
  const char* help;
  std::string value;
  CLI::Option* option = nullptr;
};

struct SetFlags {
  std::string cluster;
  std::vector<SetOption> options = {
      {"--enabled", "packing_enabled", "Pack where a policy enables packing (true/false)", {}},
      {"--max-size", "packing_max_file_size", "Largest file packed (e.g. 1016K, 512K)", {}},
      {"--min-age", "packing_min_age", "Minimum age before packing (e.g. 0s, 1h, 1d)", {}},
      {"--dir-hint-max-entries",
       "packing_dir_hint_max_entries",
       "Files of one directory kept together",
       {}},
      {"--container-min-size",
       "packing_container_min_size",
       "Container still open below this size",
       {}},
      {"--container-max-size", "packing_container_max_size", "Container closed at this size", {}},
      {"--unpack-recently-modified",
       "packing_unpack_recently_modified",
       "Unpack a packed file that is modified again (true/false)",
       {}},
  };
};

int Failed(std::ostream& err, const AdminContext& ctx, const Status& s) {
  if (s.code() == StatusCode::kUnavailable) return Fail(err, EtcdFailure(ctx.file, s));
  return Fail(err, s.message());
}

Result<std::unique_ptr<ConfigStore>> StoreFor(const AdminContext& ctx) {
  ASSIGN_OR_RETURN(config::ConfigUri uri, config::ParseConfigUri(ctx.file.ConfigUri()));
  return std::make_unique<ConfigStore>(ctx.client.get(), uri.root);
}

// The cluster's settings, checked: the first packing setting that does not
// resolve is the error.
Result<ConfigSnapshot> Load(ConfigStore& store) {
  ASSIGN_OR_RETURN(ConfigSnapshot snapshot, store.Load());
  for (std::string_view name : filepool::PackingSettingNames()) {
    auto error = snapshot.errors.find(std::string(name));
    if (error != snapshot.errors.end()) {
      return Status(error->second.code(), std::string(name) + ": " + error->second.message());
    }
  }
  return snapshot;
}

// The cluster's settings store and its checked settings, or the exit code
// of a failure already reported on `err`.
struct OpenedSettings {
  std::optional<AdminContext> ctx;
  std::unique_ptr<ConfigStore> store;
  ConfigSnapshot snapshot;
};
std::optional<int> OpenSettings(const std::string& cluster, std::ostream& err,
                                OpenedSettings* opened) {
  Result<AdminContext> ctx = OpenCluster(cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<std::unique_ptr<ConfigStore>> store = StoreFor(*ctx);
  if (!store.ok()) return Fail(err, store.status().message());
  Result<ConfigSnapshot> snapshot = Load(**store);
  if (!snapshot.ok()) return Failed(err, *ctx, snapshot.status());
  opened->ctx = std::move(ctx).value();
  opened->store = std::move(store).value();
  opened->snapshot = std::move(snapshot).value();
  return std::nullopt;
}

int RunList(const PackingFlags& flags, std::ostream& out, std::ostream& err) {
  OpenedSettings opened;
  if (std::optional<int> failed = OpenSettings(flags.cluster, err, &opened)) return *failed;
  out << filepool::FormatPackingSettings(filepool::PackingSettingsFrom(opened.snapshot));
  return kExitOk;
}

int RunFsa(const PackingFlags& flags, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<std::vector<StoredJob>> jobs = ListJobs(ctx->client.get(), ctx->file.cluster);
  if (!jobs.ok()) return Failed(err, *ctx, jobs.status());
  const JobRecord* chosen = nullptr;
  for (const StoredJob& j : *jobs) {
    if (flags.fsa_jobid ? j.record.id == flags.fsa_jobid
                        : j.record.type == "FSAnalyze" && j.record.state == JobState::kSucceeded) {
      chosen = &j.record;  // by id: the last one that qualifies is the latest
    }
  }
  if (!chosen) {
    return Fail(err, flags.fsa_jobid ? "no job " + std::to_string(flags.fsa_jobid)
                                     : std::string("no FSAnalyze job has succeeded yet: run "
                                                   "`tessera job start FSAnalyze`"));
  }
  if (chosen->type != "FSAnalyze" || chosen->state != JobState::kSucceeded) {
    return Fail(err, "job " + std::to_string(chosen->id) + " is " + chosen->type + ", " +
                         std::string(JobStateName(chosen->state)) +
                         ": --fsa-jobid needs an FSAnalyze job that succeeded");
  }
  Result<FsaSummary> summary = FsaSummary::FromCounters(chosen->counters);
  if (!summary.ok()) return Fail(err, summary.status().message());
  out << FormatFsaReport(chosen->id, chosen->ended_ns, *summary);
  return kExitOk;
}

int RunPacking(const PackingFlags& flags, std::ostream& out, std::ostream& err) {
  if (flags.ls) return RunList(flags, out, err);
  if (flags.fsa || flags.fsa_jobid) return RunFsa(flags, out, err);
  err << "tessera: packing: give --ls to list the settings, --fsa for the efficiency report, or "
         "`packing set` to change them\n";
  return kExitUsage;
}

int RunSet(const SetFlags& flags, std::ostream& out, std::ostream& err) {
  // Every value alone first: a typo is reported before etcd is asked.
  std::map<std::string, config::SettingValue> given;
  std::vector<std::pair<std::string, std::string>> writes;  // setting, text as given
  for (const SetOption& o : flags.options) {
    if (o.option->count() == 0) continue;
    const config::SettingDef* def = config::FindSetting(o.setting);
    Result<config::SettingValue> value = config::ParseSettingValue(*def, o.value);
    if (!value.ok()) {
      return Fail(err, std::string(o.flag) + ": " + std::string(value.status().message()));
    }
    given[o.setting] = *value;
    writes.emplace_back(o.setting, o.value);
  }
  if (writes.empty()) {
    err << "tessera: packing set: give at least one setting to change (see --help)\n";
    return kExitUsage;
  }
  // Then together with the values they join.
  OpenedSettings opened;
  if (std::optional<int> failed = OpenSettings(flags.cluster, err, &opened)) return *failed;
  ConfigSnapshot next = opened.snapshot;
  for (const auto& [name, value] : given) next.values[name].value = value;
  Status valid = filepool::ValidatePackingSettings(filepool::PackingSettingsFrom(next));
  if (!valid.ok()) return Fail(err, std::string(valid.message()) + "; nothing changed");
  // One transaction: a refusal or a lost etcd leaves every setting as it was.
  if (Status st = opened.store->SetAll(writes); !st.ok()) return Failed(err, *opened.ctx, st);
  Result<ConfigSnapshot> after = Load(*opened.store);
  if (!after.ok()) return Failed(err, *opened.ctx, after.status());
  out << filepool::FormatPackingSettings(filepool::PackingSettingsFrom(*after));
  err << "tessera: note: run `tessera config apply` to make nodes use the new settings\n";
  return kExitOk;
}

void AddClusterFlag(CLI::App* cmd, std::string* cluster) {
  cmd->add_option("--cluster", *cluster,
                  "Cluster file (default: $TESSERA_CLUSTER, then ./var/cluster.json)");
}

}  // namespace

void AddPackingCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out_arg,
                       std::ostream* err_arg) {
  std::ostream* out = out_arg ? out_arg : &std::cout;
  std::ostream* err = err_arg ? err_arg : &std::cerr;
  auto flags = std::make_shared<PackingFlags>();
  CLI::App* packing =
      app.add_subcommand("packing", "Small-file packing settings (--ls lists them; set changes)");
  packing->require_subcommand(0, 1);
  packing->add_flag("--ls", flags->ls, "List the packing settings");
  packing->add_flag("--fsa", flags->fsa,
                    "Storage efficiency (logical, physical) from the latest FSAnalyze job");
  packing->add_option("--fsa-jobid", flags->fsa_jobid, "With --fsa: that FSAnalyze job instead")
      ->check(WholeNumber());
  AddClusterFlag(packing, &flags->cluster);

  auto set_flags = std::make_shared<SetFlags>();
  CLI::App* set = packing->add_subcommand("set", "Validate and write packing settings");
  for (SetOption& o : set_flags->options) o.option = set->add_option(o.flag, o.value, o.help);
  AddClusterFlag(set, &set_flags->cluster);
  set->callback([=] {
    if (set_flags->cluster.empty()) set_flags->cluster = flags->cluster;  // packing --cluster F set
    *exit_code = RunSet(*set_flags, *out, *err);
  });

  packing->callback([=] {
    if (set->parsed()) return;  // the subcommand did the work
    *exit_code = RunPacking(*flags, *out, *err);
  });
}

}  // namespace tessera::cluster::admin
