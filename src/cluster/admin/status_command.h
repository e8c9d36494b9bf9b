// `tessera status [--cluster FILE] [--json]`: the cluster summary of
// status_report.h. It reads one AdminSnapshot from etcd, the protection
// setting through ConfigStore (/tessera/<cluster>/config), and asks every
// registered node for GET /v1/cluster/view (all at once, ~1 s timeout each).
//
// When etcd cannot be read it still asks the nodes listed in cluster.json
// and prints what they say, with "etcd: unreachable (no quorum?)".
//
// Exit status (in *exit_code): 0 printed from etcd; 1 no cluster file, or
// etcd could not be read (after printing what the nodes say); 2 usage.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::admin {

// `out` and `err` default to std::cout and std::cerr.
void AddStatusCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                      std::ostream* err = nullptr);

}  // namespace tessera::cluster::admin
