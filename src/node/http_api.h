// Binds a StorageNode to an HTTP server: the v1 API of docs/api.md.
// Handlers run on the server's thread pool; the node (and the cluster hooks'
// targets) must outlive the server.
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace tessera::node {

class StorageNode;

// What a node in a cluster adds; both empty for a standalone node.
struct ClusterHooks {
  // Asked before every write (PUT, DELETE); an error (Unavailable: 503)
  // refuses the write before any of its body is read.
  std::function<Status()> write_gate;
  // GET /v1/cluster/view; without it that route answers 404.
  std::function<nlohmann::json()> view;
  // GET /v1/cluster/protection: how much of the data this node's metadata
  // names is below its protection level; without it that route answers 404.
  std::function<Result<nlohmann::json>()> protection;
};

void RegisterHttpApi(httplib::Server& server, StorageNode& node, ClusterHooks cluster = {});

// Part of RegisterHttpApi: error bodies for what no handler answered (no
// route: 404 NotFound; a bad Range: 416) and for a handler that throws
// (logged; 500 Internal naming the exception).
void InstallErrorHandlers(httplib::Server& server);

}  // namespace tessera::node
