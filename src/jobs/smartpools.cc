#include "jobs/smartpools.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "io/clone_store.h"
#include "io/file_writer.h"
#include "io/shadow_store.h"
#include "jobs/container_inventory.h"
#include "jobs/container_packer.h"

namespace tessera::jobs {
namespace {

// Files that match no policy are reported under this name.
constexpr std::string_view kNoPolicy = "(no policy)";

std::string Name(const meta::FileRecord& r) { return r.ns + "/" + r.path; }

std::string Directory(const meta::FileRecord& r) {
  size_t slash = r.path.rfind('/');
  return r.ns + "/" + (slash == std::string::npos ? "" : r.path.substr(0, slash));
}

struct Work {
  meta::FileRecord record;  // with the attributes it should get
  PackAction action = PackAction::kNone;
  std::string policy;  // for the report
};

// Writes a packed file back natively and switches its record.
Status Unpack(io::PieceStore& pieces, meta::MetadataStore& metadata, const meta::FileRecord& file,
              uint64_t object_id, bool* raced) {
  ASSIGN_OR_RETURN(layout::ProtectionPolicy policy,
                   layout::ProtectionPolicy::Parse(file.protection));
  io::FileWriter writer(pieces, policy, object_id);
  Status copied =
      io::ReadFileContent(pieces, metadata, file, 0, file.size,
                          [&writer](std::span<const uint8_t> b) { return writer.Write(b); });
  Result<io::WrittenFile> written = copied.ok() ? writer.Finish() : Result<io::WrittenFile>(copied);
  if (!written.ok()) {
    writer.Abort();
    return written.status();
  }
  if (written->crc32c != file.crc32c || written->sha256 != file.sha256) {
    writer.Abort();
    return Status::Corruption("content read back does not match its checksums");
  }
  meta::FileRecord native = file;
  native.object_id = object_id;
  native.packed.reset();
  native.geometry = written->geometry;
  native.drives = written->drives;
  Result<bool> replaced = metadata.ReplacePlacement(native, file.object_id);
  if (replaced.status().code() == StatusCode::kIndeterminate) return replaced.status();
  if (!replaced.ok() || !*replaced) {
    writer.Abort();
    if (!replaced.ok()) return replaced.status();
    *raced = true;
  }
  return Status::Ok();
}

}  // namespace

std::string PolicyCounter(std::string_view policy, std::string_view counter) {
  return "policy " + std::string(policy) + ": " + std::string(counter);
}

Status SmartPoolsJob::Run(JobContext& context) {
  ASSIGN_OR_RETURN(Inputs in, inputs_());
  ASSIGN_OR_RETURN(double duty, ImpactDutyCycle(in.impact));
  Pacer pacer(duty);
  const std::string protection = in.protection.ToString();
  const int64_t now = now_();

  RETURN_IF_ERROR(context.BeginPhase("scan", 0));
  std::vector<meta::FileRecord> candidates;  // files a policy matches, or packed ones
  uint64_t scanned = 0;
  Result<ContainerInventory> inventory =
      ContainerInventory::Take(metadata_, [&](const meta::FileRecord& r) {
        // Snapshots and clones keep the bytes they share where they are.
        if (r.ns == io::kSnapshotNamespace || r.is_cloned()) return;
        ++scanned;
        if (r.is_packed() || r.packing_policy != meta::PackingPlace::kNative ||
            r.packing_target != meta::PackingPlace::kNative || in.match(r.ns, r.path) >= 0) {
          candidates.push_back(r);
        }
      });
  if (!inventory.ok()) return inventory.status();

  std::map<std::string, std::set<std::string>> directories;
  std::map<std::string, uint64_t> counts;  // "policy X: counter" -> n
  std::vector<Work> pack, unpack, attributes;
  uint64_t pack_bytes = 0;
  for (meta::FileRecord& r : candidates) {
    int index = in.match(r.ns, r.path);
    const Policy* policy = index >= 0 ? &in.policies[index] : nullptr;
    std::string name = policy ? policy->name : std::string(kNoPolicy);
    if (policy) {
      ++counts[PolicyCounter(name, "Files matched")];
      directories[name].insert(Directory(r));
    }
    std::string container_protection;
    if (r.packed) {
      auto c = inventory->containers().find(r.packed->sin);
      if (c != inventory->containers().end()) container_protection = c->second.protection;
    }
    PackingDecision d = DecidePacking(r, policy ? &policy->rules : nullptr, in.rules, now,
                                      container_protection, protection);
    if (d.skip != PackSkip::kNone) ++counts[PolicyCounter(name, PackSkipCounter(d.skip))];
    r.packing_policy = d.policy;
    r.packing_target = d.target;
    switch (d.action) {
      case PackAction::kPack:
        pack_bytes += r.size;
        [[fallthrough]];
      case PackAction::kRepack:
        pack.push_back({std::move(r), d.action, name});
        break;
      case PackAction::kUnpack:
        unpack.push_back({std::move(r), d.action, name});
        break;
      case PackAction::kSetAttributes:
        attributes.push_back({std::move(r), d.action, name});
        break;
      case PackAction::kNone:
        break;
    }
  }
  candidates.clear();
  for (const Policy& p : in.policies) {
    context.SetCounter(PolicyCounter(p.name, "Files matched"),
                       counts[PolicyCounter(p.name, "Files matched")]);
    context.SetCounter(PolicyCounter(p.name, "Directories matched"), directories[p.name].size());
  }
  for (const auto& [counter, n] : counts) {
    if (counter.find("Skipped packing") != std::string::npos) context.SetCounter(counter, n);
  }
  context.SetCounter("files_scanned", scanned);
  if (pack_bytes > 0 && pack_bytes < in.container_min_size) {
    // Too little to fill a container worth its parity: these wait.
    std::vector<Work> repack_only;
    for (Work& w : pack) {
      if (w.action == PackAction::kRepack) {
        repack_only.push_back(std::move(w));
        continue;
      }
      context.Measure(PolicyCounter(w.policy, "Skipped packing: less than the container minimum"));
    }
    context.Detail("packing waits: " + std::to_string(pack_bytes) +
                   " bytes to pack is less than the container minimum size of " +
                   std::to_string(in.container_min_size));
    pack = std::move(repack_only);
  }

  // Pack and repack.
  RETURN_IF_ERROR(context.BeginPhase("pack", pack.size()));
  std::sort(pack.begin(), pack.end(), [](const Work& a, const Work& b) {
    return std::tie(a.record.ns, a.record.path) < std::tie(b.record.ns, b.record.path);
  });
  std::map<std::string, const Work*> by_name;
  for (const Work& w : pack) by_name[Name(w.record)] = &w;
  ContainerPacker::Options options{in.protection, in.container_max_size, std::nullopt};
  const ContainerUsage* open = nullptr;
  for (const auto& [sin, c] : inventory->containers()) {
    if (c.clone || c.protection != protection || c.next_chunk() >= io::kMaxContainerChunks ||
        c.filesize >= in.container_max_size) {
      continue;
    }
    if (!open || c.filesize > open->filesize) open = &c;
  }
  if (open) options.append_to = OpenContainer{open->sin, open->next_chunk(), open->filesize};
  auto on_outcome = [&](const meta::FileRecord& f, MoveOutcome outcome, const Status& why) {
    auto it = by_name.find(Name(f));
    const std::string policy = it != by_name.end() ? it->second->policy : std::string(kNoPolicy);
    const bool repack = it != by_name.end() && it->second->action == PackAction::kRepack;
    context.Advance();
    switch (outcome) {
      case MoveOutcome::kMoved:
        context.Count(PolicyCounter(policy, repack ? "Files repacked" : "Files packed"));
        context.Count("bytes_packed", f.size);
        break;
      case MoveOutcome::kRaced:
        context.Count(PolicyCounter(policy, "Packing changes skipped"));
        break;
      default:
        context.Count("errors");
        context.Detail(Name(f) + ": not packed (" + std::string(MoveOutcomeName(outcome)) +
                       "): " + why.message());
    }
  };
  {
    ContainerPacker packer(pieces_, metadata_, options, new_object_id_, on_outcome);
    for (const Work& w : pack) {
      RETURN_IF_ERROR(packer.Add(w.record));
      RETURN_IF_ERROR(pacer.Work(context));
    }
    RETURN_IF_ERROR(packer.Flush());
    context.Count("container_chunks_written", packer.chunks_written());
  }

  RETURN_IF_ERROR(context.BeginPhase("unpack", unpack.size()));
  for (const Work& w : unpack) {
    context.Advance();
    ASSIGN_OR_RETURN(uint64_t id, new_object_id_());
    bool raced = false;
    Status s = Unpack(pieces_, metadata_, w.record, id, &raced);
    if (!s.ok()) {
      context.Count("errors");
      context.Detail(Name(w.record) + ": not unpacked: " + s.message());
    } else {
      context.Count(PolicyCounter(w.policy, raced ? "Packing changes skipped" : "Files unpacked"));
    }
    RETURN_IF_ERROR(pacer.Work(context));
  }

  RETURN_IF_ERROR(context.BeginPhase("attributes", attributes.size()));
  for (const Work& w : attributes) {
    context.Advance();
    Result<bool> replaced = metadata_.ReplacePlacement(w.record, w.record.object_id);
    if (!replaced.ok()) {
      context.Count("errors");
      context.Detail(Name(w.record) + ": attributes not stored: " + replaced.status().message());
    } else if (*replaced) {
      context.Count("attributes_updated");
    }
    RETURN_IF_ERROR(pacer.Work(context));
  }
  context.Count("paced_ms", static_cast<uint64_t>(pacer.paused_ms()));
  return Status::Ok();
}

}  // namespace tessera::jobs
