#include "cluster/admin/status_report.h"

#include "cluster/admin/nodes_table.h"
#include "cluster/group_notation.h"
#include "cluster/quorum.h"

namespace tessera::cluster::admin {
namespace {

using ojson = nlohmann::ordered_json;

std::string YesNo(bool b) { return b ? "yes" : "no"; }

std::string ProbeName(const NodeProbe& probe) {
  std::string name = probe.array_id != 0 ? "node " + std::to_string(probe.array_id) : probe.name;
  return name + " at " + probe.address;
}

// The node's drives in the group, or nullptr when it is not a member.
const IdSet* GroupDrives(const std::optional<GroupRecord>& group, uint32_t array_id) {
  if (!group) return nullptr;
  auto it = group->group.members.find(array_id);
  return it == group->group.members.end() ? nullptr : &it->second;
}

std::string DescribeDrives(const AdminNode& node, const std::optional<GroupRecord>& group) {
  const uint64_t n = node.drives.size();
  std::string out = n == 0 ? "none"
                           : node.drives.ToString() + " (" + std::to_string(n) +
                                 (n == 1 ? " drive)" : " drives)");
  const IdSet* in_group = GroupDrives(group, node.record.array_id);
  if (in_group == nullptr) return out + ", not in group";
  return out + ", in group: " + (in_group->empty() ? "diskless" : in_group->ToString());
}

// The master's priority now (priorities/<id>, as `tessera nodes` shows it:
// a new master raises its own); without that key, the one it took over with.
int64_t MasterPriority(const AdminSnapshot& snap) {
  const AdminNode* node = snap.Find(snap.master->array_id);
  return node && node->has_priority ? node->priority : snap.master->priority;
}

std::string DescribeMaster(const AdminSnapshot& snap) {
  if (!snap.master) return "none";
  const MasterRecord& m = *snap.master;
  const AdminNode* node = snap.Find(m.array_id);
  std::string at = node ? " at " + node->record.address : " (not registered)";
  return "node " + std::to_string(m.array_id) + at + ", priority " +
         std::to_string(MasterPriority(snap)) + ", token " + std::to_string(m.token);
}

std::string DescribeGroup(const std::optional<GroupRecord>& group) {
  if (!group) return "none yet (no node has proposed one)";
  return FormatGroupNotation(GroupWithSequence(*group)) + " (epoch " +
         std::to_string(group->epoch) + ", cause " + std::string(GroupCauseName(group->cause)) +
         ")";
}

std::string DescribeProtection(const ProtectionSetting& p) {
  if (!p.error.empty()) return "unknown (" + p.error + ")";
  return p.value + (p.source == "default" ? " (default)" : " (from " + p.source + ")");
}

ojson ViewJson(const NodeView& v) {
  return {{"array_id", v.array_id}, {"lnn", v.lnn},       {"cluster", v.cluster},
          {"writable", v.writable}, {"reason", v.reason}, {"session_lost", v.session_lost},
          {"epoch", v.epoch},       {"group", v.group},   {"is_master", v.is_master},
          {"master", v.master}};
}

ojson ProbesJson(const std::vector<NodeProbe>& probes) {
  ojson out = ojson::array();
  for (const NodeProbe& p : probes) {
    ojson j = {{"array_id", p.array_id}, {"name", p.name}, {"address", p.address}};
    j["reachable"] = p.view.ok() || p.view.status().code() != StatusCode::kUnavailable;
    if (p.view.ok()) {
      j["view"] = ViewJson(*p.view);
    } else {
      j["error"] = p.view.status().message();
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

NodeCounts CountNodes(const AdminSnapshot& snapshot) {
  NodeCounts c;
  for (const AdminNode& node : snapshot.nodes) {
    ++c.configured;
    if (node.state.dead) {
      ++c.dead;
    } else if (Joined(node, snapshot.group)) {
      ++c.joined;
    } else {
      ++c.down;
    }
    if (node.state.soft_failed) ++c.soft_failed;
    if (node.state.read_only) ++c.read_only;
  }
  return c;
}

std::string DescribeQuorum(const std::optional<GroupRecord>& group) {
  if (!group) return "unknown (no group yet)";
  Result<QuorumStatus> q = EvaluateGroupQuorum(group->group);
  if (!q.ok()) return "unknown (" + q.status().message() + ")";
  return "read " + YesNo(q->has_read_quorum) + ", write " + YesNo(q->has_write_quorum) + " (" +
         q->reason + ")";
}

GroupState GroupWithSequence(const GroupRecord& record) {
  GroupState g = record.group;
  g.sequence = SerialSequence{record.initiator, static_cast<uint64_t>(record.epoch)};
  return g;
}

std::string DescribeProbe(const NodeProbe& probe) {
  if (!probe.view.ok()) {
    const Status& st = probe.view.status();
    if (st.code() == StatusCode::kUnavailable) {
      // "unreachable: Connection" -> "unreachable (Connection)".
      std::string why = st.message();
      const std::string prefix = "unreachable: ";
      if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
      return "unreachable (" + why + ")";
    }
    return "no view (" + st.message() + ")";
  }
  const NodeView& v = *probe.view;
  std::string out =
      v.writable
          ? "writable"
          : "not writable (" + (v.reason.empty() ? std::string("no reason given") : v.reason) + ")";
  out += "; epoch " + std::to_string(v.epoch);
  out += v.master == 0 ? "; no master" : "; master " + std::to_string(v.master);
  if (probe.array_id != 0 && v.array_id != 0 && v.array_id != probe.array_id) {
    out += "; answers as node " + std::to_string(v.array_id);
  }
  return out;
}

std::string FormatStatus(const StatusInput& in) {
  std::string out = "cluster: " + in.cluster + "\n";
  if (!in.etcd_status.ok() || !in.snapshot) {
    const Status& st = in.etcd_status;
    if (st.ok() || st.code() == StatusCode::kUnavailable) {
      out += "etcd: unreachable (no quorum?): " + (st.ok() ? "no answer" : st.message()) + "\n";
    } else {
      out += "etcd: error: " + st.message() + "\n";
    }
  } else {
    const AdminSnapshot& snap = *in.snapshot;
    out += "etcd: ok (" + in.etcd_endpoints + ")\n";
    NodeCounts c = CountNodes(snap);
    out += "nodes: " + std::to_string(c.configured) + " configured: " + std::to_string(c.joined) +
           " joined, " + std::to_string(c.down) + " down, " + std::to_string(c.dead) + " dead; " +
           std::to_string(c.soft_failed) + " soft_failed, " + std::to_string(c.read_only) +
           " read_only\n";
    out += snap.nodes.empty() ? "drives: none\n" : "drives:\n";
    for (const AdminNode& node : snap.nodes) {
      out += "  node " + std::to_string(node.record.array_id) + ": " +
             DescribeDrives(node, snap.group) + "\n";
    }
    out += "quorum: " + DescribeQuorum(snap.group) + "\n";
    out += "master: " + DescribeMaster(snap) + "\n";
    out += "group: " + DescribeGroup(snap.group) + "\n";
    out += "protection: " + DescribeProtection(in.protection) + "\n";
    out += "data: " +
           (in.data.ok() ? DescribeProtectionView(*in.data)
                         : "unknown (" + in.data.status().message() + ")") +
           "\n";
  }
  out += in.probes.empty() ? "node views: none\n"
         : in.snapshot     ? "node views:\n"
                           : "node views (nodes from cluster.json):\n";
  for (const NodeProbe& probe : in.probes) {
    out += "  " + ProbeName(probe) + ": " + DescribeProbe(probe) + "\n";
  }
  return out;
}

namespace {

ojson DataJson(const Result<ProtectionView>& data) {
  if (!data.ok()) return {{"error", data.status().message()}};
  const ProtectionView& d = *data;
  return {{"below_protection", d.below_protection},
          {"files", d.files},
          {"bytes", d.bytes},
          {"files_at_risk", d.files_at_risk},
          {"bytes_at_risk", d.bytes_at_risk},
          {"units_at_risk", d.units_at_risk},
          {"files_unavailable", d.files_unavailable},
          {"bytes_unavailable", d.bytes_unavailable},
          {"failed_devices", d.failed_devices},
          {"array_id", d.array_id}};
}

}  // namespace

ojson StatusJson(const StatusInput& in) {
  ojson out;
  out["cluster"] = in.cluster;
  const bool reachable = in.etcd_status.ok() && in.snapshot.has_value();
  out["etcd"] = {{"endpoints", in.etcd_endpoints}, {"reachable", reachable}};
  if (!reachable) {
    out["etcd"]["error"] = in.etcd_status.ok() ? "no answer" : in.etcd_status.message();
    out["data"] = DataJson(in.data);
    out["views"] = ProbesJson(in.probes);
    return out;
  }
  const AdminSnapshot& snap = *in.snapshot;
  NodeCounts c = CountNodes(snap);
  out["nodes"] = {{"configured", c.configured},
                  {"joined", c.joined},
                  {"down", c.down},
                  {"dead", c.dead},
                  {"soft_failed", c.soft_failed},
                  {"read_only", c.read_only},
                  {"list", NodesJson(NodeRows(snap))}};
  ojson drives = ojson::object();
  for (const AdminNode& node : snap.nodes) {
    ojson d = {{"registered", node.drives.ToString()}, {"count", node.drives.size()}};
    const IdSet* in_group = GroupDrives(snap.group, node.record.array_id);
    d["in_group"] = in_group ? ojson(in_group->ToString()) : ojson(nullptr);
    drives[std::to_string(node.record.array_id)] = std::move(d);
  }
  out["drives"] = std::move(drives);
  out["quorum"] = nullptr;
  if (snap.group) {
    Result<QuorumStatus> q = EvaluateGroupQuorum(snap.group->group);
    if (q.ok()) {
      out["quorum"] = {{"read", q->has_read_quorum},  {"write", q->has_write_quorum},
                       {"configured", q->configured}, {"needed", q->needed},
                       {"readable", q->readable},     {"writable", q->writable},
                       {"reason", q->reason}};
    } else {
      out["quorum"] = {{"error", q.status().message()}};
    }
  }
  out["master"] = nullptr;
  if (snap.master) {
    const AdminNode* node = snap.Find(snap.master->array_id);
    out["master"] = {{"array_id", snap.master->array_id},
                     {"address", node ? ojson(node->record.address) : ojson(nullptr)},
                     {"priority", MasterPriority(snap)},
                     {"token", snap.master->token}};
  }
  out["group"] = nullptr;
  if (snap.group) {
    out["group"] = {{"notation", FormatGroupNotation(GroupWithSequence(*snap.group))},
                    {"epoch", snap.group->epoch},
                    {"initiator", snap.group->initiator},
                    {"cause", GroupCauseName(snap.group->cause)}};
  }
  if (in.protection.error.empty()) {
    out["protection"] = {{"value", in.protection.value}, {"source", in.protection.source}};
  } else {
    out["protection"] = {{"error", in.protection.error}};
  }
  out["data"] = DataJson(in.data);
  out["views"] = ProbesJson(in.probes);
  return out;
}

}  // namespace tessera::cluster::admin
