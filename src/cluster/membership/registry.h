// Node identities and persistent node states in etcd.
//
// Keys, under ClusterPrefix(cluster) = "/tessera/<cluster>/" (docs/membership.md):
//
//   counters/array-id          last array id handed out (decimal); only grows
//   nodes/<array-id>           {"array_id", "lnn", "address", "guid", "rpc"}
//   lnns/<lnn>                 the array id holding that LNN (claims it)
//   counters/lnum/<array-id>   how many lnums the node was given (= next lnum); only grows
//   drives/<array-id>/<lnum>   {"lnum"}: one registered drive
//   states/<array-id>          {"soft_failed", "read_only", "dead"}
//
// Rules: array ids come from the counter by compare-and-swap and are never
// reused, not even after RemoveNode; the LNN is the lowest one not claimed
// by a registered node and is freed by RemoveNode (so it may be reused);
// drive lnums come from a per-node counter and are never reused. Every
// allocation is one etcd transaction, so concurrent registrations from any
// number of threads or processes get distinct ids and LNNs.
//
// Threading: these are free functions over a thread-safe EtcdClient; call
// them from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cluster/etcd/etcd_client.h"
#include "common/status.h"

namespace tessera::cluster {

// "/tessera/<cluster>/".
std::string ClusterPrefix(const std::string& cluster);

struct NodeRecord {
  uint32_t array_id = 0;
  uint32_t lnn = 0;     // 1-based
  std::string address;  // HOST:PORT of its HTTP API
  std::string guid;
  std::string rpc_address;  // HOST:PORT of its piece RPC; empty until it serves one
  bool operator==(const NodeRecord&) const = default;
};

// Allocates an array id and the lowest free LNN and writes nodes/<id>, in one
// transaction (retried while other registrations race). `guid` empty: a
// random 128-bit hex GUID is made. If etcd's answer to the write is lost the
// nodes are re-read and a record with this GUID is returned when present.
// Errors: InvalidArgument (empty cluster or address), Unavailable (etcd),
// NoSpace (array ids exhausted), Corruption (malformed keys).
Result<NodeRecord> RegisterNode(EtcdClient* client, const std::string& cluster,
                                const std::string& address, std::string guid = {});

// Deletes nodes/<id>, its LNN claim, live/<id> and states/<id>. The array id
// stays used up. NotFound if the node is not registered.
Status RemoveNode(EtcdClient* client, const std::string& cluster, uint32_t array_id);

// Registered nodes in array id order.
Result<std::vector<NodeRecord>> ListNodes(EtcdClient* client, const std::string& cluster);

// Allocates the node's next drive lnum (0, 1, 2, ...; never reused) and
// writes drives/<array-id>/<lnum>. FailedPrecondition if the node is not
// registered; NoSpace past kMaxDriveLnum.
Result<uint32_t> AllocateDriveLnum(EtcdClient* client, const std::string& cluster,
                                   uint32_t array_id);

// The value of a drives/<array-id>/<lnum> key, and whether it says down.
std::string DriveKeyValue(uint32_t lnum, bool down);
bool DriveKeyIsDown(std::string_view value);

// The drives/<array-id>/<lnum> keys: lnum -> whether it is marked down.
Result<std::map<uint32_t, bool>> ListDriveKeys(EtcdClient* client, const std::string& cluster,
                                               uint32_t array_id);
// The lnums with a drives/<array-id>/<lnum> key (up or down), ascending.
Result<std::vector<uint32_t>> ListDriveLnums(EtcdClient* client, const std::string& cluster,
                                             uint32_t array_id);

// Makes the cluster's drive keys of a node match the drives it has up:
// an up lnum at or past the counter is allocated (AllocateDriveLnum, so the
// counter moves past it; lnums skipped on the way are not up and get no
// key); an up lnum handed out before gets its key back, up; a key whose
// drive is not up stays, marked down, so the group lists the drive as down
// and FlexProtect rebuilds what it held. The node allocates its own lnums
// in the same order, so its lnums and the counter agree. FailedPrecondition
// if not registered.
Status SyncDriveLnums(EtcdClient* client, const std::string& cluster, uint32_t array_id,
                      const std::vector<uint32_t>& up_lnums);

// Rewrites the addresses of a registered node (it moved to other ports)
// with a compare-and-swap. FailedPrecondition if the node is not registered.
Status UpdateNodeAddresses(EtcdClient* client, const std::string& cluster, uint32_t array_id,
                           const std::string& address, const std::string& rpc_address);

// The persistent (operator- or repair-set) states of a node; see device_state.h.
struct PersistentNodeState {
  bool soft_failed = false;
  bool read_only = false;
  bool dead = false;
  bool operator==(const PersistentNodeState&) const = default;
};

// Writes states/<array-id>. FailedPrecondition if the node is not registered.
Status SetPersistentState(EtcdClient* client, const std::string& cluster, uint32_t array_id,
                          const PersistentNodeState& state);

// Parsers for the stored values (shared with the group proposer).
Result<NodeRecord> ParseNodeRecord(const std::string& json);
Result<PersistentNodeState> ParsePersistentState(const std::string& json);
// The decimal id after the last '/' of `key`; Corruption otherwise.
Result<uint32_t> IdAfterLastSlash(const std::string& key);

}  // namespace tessera::cluster
