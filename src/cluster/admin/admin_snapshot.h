// AdminSnapshot: everything the admin verbs show about a cluster, read from
// etcd in one transaction so that every part is of the same revision.
//
// It holds the stored records as they are (registered nodes with their live
// key, persistent states, drives and priority; the group key; the master
// key); deciding what they mean for an operator is left to the pure
// functions of nodes_table.h and status_report.h.
//
// Errors: Unavailable when etcd does not answer, Corruption when a stored
// value does not parse. Threading: ReadAdminSnapshot is a free function over
// a thread-safe EtcdClient.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/etcd/etcd_client.h"
#include "cluster/group_state.h"
#include "cluster/membership/group_proposer.h"
#include "cluster/membership/master.h"
#include "cluster/membership/registry.h"
#include "common/status.h"

namespace tessera::cluster::admin {

struct AdminNode {
  NodeRecord record;
  bool live = false;          // live/<id> exists
  PersistentNodeState state;  // states/<id>; all false when absent
  IdSet drives;               // registered drive lnums (drives/<id>/<lnum>)
  int64_t priority = 0;       // priorities/<id>; 0 when absent
  bool has_priority = false;  // priorities/<id> exists
  bool operator==(const AdminNode&) const = default;
};

struct AdminSnapshot {
  std::string cluster;
  int64_t revision = 0;
  std::vector<AdminNode> nodes;        // registered nodes, by array id
  std::optional<GroupRecord> group;    // the group key, with its epoch
  std::optional<MasterRecord> master;  // the master key, with its token

  // The registered node with `array_id`, or nullptr.
  const AdminNode* Find(uint32_t array_id) const;
};

Result<AdminSnapshot> ReadAdminSnapshot(EtcdClient* client, const std::string& cluster);

}  // namespace tessera::cluster::admin
