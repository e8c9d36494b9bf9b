// The node's read-only packing API: what `tessera sstore list`, `tessera
// sstore defrag --dry-run` and `tessera sfse-assess` show. Each request
// scans every file record the node's metadata store reaches (the whole
// cluster's, on a cluster node) and moves no data. docs/api.md lists the
// routes and their JSON.
//
//   GET /v1/sstores[?verbose=1&min_size=BYTES]   containers (ContainerInventory)
//   GET /v1/sstores/defrag-assessment            AssessDefrag
//   GET /v1/sfse/assess[?path=NS/PREFIX&max_size=BYTES]
//
// Handlers run on the server's thread pool; the node must outlive the server.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace httplib {
class Server;
}

namespace tessera::jobs {
class ContainerInventory;
}

namespace tessera::node {

class StorageNode;

void RegisterPackingApi(httplib::Server& server, StorageNode& node);

// The JSON of GET /v1/sstores (exposed for tests).
nlohmann::json ContainersJson(const jobs::ContainerInventory& inventory, uint64_t min_size,
                              bool verbose);

}  // namespace tessera::node
