// Where a cluster's shared configuration lives: a config URI.
//
//   etcd://HOST:PORT[,HOST:PORT...]/PATH
//
// names the etcd members to ask (any of them will do; EtcdClient fails over)
// and the root PATH under which every configuration key of one cluster lives.
// By convention the root is /tessera/<cluster>/config; the key layout below
// the root is in config_keys below and in docs/config.md.
//
// Parsing is strict so that a typo is reported rather than silently pointing
// a node at the wrong tree: the scheme must be "etcd", there must be at least
// one HOST:PORT (PORT 1..65535, HOST non-empty without '/', '@' or spaces;
// an IPv6 address goes in brackets, "[::1]:2379"), and PATH must start with
// '/', name at least one segment, and contain no empty, "." or ".." segment,
// no whitespace and no query or fragment. A single trailing '/' is dropped.
// Pure functions, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::cluster::config {

struct ConfigUri {
  std::vector<std::string> endpoints;  // "HOST:PORT", in the order given
  std::string root;                    // "/tessera/prod/config", no trailing '/'

  // "http://h1:2379,http://h2:2379", for EtcdClient::Create.
  std::string EtcdEndpoints() const;
  // The URI back in canonical form.
  std::string ToString() const;
};

// InvalidArgument naming what is wrong, e.g.
// "config URI 'http://a:1/x': scheme must be etcd://".
Result<ConfigUri> ParseConfigUri(std::string_view text);

// Keys relative to the root (see docs/config.md):
//   <name>                      cluster-wide value of setting <name>
//   hosts/<array-id>/<name>     that node's override of <name>
//   shared/<id>                 a value settings may refer to ("@ref:shared/<id>")
//   update                      bumped by operators to make nodes re-read
//   feedback/<array-id>         what that node did with the last update (JSON)
namespace config_keys {
std::string Setting(std::string_view name);
std::string HostSetting(std::string_view array_id, std::string_view name);
inline constexpr std::string_view kUpdate = "update";
std::string Feedback(std::string_view array_id);
inline constexpr std::string_view kFeedbackPrefix = "feedback/";
inline constexpr std::string_view kHostsPrefix = "hosts/";
inline constexpr std::string_view kSharedPrefix = "shared/";
}  // namespace config_keys

// The cluster a config root belongs to: "/tessera/<cluster>/config" gives
// <cluster>; any other root is InvalidArgument (membership keys live under
// /tessera/<cluster>/, so the root must say which cluster it is).
Result<std::string> ClusterNameFromConfigRoot(std::string_view root);

// OK iff `id` is an array id: a decimal number 1..999999999 without leading zeros.
Status ValidateArrayId(std::string_view id);
// OK iff `id` is a shared entry id: 1..128 of [A-Za-z0-9_.-], not "." or "..".
Status ValidateSharedId(std::string_view id);

}  // namespace tessera::cluster::config
