// The plan of a local cluster started by `tessera up`: which etcd members and
// nodes run, on which loopback ports, with which directories and command
// lines. Everything here is pure (no I/O): the command validates its flags
// with ValidateUpOptions, collects free ports itself, and MakePlan turns both
// into a LocalClusterPlan that the supervisord config and cluster.json are
// generated from. Thread-safe free functions.
//
// Layout of DIR (every path in the plan is absolute):
//
//   DIR/cluster.json          how the CLI finds the cluster (cluster_file.h)
//   DIR/supervisord.conf      generated; supervisord runs every process
//   DIR/supervisord.pid       supervisord's pid while it runs
//   DIR/supervisor.sock       supervisorctl talks to supervisord here
//   DIR/logs/                 supervisord.log, etcdK.log, nodeK.log
//   DIR/etcd/etcdK/           data of etcd member K
//   DIR/nodeK/d0 .. d{D-1}    drives of node K
//   DIR/nodeK/state/          node K's state (node.json, group.log)
//
// Ports: with a base port P, nodes take P .. P+N-1 (so node1 answers on P)
// and etcd member K takes client port P+N+2(K-1) and peer port one above.
// Without one, the ports come from the caller's list of free ports in the
// same order (nodes, then client/peer pairs).
#pragma once

#include <string>
#include <vector>

#include "cluster/cluster_file.h"
#include "common/status.h"

namespace tessera::cluster::local {

inline constexpr int kMaxNodes = 64;
inline constexpr int kMaxDrives = 64;
// A unix socket path must fit sockaddr_un.sun_path (108 bytes with the NUL).
inline constexpr size_t kMaxSocketPath = 107;

struct UpOptions {
  int nodes = 0;    // 0: not given (allowed only when restarting)
  int drives = 0;   // 0: not given (allowed only when restarting)
  std::string dir;  // required
  std::string name = "local";
  std::string protection;  // empty: the cluster default
  int etcd_members = 0;    // 0: DefaultEtcdMembers(nodes)
  int base_port = 0;       // 0: free ports
  int timeout_seconds = 60;
};

// 3 when there are 3 nodes or more (so etcd survives one member), else 1.
int DefaultEtcdMembers(int nodes);

// InvalidArgument naming the flag, e.g. "--etcd-members must be 1 or 3, not 2".
// `fresh`: a new cluster, which needs --nodes and --drives.
Status ValidateUpOptions(const UpOptions& options, bool fresh);

// OK iff `dir` is absolute and safe to write into supervisord.conf: no
// whitespace, quotes, backslash, '%', ';' or '#', and short enough for the
// unix socket path.
Status ValidateClusterDir(const std::string& dir);

struct PortPlan {
  std::vector<int> node_ports;         // node1 first
  std::vector<int> etcd_client_ports;  // etcd1 first
  std::vector<int> etcd_peer_ports;    // etcd1 first
};

// Ports a cluster of `nodes` and `etcd_members` needs.
int PortsNeeded(int nodes, int etcd_members);
// From `base_port` when it is not 0, else from `free_ports` (at least
// PortsNeeded of them). InvalidArgument if the range leaves 1024..65535 or
// there are too few or repeated free ports.
Result<PortPlan> AssignPorts(int nodes, int etcd_members, int base_port,
                             const std::vector<int>& free_ports);

struct EtcdMemberPlan {
  std::string name;  // "etcd1"
  int client_port = 0;
  int peer_port = 0;
  std::string data_dir;
  std::string log;
};

struct NodePlan {
  std::string name;  // "node1"
  int port = 0;
  std::vector<std::string> drives;
  std::string state_dir;
  std::string log;
};

struct LocalClusterPlan {
  std::string dir;
  std::string name;
  std::string tessera_binary;
  std::string etcd_binary;
  std::vector<EtcdMemberPlan> etcd;
  std::vector<NodePlan> nodes;

  std::string ClusterJsonPath() const { return dir + "/cluster.json"; }
  std::string SupervisordConfPath() const { return dir + "/supervisord.conf"; }
  std::string PidfilePath() const { return dir + "/supervisord.pid"; }
  std::string SocketPath() const { return dir + "/supervisor.sock"; }
  std::string LogDir() const { return dir + "/logs"; }

  ClusterFile ToClusterFile() const;
  // argv of etcd member `i` and node `i` (0-based), binary first.
  std::vector<std::string> EtcdCommand(size_t i) const;
  std::vector<std::string> NodeCommand(size_t i) const;
};

// `options` must have passed ValidateUpOptions(options, true) and its dir
// ValidateClusterDir; binaries are absolute paths.
LocalClusterPlan MakePlan(const UpOptions& options, const PortPlan& ports,
                          const std::string& tessera_binary, const std::string& etcd_binary);

// Which program of the cluster in `dir` a command line (argv) belongs to:
// "etcdK" for an etcd with --data-dir=DIR/etcd/etcdK, "nodeK" for a node with
// --state DIR/nodeK/state (as EtcdCommand and NodeCommand write them), else
// "". `tessera down` finds processes that outlived supervisord by this.
std::string ProgramOfCommandLine(const std::string& dir, const std::vector<std::string>& args);

// Paths of DIR's files without a plan (for `down` and restarts).
inline std::string ClusterJsonPath(const std::string& dir) { return dir + "/cluster.json"; }
inline std::string SupervisordConfPath(const std::string& dir) { return dir + "/supervisord.conf"; }
inline std::string PidfilePath(const std::string& dir) { return dir + "/supervisord.pid"; }

}  // namespace tessera::cluster::local
