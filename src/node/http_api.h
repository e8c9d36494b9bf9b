// Binds a StorageNode to an HTTP server: the v1 API of docs/api.md.
// Handlers run on the server's thread pool; the node must outlive the server.
#pragma once

namespace httplib {
class Server;
}

namespace tessera::node {

class StorageNode;

void RegisterHttpApi(httplib::Server& server, StorageNode& node);

}  // namespace tessera::node
