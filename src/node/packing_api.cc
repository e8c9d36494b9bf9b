#include "node/packing_api.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/object_name.h"
#include "common/units.h"
#include "io/clone_store.h"
#include "io/shadow_store.h"
#include "jobs/container_inventory.h"
#include "jobs/sfse_assess.h"
#include "jobs/shadow_store_delete.h"
#include "node/storage_node.h"

namespace tessera::node {
namespace {

using nlohmann::json;

constexpr uint64_t kDefaultMinSize = 1016 * kKiB;
constexpr uint64_t kDefaultMaxFileSize = 1016 * kKiB;

void Reply(httplib::Response& res, int code, const json& body) {
  res.status = code;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n",
                  "application/json");
}

void ReplyError(httplib::Response& res, const Status& s) {
  int code = s.code() == StatusCode::kInvalidArgument ? 400
             : s.code() == StatusCode::kUnavailable   ? 503
                                                      : 500;
  Reply(res, code, {{"error", {{"code", StatusCodeName(s.code())}, {"message", s.message()}}}});
}

// A size parameter, or `fallback` when absent.
Result<uint64_t> SizeParam(const httplib::Request& req, const char* name, uint64_t fallback) {
  if (!req.has_param(name)) return fallback;
  std::optional<uint64_t> size = ParseSize(req.get_param_value(name));
  if (!size) {
    return Status::InvalidArgument(std::string(name) + " '" + req.get_param_value(name) +
                                   "' is not a size");
  }
  return *size;
}

// The `path` filter of an assessment: NS/PREFIX, or the start of a
// namespace; empty for every file. Checked as names are elsewhere: a filter
// no file could match would otherwise pass for an assessment of nothing.
Status ValidatePathFilter(std::string_view filter) {
  if (filter.empty()) return Status::Ok();
  const size_t slash = filter.find('/');
  Status s = ValidateNamespace(filter.substr(0, slash));
  if (s.ok() && slash != std::string_view::npos) s = ValidatePrefix(filter.substr(slash + 1));
  if (s.ok()) return s;
  return Status::InvalidArgument("path " + QuoteForMessage(filter) + ": " + s.message());
}

json ChunkJson(const jobs::ChunkUsage& c) {
  return {{"chunk", c.name.chunk},
          {"size", c.record.size},
          {"freed", c.freed()},
          {"physical_bytes", c.physical_bytes},
          {"live_bytes", c.live_bytes},
          {"refs", c.refs},
          {"fragmentation", c.fragmentation()},
          {"efficiency", c.efficiency()},
          {"max_efficiency", c.max_efficiency()},
          {"needs_defrag", c.NeedsDefrag(jobs::kDefragTarget)},
          {"geometry", c.freed() ? std::string("-") : c.record.geometry.ToString()}};
}

}  // namespace

json ContainersJson(const jobs::ContainerInventory& inventory, uint64_t min_size, bool verbose) {
  json containers = json::array();
  for (const auto& [sin, c] : inventory.containers()) {
    json j = {{"sin", io::FormatSin(sin)},
              {"lsize", c.lsize},
              {"psize", c.psize},
              {"refs", c.refs},
              {"filesize", c.filesize},
              {"created_ns", c.created_ns},
              {"type", c.clone ? "clone" : "container"},
              {"underfull", c.filesize < min_size},
              {"fragmentation", c.fragmentation()},
              {"efficiency", c.efficiency()},
              {"protection", c.protection},
              {"chunks", c.chunks.size()}};
    if (verbose) {
      json chunks = json::array();
      for (const auto& [n, chunk] : c.chunks) chunks.push_back(ChunkJson(chunk));
      j["chunk_list"] = std::move(chunks);
    }
    containers.push_back(std::move(j));
  }
  return {{"containers", std::move(containers)}, {"dangling_refs", inventory.dangling_refs()}};
}

void RegisterPackingApi(httplib::Server& server, StorageNode& node) {
  server.Get("/v1/sstores", [&node](const httplib::Request& req, httplib::Response& res) {
    Result<uint64_t> min_size = SizeParam(req, "min_size", kDefaultMinSize);
    if (!min_size.ok()) return ReplyError(res, min_size.status());
    Result<jobs::ContainerInventory> inventory = jobs::ContainerInventory::Take(node.metadata());
    if (!inventory.ok()) return ReplyError(res, inventory.status());
    Reply(res, 200, ContainersJson(*inventory, *min_size, req.get_param_value("verbose") == "1"));
  });
  server.Get("/v1/sstores/defrag-assessment", [&node](const httplib::Request&,
                                                      httplib::Response& res) {
    Result<jobs::ContainerInventory> inventory = jobs::ContainerInventory::Take(node.metadata());
    if (!inventory.ok()) return ReplyError(res, inventory.status());
    Reply(res, 200, cluster::ToJson(jobs::AssessDefrag(*inventory)));
  });
  server.Get("/v1/sfse/assess", [&node](const httplib::Request& req, httplib::Response& res) {
    Result<uint64_t> max_size = SizeParam(req, "max_size", kDefaultMaxFileSize);
    if (!max_size.ok()) return ReplyError(res, max_size.status());
    const std::string prefix = req.get_param_value("path");
    if (Status s = ValidatePathFilter(prefix); !s.ok()) return ReplyError(res, s);
    Result<layout::Geometry> container = layout::PlanGeometry(
        node.options().protection, io::kContainerChunkSize, node.pieces().WritableTopology());
    if (!container.ok()) return ReplyError(res, container.status());
    jobs::SfseAssessor assessor(*max_size, *container);
    Status scanned = node.metadata().ForEach([&](const meta::FileRecord& r) {
      // Shadow stores and snapshots share bytes already; they are not assessed.
      if (r.ns == io::kShadowStoreNamespace || r.ns == io::kSnapshotNamespace) return true;
      if (prefix.empty() || (r.ns + "/" + r.path).rfind(prefix, 0) == 0) assessor.Add(r);
      return true;
    });
    if (!scanned.ok()) return ReplyError(res, scanned);
    Reply(res, 200, cluster::ToJson(assessor.Finish()));
  });
}

}  // namespace tessera::node
