#include "common/host_port.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tessera {
namespace {

// The text as an error may quote it: control characters blanked, cut short.
std::string Quoted(std::string_view text) {
  std::string out = "'";
  for (unsigned char c : text.substr(0, 200)) out += (c < 0x20 || c == 0x7f) ? ' ' : char(c);
  if (text.size() > 200) out += "...";
  return out + "'";
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
}

}  // namespace

std::string HostPort::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(std::string_view text, const std::string& described_as,
                               PortZero zero) {
  const std::string what = described_as.empty() ? Quoted(text) : described_as;
  const std::string example = " (e.g. 127.0.0.1:8080)";
  HostPort out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument(what + " has an unclosed '[' in its IPv6 address");
    }
    out.host = std::string(text.substr(1, close - 1));
    std::string_view after = text.substr(close + 1);
    if (after.empty() || after.front() != ':') {
      return Status::InvalidArgument(what + " has no port" + example);
    }
    port = after.substr(1);
    if (out.host.find(':') == std::string::npos ||
        !std::all_of(out.host.begin(), out.host.end(), IsIpv6Char)) {
      return Status::InvalidArgument(what + " has a malformed IPv6 address");
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument(what + " has no port" + example);
    }
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (out.host.empty()) {
      return Status::InvalidArgument(what + " has no host (0.0.0.0 serves every interface)" +
                                     example);
    }
    if (!std::all_of(out.host.begin(), out.host.end(), IsNameChar)) {
      return Status::InvalidArgument(what + " has a host with a character other than " +
                                     "A-Z a-z 0-9 - . _ (IPv6 addresses go in [brackets])");
    }
  }
  const int lowest = zero == PortZero::kAnyFreePort ? 0 : 1;
  int number = -1;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  // "080" is refused: written back it would not be the text the user gave.
  const bool leading_zero = port.size() > 1 && port.front() == '0';
  if (port.empty() || leading_zero || error != std::errc() || end != port.data() + port.size() ||
      number < lowest || number > 65535) {
    return Status::InvalidArgument(what + " has port " + Quoted(port) +
                                   ", which is not a number from " + std::to_string(lowest) +
                                   " to 65535");
  }
  out.port = number;
  return out;
}

}  // namespace tessera
