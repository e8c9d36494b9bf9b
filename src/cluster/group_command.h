// `tessera group`: the cluster group in the notation (group_notation.h).
//
//   tessera group [--cluster FILE] [--json]  the current group from etcd, with
//                                            its sequence <initiator,epoch>
//   tessera group --parse STRING             prints the group's meaning as JSON
//   tessera group --canonical STRING         prints the group in canonical form
//
// This library has no etcd client, so the live mode is a LiveGroupRunner the
// caller passes in (cluster/admin/group_live.h in the tessera binary); this
// keeps tessera_cluster free of the layers above it. Without a runner the
// live mode is a usage error. Exit status (in *exit_code): 0 ok, 1 the string
// is not a valid group or the live group could not be read ("tessera: ..."
// on `err`), 2 usage error.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace tessera::cluster {

// The flags of the live mode.
struct LiveGroupRequest {
  std::string cluster_file;  // --cluster, "" when not given
  bool json = false;         // --json
};

// Prints the live group; returns the exit status.
using LiveGroupRunner =
    std::function<int(const LiveGroupRequest& request, std::ostream& out, std::ostream& err)>;

// `out` and `err` default to std::cout and std::cerr.
void AddGroupCommands(CLI::App& app, std::shared_ptr<int> exit_code, std::ostream* out = nullptr,
                      std::ostream* err = nullptr, LiveGroupRunner live = {});

}  // namespace tessera::cluster
