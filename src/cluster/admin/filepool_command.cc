#include "cluster/admin/filepool_command.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cluster/admin/admin_context.h"
#include "cluster/config/setting.h"
#include "cluster/filepool/filepool_store.h"

namespace tessera::cluster::admin {
namespace {

using filepool::FilePoolPolicy;
using filepool::FilePoolPolicyChange;

struct PolicyFlags {
  std::string cluster;
  std::string name;
  std::string enable_packing;
  std::string path;
  std::string min_age;
  std::string max_size;
  std::string description;
  int apply_order = 0;
  bool json = false;
  // Set when the option was given (CLI11 fills these after parsing).
  CLI::Option* enable_packing_opt = nullptr;
  CLI::Option* path_opt = nullptr;
  CLI::Option* min_age_opt = nullptr;
  CLI::Option* max_size_opt = nullptr;
  CLI::Option* description_opt = nullptr;
  CLI::Option* apply_order_opt = nullptr;
};

bool Given(const CLI::Option* o) { return o != nullptr && o->count() > 0; }

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Failed(std::ostream& err, const AdminContext& ctx, const Status& s) {
  if (s.code() == StatusCode::kUnavailable) return Fail(err, EtcdFailure(ctx.file, s));
  return Fail(err, s.message());
}

// The option values parsed as the settings of the same kind are:
// "--min-age '5x': not a duration (e.g. 30, 30s, 5m, 1h, 1d)".
Result<config::SettingValue> ParseAs(std::string_view flag, config::SettingType type, int64_t min,
                                     int64_t max, const std::string& text) {
  config::SettingDef def{flag, type, config::SettingKind::kLive, "", min, max, "option"};
  return config::ParseSettingValue(def, text);
}

// The change the options ask for; InvalidArgument for a value that does not parse.
Result<FilePoolPolicyChange> ChangeFrom(const PolicyFlags& f) {
  FilePoolPolicyChange change;
  if (Given(f.enable_packing_opt)) {
    ASSIGN_OR_RETURN(config::SettingValue v, ParseAs("--enable-packing", config::SettingType::kBool,
                                                     0, 0, f.enable_packing));
    change.enable_packing = v.number != 0;
  }
  if (Given(f.path_opt)) {
    RETURN_IF_ERROR(filepool::ValidatePolicyPathPrefix(f.path));
    change.path_prefix = f.path;
  }
  if (Given(f.min_age_opt)) {
    ASSIGN_OR_RETURN(config::SettingValue v, ParseAs("--min-age", config::SettingType::kDuration, 0,
                                                     filepool::kMaxPolicyMinAgeSeconds, f.min_age));
    change.min_age_seconds = v.number;
  }
  if (Given(f.max_size_opt)) {
    if (f.max_size == "default") {
      change.max_size = std::optional<uint64_t>();
    } else {
      ASSIGN_OR_RETURN(config::SettingValue v,
                       ParseAs("--max-size", config::SettingType::kSize, 1,
                               static_cast<int64_t>(filepool::kMaxPolicyMaxSize), f.max_size));
      change.max_size = std::optional<uint64_t>(static_cast<uint64_t>(v.number));
    }
  }
  if (Given(f.description_opt)) change.description = f.description;
  if (Given(f.apply_order_opt)) change.apply_order = f.apply_order;
  return change;
}

int RunCreate(const PolicyFlags& f, std::ostream& out, std::ostream& err) {
  if (Status name = filepool::ValidatePolicyName(f.name); !name.ok()) {
    return Fail(err, name.message());
  }
  Result<FilePoolPolicyChange> change = ChangeFrom(f);
  if (!change.ok()) return Fail(err, change.status().message());
  if (change->max_size && !change->max_size->has_value()) {
    return Fail(err,
                "--max-size default: a new policy uses the packing_max_file_size setting "
                "when --max-size is not given");
  }
  FilePoolPolicy p;
  p.name = f.name;
  p.enable_packing = *change->enable_packing;  // required option
  p.path_prefix = *change->path_prefix;        // required option
  if (change->description) p.description = *change->description;
  if (change->min_age_seconds) p.min_age_seconds = *change->min_age_seconds;
  if (change->max_size) p.max_size = *change->max_size;
  if (change->apply_order) {
    if (*change->apply_order < 1) {
      return Fail(err,
                  "apply order " + std::to_string(*change->apply_order) + " must be 1 or more");
    }
    p.apply_order = *change->apply_order;
  }
  Result<AdminContext> ctx = OpenCluster(f.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<FilePoolPolicy> created =
      filepool::CreateFilePoolPolicy(ctx->client.get(), ctx->file.cluster, p, NowNs());
  if (!created.ok()) return Failed(err, *ctx, created.status());
  out << filepool::FormatFilePoolPolicyView(*created);
  return kExitOk;
}

int RunModify(const PolicyFlags& f, std::ostream& out, std::ostream& err) {
  Result<FilePoolPolicyChange> change = ChangeFrom(f);
  if (!change.ok()) return Fail(err, change.status().message());
  if (change->empty()) {
    err << "tessera: filepool policies modify: give at least one option to change (see --help)\n";
    return kExitUsage;
  }
  Result<AdminContext> ctx = OpenCluster(f.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<FilePoolPolicy> modified = filepool::ModifyFilePoolPolicy(
      ctx->client.get(), ctx->file.cluster, f.name, *change, NowNs());
  if (!modified.ok()) return Failed(err, *ctx, modified.status());
  out << filepool::FormatFilePoolPolicyView(*modified);
  return kExitOk;
}

int RunView(const PolicyFlags& f, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(f.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<filepool::StoredFilePoolPolicy> p =
      filepool::GetFilePoolPolicy(ctx->client.get(), ctx->file.cluster, f.name);
  if (!p.ok()) return Failed(err, *ctx, p.status());
  out << filepool::FormatFilePoolPolicyView(p->policy);
  return kExitOk;
}

int RunDelete(const PolicyFlags& f, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(f.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Status st = filepool::DeleteFilePoolPolicy(ctx->client.get(), ctx->file.cluster, f.name);
  if (!st.ok()) return Failed(err, *ctx, st);
  out << "deleted file pool policy " << f.name << "\n";
  return kExitOk;
}

int RunList(const PolicyFlags& f, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(f.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<std::vector<filepool::StoredFilePoolPolicy>> list =
      filepool::ListFilePoolPolicies(ctx->client.get(), ctx->file.cluster);
  if (!list.ok()) return Failed(err, *ctx, list.status());
  std::vector<FilePoolPolicy> policies;
  for (const auto& s : *list) policies.push_back(s.policy);
  if (f.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const FilePoolPolicy& p : policies) {
      array.push_back(nlohmann::json::parse(filepool::FilePoolPolicyJson(p)));
    }
    out << array.dump(2) << "\n";
  } else {
    out << filepool::FormatFilePoolPolicyList(policies);
  }
  return kExitOk;
}

void AddClusterFlag(CLI::App* cmd, PolicyFlags& f) {
  cmd->add_option("--cluster", f.cluster,
                  "Cluster file (default: $TESSERA_CLUSTER, then ./var/cluster.json)");
}

// The options of create (required = true) and modify.
void AddPolicyOptions(CLI::App* cmd, PolicyFlags& f, bool create) {
  cmd->add_option("name", f.name, "Policy name (1..64 of A-Z a-z 0-9 _ -)")->required();
  f.enable_packing_opt =
      cmd->add_option("--enable-packing", f.enable_packing, "Pack matching files (true/false)");
  f.path_opt = cmd->add_option("--path", f.path,
                               "Files whose <namespace>/<path> begins with this, e.g. "
                               "archive/dicom/");
  f.min_age_opt = cmd->add_option("--min-age", f.min_age,
                                  "Pack only files not modified for this long (e.g. 1h, 1d; "
                                  "create's default 1d)");
  f.max_size_opt = cmd->add_option("--max-size", f.max_size,
                                   create ? "Pack only files up to this size (default: the "
                                            "packing_max_file_size setting)"
                                          : "Pack only files up to this size; 'default': the "
                                            "packing_max_file_size setting");
  f.description_opt = cmd->add_option("--description", f.description, "Free text");
  f.apply_order_opt = cmd->add_option("--apply-order", f.apply_order,
                                      create ? "Position among the policies (default: last)"
                                             : "Move to this position among the policies");
  if (create) {
    f.enable_packing_opt->required();
    f.path_opt->required();
  }
  AddClusterFlag(cmd, f);
}

}  // namespace

void AddFilePoolCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out_arg,
                        std::ostream* err_arg) {
  std::ostream* out = out_arg ? out_arg : &std::cout;
  std::ostream* err = err_arg ? err_arg : &std::cerr;
  CLI::App* filepool = app.add_subcommand("filepool", "File pool policies: which files are packed");
  filepool->require_subcommand(1);
  CLI::App* policies = filepool->add_subcommand("policies", "Create, view and change policies");
  policies->require_subcommand(1);

  auto create_flags = std::make_shared<PolicyFlags>();
  CLI::App* create = policies->add_subcommand("create", "Add a policy (last unless --apply-order)");
  AddPolicyOptions(create, *create_flags, true);
  create->callback([=] { *exit_code = RunCreate(*create_flags, *out, *err); });

  auto modify_flags = std::make_shared<PolicyFlags>();
  CLI::App* modify = policies->add_subcommand("modify", "Change the options given");
  AddPolicyOptions(modify, *modify_flags, false);
  modify->callback([=] { *exit_code = RunModify(*modify_flags, *out, *err); });

  auto view_flags = std::make_shared<PolicyFlags>();
  CLI::App* view = policies->add_subcommand("view", "Show one policy");
  view->add_option("name", view_flags->name, "Policy name")->required();
  AddClusterFlag(view, *view_flags);
  view->callback([=] { *exit_code = RunView(*view_flags, *out, *err); });

  auto delete_flags = std::make_shared<PolicyFlags>();
  CLI::App* del = policies->add_subcommand("delete", "Remove a policy; later ones move up");
  del->add_option("name", delete_flags->name, "Policy name")->required();
  AddClusterFlag(del, *delete_flags);
  del->callback([=] { *exit_code = RunDelete(*delete_flags, *out, *err); });

  auto list_flags = std::make_shared<PolicyFlags>();
  CLI::App* list = policies->add_subcommand("list", "Every policy in apply order");
  list->add_flag("--json", list_flags->json, "Print JSON (the stored records)");
  AddClusterFlag(list, *list_flags);
  list->callback([=] { *exit_code = RunList(*list_flags, *out, *err); });
}

}  // namespace tessera::cluster::admin
