// The cluster group in etcd: computing it, proposing it, watching it.
//
// The group key, ClusterPrefix(cluster) + "group", holds JSON:
//
//   {"group": <GroupToJson of the group without sequence>,
//    "notation": "{ 1-2:0-1, down: 3 }", "initiator": 1, "cause": "split"}
//
// Its etcd mod_revision is the group epoch; the content does not name the
// epoch. It is written only by a transaction comparing that mod_revision
// with the one the writer read (compare-and-swap), so of proposers racing
// from one epoch exactly one succeeds and the others must re-read.
//
// The group is computed from nodes/, live/, states/ and drives/
// (registry.h, live_presence.h): a registered node that is dead is listed
// under dead; otherwise one with a live key is a member with its registered
// drives, one without is listed under down; soft_failed and read_only
// states are listed for either.
//
// Threading: free functions are thread-safe (over a thread-safe
// EtcdClient). GroupProposer and GroupWatcher each own background threads;
// their public methods may be called from any thread. The EtcdClient must
// outlive them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "cluster/etcd/etcd_client.h"
#include "cluster/group_state.h"
#include "cluster/membership/watched_loop.h"
#include "common/status.h"

namespace tessera::cluster {

// Why a group changed: a node left (split), a node joined (merge), only
// drive sets changed (drive), or anything else such as a state (config).
enum class GroupCause { kMerge, kSplit, kDrive, kConfig };
std::string_view GroupCauseName(GroupCause cause);
Result<GroupCause> ParseGroupCause(std::string_view text);

// Split if a node that was a member no longer is, else merge if a node
// became a member, else drive if any member's drives changed, else config.
GroupCause ClassifyChange(const GroupState& before, const GroupState& after);

struct GroupRecord {
  GroupState group;  // sequence is std::monostate
  uint32_t initiator = 0;
  GroupCause cause = GroupCause::kConfig;
  int64_t epoch = 0;  // the key's mod_revision; 0 when not read from etcd
};

std::string GroupRecordJson(const GroupRecord& record);
// `epoch` is set from the caller (the key's mod_revision).
Result<GroupRecord> ParseGroupRecord(const std::string& json, int64_t epoch);

// The cluster as stored: what a proposer computes the group from.
struct ClusterSnapshot {
  int64_t revision = 0;
  GroupState computed;                 // the group nodes/live/states/drives describe
  std::vector<uint32_t> live;          // array ids with a live key, ascending
  std::optional<GroupRecord> current;  // the group key, if any
};

// Reads everything in one transaction (one revision).
Result<ClusterSnapshot> ReadClusterSnapshot(EtcdClient* client, const std::string& cluster);

// CAS: writes `record` if the group key's mod_revision is still
// `expected_epoch` (0: the key must not exist). Returns the new epoch, or
// nullopt if another writer got there first.
Result<std::optional<int64_t>> CompareAndSwapGroup(EtcdClient* client, const std::string& cluster,
                                                   int64_t expected_epoch,
                                                   const GroupRecord& record);

enum class ProposeOutcome {
  kNotProposer,  // this node is not the lowest-numbered live node
  kUnchanged,    // the stored group already says the same
  kWritten,      // this node wrote a new group
  kLostRace,     // another writer changed the group first
};

// Proposes the group for `self`: if it is the lowest-numbered live node and
// the computed group differs from the stored one, CASes it in with the
// cause from ClassifyChange (merge for the first group).
Result<ProposeOutcome> ProposeGroupOnce(EtcdClient* client, const std::string& cluster,
                                        uint32_t self);

// Runs ProposeGroupOnce whenever anything under the cluster prefix changes
// and at least every `poll` (a lost race is retried at once).
class GroupProposer {
 public:
  GroupProposer(EtcdClient* client, std::string cluster, uint32_t self,
                std::chrono::milliseconds poll = std::chrono::milliseconds(500));
  ~GroupProposer();
  GroupProposer(const GroupProposer&) = delete;
  GroupProposer& operator=(const GroupProposer&) = delete;
  void Stop();  // idempotent
  int64_t groups_written() const { return written_.load(); }

 private:
  std::atomic<int64_t> written_{0};
  std::unique_ptr<WatchedLoop> loop_;
};

// The log line for one group (docs/membership.md), e.g.
//   2026-11-21T21:00:10.250Z node=3 gmp cause=split initiator=2 new group: <2,57>: { 1-2, down: 3 }
// The sequence is <initiator,epoch>. Cause and initiator come before the
// "new group: " marker because `tessera timeline` reads everything after it
// as the notation (group_log.h).
std::string GroupLogLine(int64_t time_ms, uint32_t self, const GroupRecord& record);

// Watches the group key and hands `sink` one GroupLogLine per group, in
// epoch order, each epoch once: the current group when it starts, then
// every change. The Watcher underneath resumes after disconnects from the
// last revision seen; after a compaction it resyncs and logs the current
// group if it is newer than the last one logged.
class GroupWatcher {
 public:
  using Sink = std::function<void(const std::string& line)>;
  // `sink` runs on the watcher thread (or in Start's caller for the first).
  static Result<std::unique_ptr<GroupWatcher>> Start(EtcdClient* client, const std::string& cluster,
                                                     uint32_t self, Sink sink);
  ~GroupWatcher();
  GroupWatcher(const GroupWatcher&) = delete;
  GroupWatcher& operator=(const GroupWatcher&) = delete;
  void Stop();
  int64_t last_epoch() const { return last_epoch_.load(); }
  // The last group delivered (with its epoch), if any; none after an
  // unreadable newer group, so a node never acts on a superseded group.
  std::optional<GroupRecord> current() const;

 private:
  GroupWatcher(uint32_t self, Sink sink) : self_(self), sink_(std::move(sink)) {}
  void Deliver(const KeyValue& kv);

  uint32_t self_;
  Sink sink_;
  std::mutex deliver_mu_;  // serializes Deliver
  mutable std::mutex mu_;  // guards current_
  std::atomic<int64_t> last_epoch_{0};
  std::optional<GroupRecord> current_;
  std::unique_ptr<Watcher> watcher_;
};

}  // namespace tessera::cluster
