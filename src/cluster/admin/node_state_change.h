// Changing one persistent state flag of a node (soft_failed, read_only,
// dead; device_state.h) without losing the others or a concurrent change.
//
// UpdatePersistentFlag reads nodes/<id> and states/<id> together, sets or
// clears one flag and writes states/<id> (the SetPersistentState format,
// registry.h) in a transaction that compares the node still exists and
// states/<id> still has the mod_revision it read. A lost race re-reads and
// retries, so two operators changing different flags of one node at once
// both get their change. Errors: NotFound "node N is not registered",
// Unavailable (etcd, or too many lost races in a row).
//
// WithFlag and DescribePersistentState are pure. Thread-safe free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/etcd/etcd_client.h"
#include "cluster/membership/registry.h"
#include "common/status.h"

namespace tessera::cluster::admin {

enum class PersistentFlag { kSoftFailed, kReadOnly, kDead };

// "soft_failed", "read_only", "dead": the names of the group notation.
std::string_view PersistentFlagName(PersistentFlag flag);

// `state` with `flag` set to `on`; the other flags unchanged.
PersistentNodeState WithFlag(PersistentNodeState state, PersistentFlag flag, bool on);

// The flags that are set, joined by ", " in the order soft_failed,
// read_only, dead; "none" when no flag is set.
std::string DescribePersistentState(const PersistentNodeState& state);

// The state as stored in states/<id>.
std::string PersistentStateJson(const PersistentNodeState& state);

// Returns the state now stored.
Result<PersistentNodeState> UpdatePersistentFlag(EtcdClient* client, const std::string& cluster,
                                                 uint32_t array_id, PersistentFlag flag, bool on);

}  // namespace tessera::cluster::admin
