#include "cluster/config/config_uri.h"

#include <cctype>

#include "common/host_port.h"

namespace tessera::cluster::config {
namespace {

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("config URI '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

std::string ConfigUri::EtcdEndpoints() const {
  std::string out;
  for (const std::string& e : endpoints) {
    if (!out.empty()) out += ",";
    out += "http://" + e;
  }
  return out;
}

std::string ConfigUri::ToString() const {
  std::string out = "etcd://";
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (i > 0) out += ",";
    out += endpoints[i];
  }
  return out + root;
}

Result<ConfigUri> ParseConfigUri(std::string_view text) {
  constexpr std::string_view kScheme = "etcd://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    return Bad(text, "scheme must be etcd:// (etcd://HOST:PORT[,HOST:PORT...]/PATH)");
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return Bad(text, "missing /PATH after the endpoints");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash);
  if (authority.empty()) return Bad(text, "no HOST:PORT endpoint given");

  ConfigUri uri;
  size_t start = 0;
  while (true) {
    size_t comma = authority.find(',', start);
    std::string_view endpoint = authority.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (endpoint.empty()) return Bad(text, "empty endpoint in the list");
    if (Result<HostPort> parsed =
            ParseHostPort(endpoint, "endpoint '" + std::string(endpoint) + "'");
        !parsed.ok()) {
      return Bad(text, parsed.status().message());
    }
    uri.endpoints.emplace_back(endpoint);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }

  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/") return Bad(text, "PATH must name a root key, e.g. /tessera/prod/config");
  for (char c : path) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '?' || c == '#' ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return Bad(text, "PATH may not contain whitespace, '?' or '#'");
    }
  }
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view segment = path.substr(pos, next - pos);
    if (segment.empty() || segment == "." || segment == "..") {
      return Bad(text, "PATH may not contain empty, '.' or '..' segments");
    }
    pos = next + 1;
  }
  uri.root = std::string(path);
  return uri;
}

namespace config_keys {
std::string Setting(std::string_view name) { return std::string(name); }
std::string HostSetting(std::string_view array_id, std::string_view name) {
  return std::string(kHostsPrefix) + std::string(array_id) + "/" + std::string(name);
}
std::string Feedback(std::string_view array_id) {
  return std::string(kFeedbackPrefix) + std::string(array_id);
}
}  // namespace config_keys

Result<std::string> ClusterNameFromConfigRoot(std::string_view root) {
  constexpr std::string_view kHead = "/tessera/";
  constexpr std::string_view kTail = "/config";
  bool shaped =
      root.size() > kHead.size() + kTail.size() && root.starts_with(kHead) && root.ends_with(kTail);
  std::string_view name =
      shaped ? root.substr(kHead.size(), root.size() - kHead.size() - kTail.size()) : "";
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("config root '" + std::string(root) +
                                   "' must be /tessera/<cluster>/config");
  }
  return std::string(name);
}

Status ValidateArrayId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 9 && id[0] != '0';
  for (char c : id) ok = ok && c >= '0' && c <= '9';
  if (!ok) {
    return Status::InvalidArgument("array id '" + std::string(id) +
                                   "' must be a number 1..999999999 without leading zeros");
  }
  return Status::Ok();
}

Status ValidateSharedId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 128 && id != "." && id != "..";
  for (char c : id) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return Status::InvalidArgument("shared id '" + std::string(id) +
                                   "' must be 1..128 of A-Z a-z 0-9 _ . -");
  }
  return Status::Ok();
}

}  // namespace tessera::cluster::config
