// HOST:PORT, as flags, cluster.json, config URIs and URLs name a TCP
// endpoint: one parser, so every address a user types follows one set of
// rules.
//
// Pure parsing, no name resolution. HOST is a name or IPv4 address (letters,
// digits, '-', '.', '_') or an IPv6 address in brackets; PORT is decimal
// without leading zeros, 1..65535 (0 too where the system may pick a free
// port), so an accepted text prints back unchanged. Errors are
// InvalidArgument and say what is wrong in words an operator can act on.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera {

struct HostPort {
  std::string host;  // an IPv6 address without its brackets
  int port = 0;

  // "host:port", or "[v6]:port".
  std::string ToString() const;
};

enum class PortZero { kRefused, kAnyFreePort };

// `described_as` names the text in errors ("--listen '...'"); empty: the
// text in quotes.
Result<HostPort> ParseHostPort(std::string_view text, const std::string& described_as = "",
                               PortZero zero = PortZero::kRefused);

}  // namespace tessera
