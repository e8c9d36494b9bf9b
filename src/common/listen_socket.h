// Options for a listening TCP socket that one process owns alone.
//
// SO_REUSEADDR, so a restarted server binds its port again at once even
// while old connections sit in TIME_WAIT; and no SO_REUSEPORT, which
// cpp-httplib and gRPC set by default: with it a second server started on
// an address already served (two nodes given the same --listen) binds too,
// and the kernel splits new connections between the two without a word.
// Without it that second bind fails with EADDRINUSE.
#pragma once

#include <string>

#include "common/status.h"

namespace tessera {

// For httplib::Server::set_socket_options. Errors are ignored: a socket
// without SO_REUSEADDR still works, it only rebinds later after a restart.
void SetExclusiveListenOptions(int fd);

// Whether a server could listen on `host`:`port` now: binds a socket with
// these options without listening, then closes it, so a server can refuse
// to start before it changes anything. Unavailable naming the address when
// another process serves it or the host does not resolve to a local
// address. A check, not a reservation: the real bind may still lose a race.
Status CheckCanListen(const std::string& host, int port);

}  // namespace tessera
