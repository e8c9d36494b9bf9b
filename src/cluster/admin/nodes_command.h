// `tessera nodes`: the nodes of the cluster and their priorities.
//
//   tessera nodes [-l] [--json] [--cluster FILE]
//       the corolistener-style listing (nodes_table.h): Id, Ip, Status,
//       Master/Slave, Priority; -l is accepted for the reference's spelling
//       and changes nothing; --json prints the rows as a JSON array
//   tessera nodes priority ID N [--cluster FILE]
//       sets priorities/<ID> to N (master.h); a negative N goes after "--"
//
// Exit status (in *exit_code): 0 ok; 1 no cluster file, etcd unreachable,
// unknown node ("tessera: ..." on `err`); 2 usage error (bad ID or N).
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::admin {

// `out` and `err` default to std::cout and std::cerr.
void AddNodesCommand(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                     std::ostream* err = nullptr);

}  // namespace tessera::cluster::admin
