// One HTTP exchange written by hand, for requests no client library sends:
// a declared length with no body, no length at all, a torn request.
#pragma once

#include <cstddef>
#include <string>

namespace tessera::testing {

// Sends `head` followed by `body_bytes` bytes of 'z' to 127.0.0.1:`port` and
// returns everything the server answers until it closes the connection. A
// server that stays silent for 10 s ends the exchange with what came so far;
// "" if it cannot connect.
std::string RawRequest(int port, const std::string& head, size_t body_bytes = 0);

}  // namespace tessera::testing
