#include "cluster/local/local_plan.h"

#include <set>

#include "layout/protection_policy.h"

namespace tessera::cluster::local {
namespace {

// The same rule as cluster.json's "cluster": it becomes an etcd path segment.
bool IsClusterName(const std::string& name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

}  // namespace

int DefaultEtcdMembers(int nodes) { return nodes >= 3 ? 3 : 1; }

Status ValidateUpOptions(const UpOptions& o, bool fresh) {
  if (o.dir.empty()) return Status::InvalidArgument("--dir is required");
  if (fresh && o.nodes == 0)
    return Status::InvalidArgument("--nodes is required for a new cluster");
  if (fresh && o.drives == 0) {
    return Status::InvalidArgument("--drives is required for a new cluster");
  }
  if (o.nodes < 0 || o.nodes > kMaxNodes) {
    return Status::InvalidArgument("--nodes must be 1.." + std::to_string(kMaxNodes) + ", not " +
                                   std::to_string(o.nodes));
  }
  if (o.drives < 0 || o.drives > kMaxDrives) {
    return Status::InvalidArgument("--drives must be 1.." + std::to_string(kMaxDrives) + ", not " +
                                   std::to_string(o.drives));
  }
  if (o.etcd_members != 0 && o.etcd_members != 1 && o.etcd_members != 3) {
    return Status::InvalidArgument("--etcd-members must be 1 or 3, not " +
                                   std::to_string(o.etcd_members));
  }
  if (!IsClusterName(o.name)) {
    return Status::InvalidArgument("--name '" + o.name +
                                   "' must be 1..63 of [a-z0-9-] starting with a letter");
  }
  if (!o.protection.empty()) {
    Result<layout::ProtectionPolicy> policy = layout::ProtectionPolicy::Parse(o.protection);
    if (!policy.ok()) return Status::InvalidArgument("--protection: " + policy.status().message());
  }
  if (o.timeout_seconds <= 0) {
    return Status::InvalidArgument("--timeout must be at least 1 second");
  }
  if (o.base_port != 0) {
    int members = o.etcd_members != 0 ? o.etcd_members : DefaultEtcdMembers(o.nodes);
    int last = o.base_port + PortsNeeded(o.nodes, members) - 1;
    if (o.base_port < 1024 || last > 65535) {
      return Status::InvalidArgument("--base-port " + std::to_string(o.base_port) + ": ports " +
                                     std::to_string(o.base_port) + ".." + std::to_string(last) +
                                     " must lie within 1024..65535");
    }
  }
  return Status::Ok();
}

Status ValidateClusterDir(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') {
    return Status::InvalidArgument("cluster dir '" + dir + "' must be an absolute path");
  }
  for (char c : dir) {
    // supervisord's config parser gives these meaning (interpolation,
    // comments, shell-like quoting of commands).
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '\\' ||
        c == '%' || c == ';' || c == '#') {
      return Status::InvalidArgument("cluster dir '" + dir +
                                     "' must not contain whitespace, quotes, '\\', '%', ';' or "
                                     "'#' (supervisord.conf cannot hold them safely)");
    }
  }
  if (dir.size() + std::string("/supervisor.sock").size() > kMaxSocketPath) {
    return Status::InvalidArgument("cluster dir '" + dir + "' is too long: " + dir +
                                   "/supervisor.sock must fit a unix socket path (" +
                                   std::to_string(kMaxSocketPath) + " bytes)");
  }
  return Status::Ok();
}

int PortsNeeded(int nodes, int etcd_members) { return nodes + 2 * etcd_members; }

Result<PortPlan> AssignPorts(int nodes, int etcd_members, int base_port,
                             const std::vector<int>& free_ports) {
  const int needed = PortsNeeded(nodes, etcd_members);
  std::vector<int> ports;
  if (base_port != 0) {
    if (base_port < 1024 || base_port + needed - 1 > 65535) {
      return Status::InvalidArgument("base port " + std::to_string(base_port) +
                                     " leaves no room for " + std::to_string(needed) +
                                     " ports below 65536");
    }
    for (int i = 0; i < needed; ++i) ports.push_back(base_port + i);
  } else {
    if (static_cast<int>(free_ports.size()) < needed) {
      return Status::InvalidArgument("need " + std::to_string(needed) + " free ports, have " +
                                     std::to_string(free_ports.size()));
    }
    std::set<int> seen;
    for (int i = 0; i < needed; ++i) {
      int port = free_ports[static_cast<size_t>(i)];
      if (port < 1 || port > 65535 || !seen.insert(port).second) {
        return Status::InvalidArgument("free port " + std::to_string(port) +
                                       " is out of range or repeated");
      }
      ports.push_back(port);
    }
  }
  PortPlan plan;
  size_t next = 0;
  for (int i = 0; i < nodes; ++i) plan.node_ports.push_back(ports[next++]);
  for (int i = 0; i < etcd_members; ++i) {
    plan.etcd_client_ports.push_back(ports[next++]);
    plan.etcd_peer_ports.push_back(ports[next++]);
  }
  return plan;
}

LocalClusterPlan MakePlan(const UpOptions& options, const PortPlan& ports,
                          const std::string& tessera_binary, const std::string& etcd_binary) {
  LocalClusterPlan plan;
  plan.dir = options.dir;
  plan.name = options.name;
  plan.tessera_binary = tessera_binary;
  plan.etcd_binary = etcd_binary;
  for (size_t i = 0; i < ports.etcd_client_ports.size(); ++i) {
    EtcdMemberPlan m;
    m.name = "etcd" + std::to_string(i + 1);
    m.client_port = ports.etcd_client_ports[i];
    m.peer_port = ports.etcd_peer_ports[i];
    m.data_dir = options.dir + "/etcd/" + m.name;
    m.log = plan.LogDir() + "/" + m.name + ".log";
    plan.etcd.push_back(std::move(m));
  }
  for (size_t i = 0; i < ports.node_ports.size(); ++i) {
    NodePlan n;
    n.name = "node" + std::to_string(i + 1);
    n.port = ports.node_ports[i];
    for (int d = 0; d < options.drives; ++d) {
      n.drives.push_back(options.dir + "/" + n.name + "/d" + std::to_string(d));
    }
    n.state_dir = options.dir + "/" + n.name + "/state";
    n.log = plan.LogDir() + "/" + n.name + ".log";
    plan.nodes.push_back(std::move(n));
  }
  return plan;
}

ClusterFile LocalClusterPlan::ToClusterFile() const {
  ClusterFile file;
  file.cluster = name;
  for (const EtcdMemberPlan& m : etcd)
    file.etcd.push_back("127.0.0.1:" + std::to_string(m.client_port));
  for (const NodePlan& n : nodes) {
    file.nodes.push_back({n.name, "127.0.0.1:" + std::to_string(n.port)});
  }
  file.dir = dir;
  file.supervisor_config = SupervisordConfPath();
  return file;
}

std::vector<std::string> LocalClusterPlan::EtcdCommand(size_t i) const {
  const EtcdMemberPlan& m = etcd[i];
  std::string initial_cluster;
  for (const EtcdMemberPlan& peer : etcd) {
    if (!initial_cluster.empty()) initial_cluster += ",";
    initial_cluster += peer.name + "=" + Url(peer.peer_port);
  }
  // The token keeps members of two local clusters from joining each other.
  std::string token = "tessera-" + name + "-" + std::to_string(etcd[0].client_port);
  return {etcd_binary,
          "--name=" + m.name,
          "--data-dir=" + m.data_dir,
          "--listen-client-urls=" + Url(m.client_port),
          "--advertise-client-urls=" + Url(m.client_port),
          "--listen-peer-urls=" + Url(m.peer_port),
          "--initial-advertise-peer-urls=" + Url(m.peer_port),
          "--initial-cluster=" + initial_cluster,
          "--initial-cluster-state=new",
          "--initial-cluster-token=" + token};
}

std::vector<std::string> LocalClusterPlan::NodeCommand(size_t i) const {
  const NodePlan& n = nodes[i];
  std::string drives;
  for (const std::string& d : n.drives) drives += (drives.empty() ? "" : ",") + d;
  return {tessera_binary, "node",     "--config", ToClusterFile().ConfigUri(),
          "--drives",     drives,     "--listen", "127.0.0.1:" + std::to_string(n.port),
          "--state",      n.state_dir};
}

std::string ProgramOfCommandLine(const std::string& dir, const std::vector<std::string>& args) {
  const std::string etcd_prefix = "--data-dir=" + dir + "/etcd/";
  const std::string node_prefix = dir + "/node";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind(etcd_prefix, 0) == 0) {
      std::string name = args[i].substr(etcd_prefix.size());
      if (name.rfind("etcd", 0) == 0 && name.find('/') == std::string::npos) return name;
    }
    if (args[i] == "--state" && i + 1 < args.size() && args[i + 1].rfind(node_prefix, 0) == 0) {
      std::string rest = args[i + 1].substr(dir.size() + 1);  // "nodeK/state"
      size_t slash = rest.find('/');
      if (slash != std::string::npos && rest.substr(slash) == "/state")
        return rest.substr(0, slash);
    }
  }
  return "";
}

}  // namespace tessera::cluster::local
