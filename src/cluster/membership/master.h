// The master in etcd: who it is, node priorities, and the pure choice rule.
//
// Keys, under ClusterPrefix(cluster) (docs/membership.md):
//
//   master                 {"array_id": N, "priority": P}, under the master's
//                          live lease, so it vanishes when the master dies
//   priorities/<array-id>  the node's priority, decimal (may be negative)
//
// The master key's create_revision is the master's fencing token: it is
// unique to one tenure, grows with every new master, and an action meant
// for the master only is a transaction comparing it (MasterTokenHolds).
// A node without a priorities key has priority 0.
//
// Threading: free functions over a thread-safe EtcdClient; pure ones have no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "cluster/etcd/etcd_client.h"
#include "common/status.h"

namespace tessera::cluster {

struct MasterRecord {
  uint32_t array_id = 0;
  int64_t priority = 0;  // the priority it held when it took over
  int64_t token = 0;     // the key's create_revision; 0 when not read from etcd
  bool operator==(const MasterRecord&) const = default;
};

std::string MasterKey(const std::string& cluster);
std::string PriorityKey(const std::string& cluster, uint32_t array_id);

std::string MasterRecordJson(const MasterRecord& record);  // token is not stored
Result<MasterRecord> ParseMasterRecord(const std::string& json, int64_t token);

// nullopt when there is no master.
Result<std::optional<MasterRecord>> ReadMaster(EtcdClient* client, const std::string& cluster);
// Every priorities/<id> key, by array id.
Result<std::map<uint32_t, int64_t>> ReadPriorities(EtcdClient* client, const std::string& cluster);
// Writes priorities/<id>. InvalidArgument for array id 0.
Status SetPriority(EtcdClient* client, const std::string& cluster, uint32_t array_id,
                   int64_t priority);

// The compare that holds only while the master key is the tenure `token`.
Compare MasterTokenHolds(const std::string& cluster, int64_t token);

// Who should be master among `candidates` (array id -> priority): the
// highest priority; ties go to the lowest array id. nullopt when empty.
std::optional<uint32_t> ChooseMaster(const std::map<uint32_t, int64_t>& candidates);

}  // namespace tessera::cluster
