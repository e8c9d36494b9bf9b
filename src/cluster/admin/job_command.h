// `tessera job`: cluster jobs, as records in etcd (cluster/jobs/job_store.h)
// that the master runs (jobs/job_engine.h).
//
//   tessera job start TYPE                 queue a job (FlexProtect)
//   tessera job list [--json]              every job: id, type, state, phase, percent, trigger
//   tessera job pause|resume|cancel ID     change a job's state (compare-and-swap)
//   tessera job reports view [-v] ID       the report: phases with times, counters; -v details
//
// Every verb takes --cluster FILE (admin_context.h). Exit status (in
// *exit_code): 0 ok; 1 no cluster file, etcd unreachable, unknown job, a
// control that does not apply to the job's state ("tessera: ..." on `err`);
// 2 usage error.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::admin {

// `out` and `err` default to std::cout and std::cerr.
void AddJobCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                   std::ostream* err = nullptr);

}  // namespace tessera::cluster::admin
