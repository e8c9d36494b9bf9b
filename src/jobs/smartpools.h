// SmartPools: applies the file pool policies' packing. Packs eligible
// native files into containers, repacks packed files whose container has
// another protection than the cluster's, unpacks packed files whose policy
// no longer packs them, and stores every file's packing attributes
// (packing_plan.h has the rules).
//
// Phases:
//   scan        every record (one metadata scan, which also takes the
//               container inventory); per policy: files and directories
//               matched and the skip counters;
//   pack        the files to pack or repack, in path order so that a
//               directory's files sit together, through a ContainerPacker
//               that first fills the emptiest open container of the
//               cluster's protection. Nothing is packed when the files to
//               pack add up to less than the container minimum size: they
//               wait for a later run;
//   unpack      each file is written back natively under its own policy
//               and switched with ReplacePlacement;
//   attributes  the records whose attributes alone changed.
// Snapshot records and clones (io/clone_store.h) are left as they are: they
// share their bytes in a clone store. Every switch compares the object id the file had when it was
// read, so a client's write always wins; a half-done run leaves every file readable, and running
// again from the start (after a master change) carries on.
//
// Impact: low (the default) works a quarter of the time, medium half,
// high all of it; the report's working time leaves out the pauses.
//
// Threading: run by the job engine's thread; the stores are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "io/piece_store.h"
#include "jobs/job.h"
#include "jobs/pacer.h"
#include "jobs/packing_plan.h"
#include "layout/protection_policy.h"
#include "meta/metadata_store.h"

namespace tessera::jobs {

// Report counters of one policy are named "policy NAME: COUNTER".
std::string PolicyCounter(std::string_view policy, std::string_view counter);

class SmartPoolsJob final : public Job {
 public:
  struct Policy {
    std::string name;
    PackingPolicyRules rules;
  };
  struct Inputs {
    PackingRules rules;
    uint64_t container_min_size = 1016 * 1024;
    uint64_t container_max_size = 1ull << 30;
    layout::ProtectionPolicy protection;  // what new containers get
    std::string impact = "low";
    std::vector<Policy> policies;  // in apply order
    // The index in `policies` of the policy matching ns/path, or -1.
    std::function<int(std::string_view ns, std::string_view path)> match;
  };
  using InputsFn = std::function<Result<Inputs>()>;
  using ObjectIdFn = std::function<Result<uint64_t>()>;
  using NowFn = std::function<int64_t()>;

  // All borrowed; they outlive the job.
  SmartPoolsJob(io::PieceStore& pieces, meta::MetadataStore& metadata, InputsFn inputs,
                ObjectIdFn new_object_id, NowFn now)
      : pieces_(pieces),
        metadata_(metadata),
        inputs_(std::move(inputs)),
        new_object_id_(std::move(new_object_id)),
        now_(std::move(now)) {}

  Status Run(JobContext& context) override;

 private:
  io::PieceStore& pieces_;
  meta::MetadataStore& metadata_;
  InputsFn inputs_;
  ObjectIdFn new_object_id_;
  NowFn now_;
};

}  // namespace tessera::jobs
