#include "cluster/membership/group_proposer.h"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cluster/group_log.h"
#include "cluster/group_notation.h"
#include "cluster/membership/registry.h"

namespace tessera::cluster {
namespace {

using nlohmann::json;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// drives/<array-id>/<lnum> -> (array id, lnum).
Result<std::pair<uint32_t, uint32_t>> DriveKeyIds(const std::string& prefix,
                                                  const std::string& key) {
  const std::string rest = key.substr(prefix.size());  // "<id>/<lnum>"
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return Status::Corruption("drive key " + key);
  ASSIGN_OR_RETURN(uint32_t node, IdAfterLastSlash(rest.substr(0, slash)));
  ASSIGN_OR_RETURN(uint32_t lnum, IdAfterLastSlash(rest.substr(slash + 1)));
  return std::make_pair(node, lnum);
}

}  // namespace

std::string_view GroupCauseName(GroupCause cause) {
  switch (cause) {
    case GroupCause::kMerge:
      return "merge";
    case GroupCause::kSplit:
      return "split";
    case GroupCause::kDrive:
      return "drive";
    case GroupCause::kConfig:
      return "config";
  }
  return "config";
}

Result<GroupCause> ParseGroupCause(std::string_view text) {
  for (GroupCause c :
       {GroupCause::kMerge, GroupCause::kSplit, GroupCause::kDrive, GroupCause::kConfig}) {
    if (GroupCauseName(c) == text) return c;
  }
  return Status::InvalidArgument("'" + std::string(text) +
                                 "' is not a group cause (merge, split, drive, config)");
}

GroupCause ClassifyChange(const GroupState& before, const GroupState& after) {
  for (const auto& [node, drives] : before.members) {
    if (!after.members.count(node)) return GroupCause::kSplit;
  }
  for (const auto& [node, drives] : after.members) {
    if (!before.members.count(node)) return GroupCause::kMerge;
  }
  if (before.members != after.members) return GroupCause::kDrive;
  return GroupCause::kConfig;
}

std::string GroupRecordJson(const GroupRecord& record) {
  GroupState content = record.group;
  content.sequence = std::monostate{};
  nlohmann::ordered_json j;
  j["group"] = GroupToJson(content);
  j["notation"] = FormatGroupNotation(content);
  j["initiator"] = record.initiator;
  j["cause"] = std::string(GroupCauseName(record.cause));
  return j.dump();
}

Result<GroupRecord> ParseGroupRecord(const std::string& text, int64_t epoch) {
  GroupRecord record;
  std::string notation;
  std::string cause;
  try {
    json j = json::parse(text);
    notation = j.at("notation").get<std::string>();
    record.initiator = j.at("initiator").get<uint32_t>();
    cause = j.at("cause").get<std::string>();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("group record: ") + e.what());
  }
  Result<GroupState> group = ParseGroupNotation(notation);
  if (!group.ok()) return Status::Corruption("group record: " + group.status().message());
  Result<GroupCause> parsed_cause = ParseGroupCause(cause);
  if (!parsed_cause.ok())
    return Status::Corruption("group record: " + parsed_cause.status().message());
  record.group = std::move(group).value();
  record.group.sequence = std::monostate{};
  record.cause = *parsed_cause;
  record.epoch = epoch;
  return record;
}

Result<ClusterSnapshot> ReadClusterSnapshot(EtcdClient* client, const std::string& cluster) {
  const std::string prefix = ClusterPrefix(cluster);
  ASSIGN_OR_RETURN(
      TxnResult txn,
      client->Txn({}, {TxnOp::GetPrefix(prefix + "nodes/"), TxnOp::GetPrefix(prefix + "live/"),
                       TxnOp::GetPrefix(prefix + "states/"), TxnOp::GetPrefix(prefix + "drives/"),
                       TxnOp::Get(prefix + "group")}));
  if (txn.responses.size() != 5) return Status::Corruption("snapshot: wrong response count");
  ClusterSnapshot snap;
  snap.revision = txn.revision;
  std::set<uint32_t> live;
  for (const KeyValue& kv : txn.responses[1].kvs) {
    ASSIGN_OR_RETURN(uint32_t id, IdAfterLastSlash(kv.key));
    live.insert(id);
  }
  std::map<uint32_t, PersistentNodeState> states;
  for (const KeyValue& kv : txn.responses[2].kvs) {
    ASSIGN_OR_RETURN(uint32_t id, IdAfterLastSlash(kv.key));
    ASSIGN_OR_RETURN(states[id], ParsePersistentState(kv.value));
  }
  std::map<uint32_t, IdSet> drives, down_drives;
  for (const KeyValue& kv : txn.responses[3].kvs) {
    ASSIGN_OR_RETURN(auto ids, DriveKeyIds(prefix + "drives/", kv.key));
    (DriveKeyIsDown(kv.value) ? down_drives : drives)[ids.first].Insert(ids.second);
  }
  GroupState& g = snap.computed;
  for (const KeyValue& kv : txn.responses[0].kvs) {
    ASSIGN_OR_RETURN(NodeRecord node, ParseNodeRecord(kv.value));
    const uint32_t id = node.array_id;
    const PersistentNodeState state = states.count(id) ? states[id] : PersistentNodeState{};
    if (state.dead) {
      g.dead.push_back(DeviceRef{id, std::nullopt});
    } else if (live.count(id)) {
      g.members[id] = drives[id];
      // A live node's drive that is not up: down, until it returns.
      if (down_drives.count(id)) g.down.push_back(DeviceRef{id, down_drives[id]});
      snap.live.push_back(id);
    } else {
      g.down.push_back(DeviceRef{id, std::nullopt});
    }
    if (state.soft_failed) g.soft_failed.push_back(DeviceRef{id, std::nullopt});
    if (state.read_only) g.read_only.Insert(id);
  }
  // Live keys of nodes that are not registered (being removed) are ignored.
  if (!txn.responses[4].kvs.empty()) {
    const KeyValue& kv = txn.responses[4].kvs.front();
    ASSIGN_OR_RETURN(snap.current, ParseGroupRecord(kv.value, kv.mod_revision));
  }
  return snap;
}

Result<std::optional<int64_t>> CompareAndSwapGroup(EtcdClient* client, const std::string& cluster,
                                                   int64_t expected_epoch,
                                                   const GroupRecord& record) {
  const std::string key = ClusterPrefix(cluster) + "group";
  ASSIGN_OR_RETURN(TxnResult txn, client->Txn({Compare::ModRevisionEquals(key, expected_epoch)},
                                              {TxnOp::Put(key, GroupRecordJson(record))}));
  if (!txn.succeeded) return std::optional<int64_t>();
  return std::optional<int64_t>(txn.revision);
}

Result<ProposeOutcome> ProposeGroupOnce(EtcdClient* client, const std::string& cluster,
                                        uint32_t self) {
  ASSIGN_OR_RETURN(ClusterSnapshot snap, ReadClusterSnapshot(client, cluster));
  if (snap.live.empty() || snap.live.front() != self) return ProposeOutcome::kNotProposer;
  if (snap.current && snap.current->group == snap.computed) return ProposeOutcome::kUnchanged;
  GroupRecord record;
  record.group = snap.computed;
  record.initiator = self;
  record.cause =
      snap.current ? ClassifyChange(snap.current->group, snap.computed) : GroupCause::kMerge;
  ASSIGN_OR_RETURN(
      std::optional<int64_t> epoch,
      CompareAndSwapGroup(client, cluster, snap.current ? snap.current->epoch : 0, record));
  return epoch ? ProposeOutcome::kWritten : ProposeOutcome::kLostRace;
}

// -------------------------------------------------------------- GroupProposer

GroupProposer::GroupProposer(EtcdClient* client, std::string cluster, uint32_t self,
                             std::chrono::milliseconds poll) {
  loop_ = std::make_unique<WatchedLoop>(
      client, ClusterPrefix(cluster), poll, [this, client, cluster, self] {
        Result<ProposeOutcome> r = ProposeGroupOnce(client, cluster, self);
        if (!r.ok()) return false;  // etcd trouble: the next poll retries
        if (*r == ProposeOutcome::kWritten) written_.fetch_add(1);
        return *r == ProposeOutcome::kLostRace;
      });
}

GroupProposer::~GroupProposer() { Stop(); }

void GroupProposer::Stop() { loop_->Stop(); }

// --------------------------------------------------------------- GroupWatcher

std::string GroupLogLine(int64_t time_ms, uint32_t self, const GroupRecord& record) {
  GroupState g = record.group;
  g.sequence = SerialSequence{record.initiator, static_cast<uint64_t>(record.epoch)};
  return FormatLogTime(time_ms) + "Z node=" + std::to_string(self) +
         " gmp cause=" + std::string(GroupCauseName(record.cause)) +
         " initiator=" + std::to_string(record.initiator) + " new group: " + FormatGroupNotation(g);
}

Result<std::unique_ptr<GroupWatcher>> GroupWatcher::Start(EtcdClient* client,
                                                          const std::string& cluster, uint32_t self,
                                                          Sink sink) {
  const std::string key = ClusterPrefix(cluster) + "group";
  ASSIGN_OR_RETURN(GetResult current, client->Get(key));
  std::unique_ptr<GroupWatcher> w(new GroupWatcher(self, std::move(sink)));
  if (current.kv) w->Deliver(*current.kv);
  WatchOptions options;
  options.key = key;
  options.start_revision = current.revision + 1;
  GroupWatcher* raw = w.get();
  w->watcher_ = std::make_unique<Watcher>(client, options, [raw, key](const WatchUpdate& u) {
    if (u.resync) {
      for (const KeyValue& kv : u.snapshot) {
        if (kv.key == key) raw->Deliver(kv);
      }
    }
    for (const WatchEvent& e : u.events) {
      if (e.type == WatchEvent::Type::kPut) raw->Deliver(e.kv);
    }
  });
  return w;
}

GroupWatcher::~GroupWatcher() { Stop(); }

void GroupWatcher::Stop() {
  if (watcher_) watcher_->Stop();
}

void GroupWatcher::Deliver(const KeyValue& kv) {
  // deliver_mu_ keeps deliveries in order; mu_ only guards current_, so the
  // sink may call current() (and View()) without deadlocking, and readers
  // never wait behind the sink's I/O.
  std::lock_guard<std::mutex> deliver(deliver_mu_);
  if (kv.mod_revision <= last_epoch_.load()) return;
  last_epoch_.store(kv.mod_revision);
  Result<GroupRecord> record = ParseGroupRecord(kv.value, kv.mod_revision);
  if (!record.ok()) {
    {  // the last readable group is no longer the current one
      std::lock_guard<std::mutex> lock(mu_);
      current_.reset();
    }
    // No "new group: " marker: timeline readers skip it, operators see it.
    sink_(FormatLogTime(NowMs()) + "Z node=" + std::to_string(self_) +
          " gmp unreadable group at epoch " + std::to_string(kv.mod_revision) + ": " +
          record.status().ToString());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = *record;
  }
  sink_(GroupLogLine(NowMs(), self_, *record));
}

std::optional<GroupRecord> GroupWatcher::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

}  // namespace tessera::cluster
