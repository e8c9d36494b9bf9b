#include "cluster/admin/job_command.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cluster/admin/admin_context.h"
#include "cluster/jobs/job_store.h"
#include "cluster/whole_number.h"

namespace tessera::cluster::admin {
namespace {

struct JobFlags {
  std::string cluster;
  std::string type;
  uint64_t id = 0;
  bool json = false;
  bool verbose = false;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Failed(std::ostream& err, const AdminContext& ctx, const Status& s) {
  if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kFailedPrecondition ||
      s.code() == StatusCode::kInvalidArgument) {
    return Fail(err, s.message());
  }
  return Fail(err, EtcdFailure(ctx.file, s));
}

int RunStart(const JobFlags& flags, std::ostream& out, std::ostream& err) {
  Result<std::string> type = CanonicalJobType(flags.type);
  if (!type.ok()) return Fail(err, type.status().message());
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<JobRecord> job = CreateJob(ctx->client.get(), ctx->file.cluster, *type, "manual", NowNs());
  if (!job.ok()) return Failed(err, *ctx, job.status());
  out << "job " << job->id << ": " << job->type << " queued\n";
  return kExitOk;
}

int RunList(const JobFlags& flags, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<std::vector<StoredJob>> jobs = ListJobs(ctx->client.get(), ctx->file.cluster);
  if (!jobs.ok()) return Failed(err, *ctx, jobs.status());
  std::vector<JobRecord> records;
  for (const StoredJob& j : *jobs) records.push_back(j.record);
  if (flags.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const JobRecord& r : records) {
      nlohmann::json j = nlohmann::json::parse(JobRecordJson(r));
      j["phase"] = r.CurrentPhase();
      j["percent"] = r.Percent();
      list.push_back(j);
    }
    out << list.dump(2) << "\n";
  } else {
    out << FormatJobList(records);
  }
  return kExitOk;
}

int RunControl(const JobFlags& flags, JobControl control, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<JobRecord> job =
      ControlJob(ctx->client.get(), ctx->file.cluster, flags.id, control, NowNs());
  if (!job.ok()) return Failed(err, *ctx, job.status());
  out << "job " << job->id << ": " << JobStateName(job->state) << "\n";
  return kExitOk;
}

int RunReport(const JobFlags& flags, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<StoredJob> job = ReadJob(ctx->client.get(), ctx->file.cluster, flags.id);
  if (!job.ok()) return Failed(err, *ctx, job.status());
  out << FormatJobReport(job->record, flags.verbose);
  return kExitOk;
}

void AddClusterFlag(CLI::App* cmd, std::shared_ptr<JobFlags> flags) {
  cmd->add_option("--cluster", flags->cluster,
                  "Cluster file (default: $TESSERA_CLUSTER, then ./var/cluster.json)");
}

}  // namespace

void AddJobCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out_arg,
                   std::ostream* err_arg) {
  std::ostream* out = out_arg ? out_arg : &std::cout;
  std::ostream* err = err_arg ? err_arg : &std::cerr;
  CLI::App* job =
      app.add_subcommand("job",
                         "Cluster jobs run by the master (FlexProtect, SmartPools, FSAnalyze, "
                         "ShadowStoreDelete, MediaScan)");
  job->require_subcommand(1);

  auto start_flags = std::make_shared<JobFlags>();
  CLI::App* start = job->add_subcommand("start", "Queue a job; the master runs it");
  start
      ->add_option("type", start_flags->type,
                   "Job type: FlexProtect, SmartPools, FSAnalyze, ShadowStoreDelete or MediaScan")
      ->required();
  AddClusterFlag(start, start_flags);
  start->callback([=] { *exit_code = RunStart(*start_flags, *out, *err); });

  auto list_flags = std::make_shared<JobFlags>();
  CLI::App* list = job->add_subcommand("list", "Every job with its state, phase and progress");
  list->add_flag("--json", list_flags->json, "Print JSON");
  AddClusterFlag(list, list_flags);
  list->callback([=] { *exit_code = RunList(*list_flags, *out, *err); });

  const std::pair<const char*, JobControl> controls[] = {{"pause", JobControl::kPause},
                                                         {"resume", JobControl::kResume},
                                                         {"cancel", JobControl::kCancel}};
  for (const auto& [name, control] : controls) {
    auto flags = std::make_shared<JobFlags>();
    CLI::App* cmd = job->add_subcommand(name, std::string(name) + " a job");
    cmd->add_option("id", flags->id, "Job id")->required()->check(WholeNumber());
    AddClusterFlag(cmd, flags);
    JobControl c = control;
    cmd->callback([=] { *exit_code = RunControl(*flags, c, *out, *err); });
  }

  CLI::App* reports = job->add_subcommand("reports", "Job reports");
  reports->require_subcommand(1);
  auto report_flags = std::make_shared<JobFlags>();
  CLI::App* view = reports->add_subcommand("view", "A job's report");
  view->add_option("id", report_flags->id, "Job id")->required()->check(WholeNumber());
  view->add_flag(
      "-v,--verbose", report_flags->verbose,
      "Add the details the job recorded (e.g. files it could not handle, containers written)");
  AddClusterFlag(view, report_flags);
  view->callback([=] { *exit_code = RunReport(*report_flags, *out, *err); });
}

}  // namespace tessera::cluster::admin
