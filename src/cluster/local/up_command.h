// `tessera up` and `tessera down`: start and stop a local cluster (etcd and
// N nodes on 127.0.0.1, each under supervisord) in one directory.
//
//   tessera up --nodes N --drives D --dir DIR [--protection POLICY]
//              [--etcd-members 1|3] [--base-port P] [--name NAME] [--timeout S]
//       A new DIR: plans ports and directories (local_plan.h), writes
//       DIR/cluster.json and DIR/supervisord.conf, starts supervisord (which
//       starts etcd), writes cluster_name and protection into etcd, starts
//       the nodes and returns once every node answers GET /v1/node and its
//       GET /v1/cluster/view says writable. A DIR whose cluster is stopped:
//       starts it again from its own cluster.json and supervisord.conf (same
//       ports and data). A DIR whose cluster runs: refused.
//   tessera down --dir DIR
//       supervisorctl shutdown, waits for supervisord to exit, kills any
//       process of the cluster still alive, keeps the data. Nothing running
//       is not an error.
//
// Exit status (in *exit_code): 0 ok, 1 failed ("tessera: ..." on stderr,
// with the log tail of a node that did not come up), 2 usage error.
#pragma once

#include <iosfwd>
#include <memory>

namespace CLI {
class App;
}

namespace tessera::cluster::local {

// `out` and `err` default to std::cout and std::cerr.
void AddUpDownCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                       std::ostream* err = nullptr);

}  // namespace tessera::cluster::local
