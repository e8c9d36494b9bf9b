#include "cluster/admin/sstore_command.h"

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cluster/admin/admin_context.h"
#include "cluster/admin/node_view.h"
#include "cluster/config/config_store.h"
#include "cluster/config/config_uri.h"
#include "cluster/filepool/packing_settings.h"
#include "cluster/jobs/packing_reports.h"
#include "common/units.h"

namespace tessera::cluster::admin {
namespace {

using nlohmann::json;

struct SstoreFlags {
  std::string cluster;
  bool verbose = false;
  bool json = false;
  bool dry_run = false;
  std::string path;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sizes in whole KiB, as the list prints them: "128128K".
std::string KiB(uint64_t bytes) { return std::to_string((bytes + 1023) / 1024) + "K"; }

std::string Date(int64_t ns, int64_t now_ns) {
  time_t t = static_cast<time_t>(ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[32];
  const int64_t half_year_ns = 183LL * 86400 * 1'000'000'000;
  std::strftime(text, sizeof text, now_ns - ns < half_year_ns ? "%b %e %H:%M" : "%b %e  %Y", &tm);
  return text;
}

// The current packing settings, or the defaults when etcd cannot say.
filepool::PackingSettings Settings(const AdminContext& ctx) {
  Result<config::ConfigUri> uri = config::ParseConfigUri(ctx.file.ConfigUri());
  if (uri.ok()) {
    config::ConfigStore store(ctx.client.get(), uri->root);
    Result<config::ConfigSnapshot> snapshot = store.Load();
    if (snapshot.ok()) return filepool::PackingSettingsFrom(*snapshot);
  }
  return filepool::PackingSettingsFrom(std::map<std::string, config::SettingValue>{});
}

// GET `path` from the first node of the cluster file that answers.
Result<json> AskAnyNode(const AdminContext& ctx, const std::string& path) {
  Status last = Status::Unavailable("the cluster file lists no node");
  for (const ClusterFileNode& node : ctx.file.nodes) {
    Result<std::string> body =
        GetNodeBody(node.api, path, std::chrono::milliseconds(1000), std::chrono::seconds(300));
    if (body.status().code() == StatusCode::kUnavailable) {
      last = body.status();
      continue;
    }
    if (!body.ok()) return body.status();
    json j = json::parse(*body, nullptr, false);
    if (j.is_discarded()) return Status::Corruption("node " + node.api + " sent malformed JSON");
    return j;
  }
  return Status::Unavailable("no node answered: " + last.message());
}

int RunList(const SstoreFlags& flags, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  const filepool::PackingSettings settings = Settings(*ctx);
  Result<json> list =
      AskAnyNode(*ctx, "/v1/sstores?min_size=" + std::to_string(settings.container_min_size) +
                           (flags.verbose ? "&verbose=1" : ""));
  if (!list.ok()) return Fail(err, list.status().message());
  if (flags.json) {
    out << list->dump(2) << "\n";
  } else {
    out << FormatContainerList(*list, flags.verbose, NowNs());
  }
  return kExitOk;
}

int RunDefrag(const SstoreFlags& flags, std::ostream& out, std::ostream& err) {
  if (!flags.dry_run) {
    err << "tessera: sstore defrag only assesses (--dry-run); the defragmenter runs as a job: "
           "tessera config set sstore_defrag_enabled true; tessera job start ShadowStoreDelete\n";
    return kExitUsage;
  }
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  Result<json> a = AskAnyNode(*ctx, "/v1/sstores/defrag-assessment");
  if (!a.ok()) return Fail(err, a.status().message());
  Result<DefragAssessment> assessment = DefragAssessmentFromJson(*a);
  if (!assessment.ok()) return Fail(err, assessment.status().message());
  // "Processed" below counts the stores a run would work on; this counts all.
  out << "Assessed " << assessment->stores_total << " shadow stores (dry run: nothing moved)\n"
      << FormatDefragAssessment(*assessment);
  return kExitOk;
}

int RunAssess(const SstoreFlags& flags, std::ostream& out, std::ostream& err) {
  Result<AdminContext> ctx = OpenCluster(flags.cluster);
  if (!ctx.ok()) return Fail(err, ctx.status().message());
  const filepool::PackingSettings settings = Settings(*ctx);
  std::string query = "/v1/sfse/assess?max_size=" + std::to_string(settings.max_file_size);
  if (!flags.path.empty()) query += "&path=" + httplib::detail::encode_query_param(flags.path);
  Result<json> e = AskAnyNode(*ctx, query);
  if (!e.ok()) return Fail(err, e.status().message());
  if (flags.json) {
    out << e->dump(2) << "\n";
    return kExitOk;
  }
  Result<SfseEstimate> estimate = SfseEstimateFromJson(*e);
  if (!estimate.ok()) return Fail(err, estimate.status().message());
  out << FormatSfseEstimate(*estimate);
  return kExitOk;
}

void AddClusterFlag(CLI::App* cmd, std::shared_ptr<SstoreFlags> flags) {
  cmd->add_option("--cluster", flags->cluster,
                  "Cluster file (default: $TESSERA_CLUSTER, then ./var/cluster.json)");
}

}  // namespace

std::string FormatContainerList(const json& list, bool verbose, int64_t now_ns) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%19s %10s %10s %7s %10s %-12s", "SIN", "lsize", "psize", "refs",
                "filesize", "date");
  out += line;
  if (verbose) {
    std::snprintf(line, sizeof line, " %-9s %-9s %-10s %s", "sin type", "underfull", "frag score",
                  "efficiency");
    out += line;
  }
  out += "\n";
  for (const json& c : list.at("containers")) {
    std::snprintf(line, sizeof line, "%19s %10s %10s %7llu %10s %-12s",
                  c.at("sin").get<std::string>().c_str(),
                  KiB(c.at("lsize").get<uint64_t>()).c_str(),
                  KiB(c.at("psize").get<uint64_t>()).c_str(),
                  static_cast<unsigned long long>(c.at("refs").get<uint64_t>()),
                  KiB(c.at("filesize").get<uint64_t>()).c_str(),
                  Date(c.at("created_ns").get<int64_t>(), now_ns).c_str());
    out += line;
    if (verbose) {
      std::snprintf(line, sizeof line, " %-9s %-9s %-10.2f %.2f",
                    c.at("type").get<std::string>().c_str(),
                    c.at("underfull").get<bool>() ? "yes" : "no",
                    c.at("fragmentation").get<double>(), c.at("efficiency").get<double>());
      out += line;
    }
    out += "\n";
    if (verbose && c.contains("chunk_list")) {
      for (const json& k : c.at("chunk_list")) {
        if (k.at("freed").get<bool>()) {
          std::snprintf(line, sizeof line, "    chunk %2d  freed\n", k.at("chunk").get<int>());
        } else {
          std::snprintf(line, sizeof line,
                        "    chunk %2d  %10s live of %10s, %5llu refs, frag %.2f, efficiency "
                        "%.2f of %.2f%s  %s\n",
                        k.at("chunk").get<int>(), KiB(k.at("live_bytes").get<uint64_t>()).c_str(),
                        KiB(k.at("size").get<uint64_t>()).c_str(),
                        static_cast<unsigned long long>(k.at("refs").get<uint64_t>()),
                        k.at("fragmentation").get<double>(), k.at("efficiency").get<double>(),
                        k.at("max_efficiency").get<double>(),
                        k.at("needs_defrag").get<bool>() ? " (needs defrag)" : "",
                        k.at("geometry").get<std::string>().c_str());
        }
        out += line;
      }
    }
  }
  if (list.value("dangling_refs", 0) > 0) {
    out += "WARNING: " + std::to_string(list.at("dangling_refs").get<uint64_t>()) +
           " packed file(s) point into a missing chunk\n";
  }
  return out;
}

void AddSstoreCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out_arg,
                       std::ostream* err_arg) {
  std::ostream* out = out_arg ? out_arg : &std::cout;
  std::ostream* err = err_arg ? err_arg : &std::cerr;
  CLI::App* sstore = app.add_subcommand("sstore", "Containers (shadow stores) of packed files");
  sstore->require_subcommand(1);

  auto list_flags = std::make_shared<SstoreFlags>();
  CLI::App* list = sstore->add_subcommand("list", "Every container with its sizes and scores");
  list->add_flag("-v,--verbose", list_flags->verbose,
                 "Add type, underfull, fragmentation score, efficiency and one line per chunk");
  list->add_flag("--json", list_flags->json, "Print JSON");
  AddClusterFlag(list, list_flags);
  list->callback([=] { *exit_code = RunList(*list_flags, *out, *err); });

  auto defrag_flags = std::make_shared<SstoreFlags>();
  CLI::App* defrag = sstore->add_subcommand(
      "defrag", "Assess what the defragmenter would reclaim, without moving data");
  defrag->add_flag("-d,--dry-run", defrag_flags->dry_run, "Assess only (required)");
  AddClusterFlag(defrag, defrag_flags);
  defrag->callback([=] { *exit_code = RunDefrag(*defrag_flags, *out, *err); });

  auto assess_flags = std::make_shared<SstoreFlags>();
  CLI::App* assess = app.add_subcommand(
      "sfse-assess", "Estimate what packing small files would save, without moving data");
  assess->add_option("--path", assess_flags->path,
                     "Only files under NAMESPACE/PREFIX (default: every file)");
  assess->add_flag("--json", assess_flags->json, "Print JSON");
  AddClusterFlag(assess, assess_flags);
  assess->callback([=] { *exit_code = RunAssess(*assess_flags, *out, *err); });
}

}  // namespace tessera::cluster::admin
