#include "meta/sharded_metadata_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <set>

#include "common/parallel.h"
#include "common/thread_name.h"

namespace tessera::meta {
namespace {

constexpr size_t kMaxBatch = 256;   // writes one replication round carries at most
constexpr size_t kCopyPage = 1000;  // log entries or records one catch-up call moves
constexpr auto kRetryPause = std::chrono::milliseconds(100);

std::string ShardName(uint32_t shard) { return "shard " + std::to_string(shard); }

bool IsWrite(ShardRequest::Op op) {
  return op == ShardRequest::Op::kPut || op == ShardRequest::Op::kReplacePlacement ||
         op == ShardRequest::Op::kDelete;
}

// A routing refusal that outlasted its retries is, to a client, the
// metadata service being unavailable (503), not a conflict.
Status AsClientError(const Status& status) {
  if (status.code() != StatusCode::kFailedPrecondition) return status;
  return Status::Unavailable("no serving primary: " + status.message());
}

}  // namespace

struct ShardedMetadataStore::Writer {
  const ShardRequest* request = nullptr;
  Status status;
  ShardReply reply;
  bool done = false;
};

struct ShardedMetadataStore::LedShard {
  std::mutex mu;
  std::condition_variable cv;
  int64_t epoch = 0;               // the epoch this node is the shard's primary in; 0: it is not
  std::vector<uint32_t> replicas;  // the shard's other replicas at that epoch
  bool serving = false;            // caught up at `epoch`
  bool busy = false;               // a write batch or a catch-up is running
  LogVersion applied;              // the last write applied everywhere (while serving)
  std::deque<Writer*> queue;       // writes waiting; the front ones form the running batch
  uint64_t last_seq = 0;           // the highest seq this primary sent at `epoch`
};

ShardedMetadataStore::ShardedMetadataStore(ShardedStoreOptions options,
                                           std::unique_ptr<ShardReplicaStore> replica)
    : options_(std::move(options)), replica_(std::move(replica)) {
  for (uint32_t i = 0; i < options_.shard_count; ++i) led_.push_back(std::make_unique<LedShard>());
}

Result<std::unique_ptr<ShardedMetadataStore>> ShardedMetadataStore::Open(
    const std::string& dir, ShardedStoreOptions options) {
  ASSIGN_OR_RETURN(auto replica, ShardReplicaStore::Open(dir, options.shard_count));
  auto store = std::unique_ptr<ShardedMetadataStore>(
      new ShardedMetadataStore(std::move(options), std::move(replica)));
  store->catch_up_thread_ = std::thread([s = store.get()] {
    SetThreadName("meta-catchup");
    s->CatchUpLoop();
  });
  return store;
}

ShardedMetadataStore::~ShardedMetadataStore() {
  {
    std::lock_guard<std::mutex> lock(catch_up_mu_);
    stopping_ = true;
  }
  catch_up_cv_.notify_all();
  if (catch_up_thread_.joinable()) catch_up_thread_.join();
}

Status ShardedMetadataStore::Gate() const { return options_.gate ? options_.gate() : Status::Ok(); }

void ShardedMetadataStore::SetShardMap(const cluster::ShardMap& map) {
  if (map.shards.size() != options_.shard_count) {
    spdlog::error("ignoring a shard map of {} shards: this node keeps {}", map.shards.size(),
                  options_.shard_count);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(map_mu_);
    if (map.epoch <= map_.epoch) return;
    map_ = map;
  }
  map_cv_.notify_all();
  for (uint32_t s = 0; s < options_.shard_count; ++s) {
    const std::vector<uint32_t>& nodes = map.shards[s].nodes;
    LedShard& led = *led_[s];
    std::lock_guard<std::mutex> lock(led.mu);
    if (!nodes.empty() && nodes.front() == options_.self) {
      if (led.epoch != map.epoch) led.last_seq = replica_->boot_count() << 40;
      led.epoch = map.epoch;
      led.replicas.assign(nodes.begin() + 1, nodes.end());
    } else {
      led.epoch = 0;
      led.replicas.clear();
    }
    led.serving = false;
    led.cv.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(catch_up_mu_);
    catch_up_wanted_ = true;
  }
  catch_up_cv_.notify_all();
}

void ShardedMetadataStore::SetPeers(std::map<uint32_t, std::shared_ptr<ShardPeer>> peers) {
  std::lock_guard<std::mutex> lock(map_mu_);
  peers_ = std::move(peers);
}

std::shared_ptr<ShardPeer> ShardedMetadataStore::PeerFor(uint32_t node) {
  std::lock_guard<std::mutex> lock(map_mu_);
  auto it = peers_.find(node);
  return it == peers_.end() ? nullptr : it->second;
}

ShardServiceStats ShardedMetadataStore::Stats() {
  ShardServiceStats stats;
  {
    std::lock_guard<std::mutex> lock(map_mu_);
    stats.epoch = map_.epoch;
  }
  for (auto& led : led_) {
    std::lock_guard<std::mutex> lock(led->mu);
    if (led->epoch == 0) continue;
    ++stats.led;
    if (led->serving) ++stats.serving;
  }
  std::lock_guard<std::mutex> lock(catch_up_mu_);
  stats.last_error = last_catch_up_error_;
  return stats;
}

// ---- Routing: every call goes to its shard's primary ----

Status ShardedMetadataStore::AwaitMap(std::unique_lock<std::mutex>& lock,
                                      std::chrono::steady_clock::time_point deadline) {
  if (!map_cv_.wait_until(lock, deadline, [&] { return !map_.shards.empty(); })) {
    return Status::Unavailable("no metadata shard map yet: the master has not published one");
  }
  return Status::Ok();
}

bool ShardedMetadataStore::RetryAfter(const Status& refused,
                                      std::chrono::steady_clock::time_point deadline) {
  // Lead refuses with FailedPrecondition (not the primary at this epoch) or
  // Unavailable (not serving) before it changes anything, so both are safe
  // to retry, writes too; Indeterminate is not.
  StatusCode code = refused.code();
  bool retry = code == StatusCode::kFailedPrecondition || code == StatusCode::kUnavailable;
  if (!retry || std::chrono::steady_clock::now() + kRetryPause >= deadline) return false;
  if (code == StatusCode::kFailedPrecondition && options_.map_is_stale) options_.map_is_stale();
  std::this_thread::sleep_for(kRetryPause);
  return true;
}

Result<ShardReply> ShardedMetadataStore::Route(ShardRequest request) {
  RETURN_IF_ERROR(Gate());
  const auto deadline = std::chrono::steady_clock::now() + options_.request_wait;
  while (true) {
    uint32_t primary = 0;
    std::shared_ptr<ShardPeer> peer;
    {
      std::unique_lock<std::mutex> lock(map_mu_);
      RETURN_IF_ERROR(AwaitMap(lock, deadline));
      request.epoch = map_.epoch;
      const std::vector<uint32_t>& nodes = map_.shards[request.shard].nodes;
      if (nodes.empty()) {
        return Status::Unavailable(ShardName(request.shard) + " has no replicas in epoch " +
                                   std::to_string(map_.epoch));
      }
      primary = nodes.front();
      if (primary != options_.self) {
        auto it = peers_.find(primary);
        if (it != peers_.end()) peer = it->second;
      }
    }
    Result<ShardReply> reply = primary == options_.self ? Lead(request)
                               : peer                   ? peer->Lead(request)
                                                        : Result<ShardReply>(Status::Unavailable(
                                                              "no address for node " + std::to_string(primary) +
                                                              ", primary of " + ShardName(request.shard)));
    if (reply.ok()) return reply;
    if (!RetryAfter(reply.status(), deadline)) return AsClientError(reply.status());
  }
}

Result<uint64_t> ShardedMetadataStore::NewObjectId() { return replica_->NewObjectId(); }

Result<FileRecord> ShardedMetadataStore::Get(const std::string& ns, const std::string& path) {
  ShardRequest request;
  request.op = ShardRequest::Op::kGet;
  request.shard = cluster::ShardOf(ns, path, options_.shard_count);
  request.record.ns = ns;
  request.record.path = path;
  ASSIGN_OR_RETURN(ShardReply reply, Route(std::move(request)));
  if (!reply.record) return Status::Internal("primary answered a get without a record");
  return std::move(*reply.record);
}

Result<std::optional<FileRecord>> ShardedMetadataStore::Put(FileRecord record) {
  ShardRequest request;
  request.op = ShardRequest::Op::kPut;
  request.shard = cluster::ShardOf(record.ns, record.path, options_.shard_count);
  request.record = std::move(record);
  ASSIGN_OR_RETURN(ShardReply reply, Route(std::move(request)));
  return std::move(reply.record);
}

Result<bool> ShardedMetadataStore::ReplacePlacement(const FileRecord& record,
                                                    uint64_t expected_object_id,
                                                    std::optional<int64_t> expected_modified_ns) {
  ShardRequest request;
  request.op = ShardRequest::Op::kReplacePlacement;
  request.shard = cluster::ShardOf(record.ns, record.path, options_.shard_count);
  request.record = record;
  request.expected_object_id = expected_object_id;
  request.expected_modified_ns = expected_modified_ns;
  ASSIGN_OR_RETURN(ShardReply reply, Route(std::move(request)));
  return reply.replaced;
}

Result<FileRecord> ShardedMetadataStore::Delete(const std::string& ns, const std::string& path) {
  ShardRequest request;
  request.op = ShardRequest::Op::kDelete;
  request.shard = cluster::ShardOf(ns, path, options_.shard_count);
  request.record.ns = ns;
  request.record.path = path;
  ASSIGN_OR_RETURN(ShardReply reply, Route(std::move(request)));
  if (!reply.record) return Status::Internal("primary answered a delete without a record");
  return std::move(*reply.record);
}

Result<Listing> ShardedMetadataStore::List(const std::string& ns, const std::string& prefix,
                                           const std::string& marker, size_t limit) {
  RETURN_IF_ERROR(Gate());
  const auto deadline = std::chrono::steady_clock::now() + options_.request_wait;
  while (true) {
    ShardRequest request;
    request.op = ShardRequest::Op::kList;
    request.record.ns = ns;
    request.prefix = prefix;
    request.marker = marker;
    request.limit = limit;
    std::set<uint32_t> primaries;
    std::map<uint32_t, std::shared_ptr<ShardPeer>> peers;
    {
      std::unique_lock<std::mutex> lock(map_mu_);
      RETURN_IF_ERROR(AwaitMap(lock, deadline));
      request.epoch = map_.epoch;
      for (const cluster::ShardReplicas& r : map_.shards) {
        if (!r.nodes.empty()) primaries.insert(r.nodes.front());
      }
      peers = peers_;
    }
    std::vector<Result<ShardReply>> replies(primaries.size(), Status::Internal("not asked"));
    std::vector<std::function<Status()>> calls;
    size_t i = 0;
    for (uint32_t node : primaries) {
      Result<ShardReply>* out = &replies[i++];
      calls.push_back([&, node, out] {
        if (node == options_.self) {
          *out = LeadList(request);
        } else if (auto it = peers.find(node); it != peers.end()) {
          *out = it->second->Lead(request);
        } else {
          *out = Status::Unavailable("no address for node " + std::to_string(node));
        }
        return Status::Ok();
      });
    }
    (void)RunInParallel(std::move(calls));
    Status failed;
    for (const auto& r : replies) {
      if (!r.ok() && failed.ok()) failed = r.status();
    }
    if (failed.ok()) {
      Listing merged;
      for (auto& r : replies) {
        merged.truncated = merged.truncated || r->listing.truncated;
        for (FileRecord& f : r->listing.files) merged.files.push_back(std::move(f));
      }
      std::sort(merged.files.begin(), merged.files.end(),
                [](const FileRecord& a, const FileRecord& b) { return a.path < b.path; });
      if (merged.files.size() > limit) {
        merged.files.resize(limit);
        merged.truncated = true;
      }
      if (merged.truncated && !merged.files.empty()) merged.next_marker = merged.files.back().path;
      return merged;
    }
    if (!RetryAfter(failed, deadline)) return AsClientError(failed);
  }
}

Status ShardedMetadataStore::ForEach(const std::function<bool(const FileRecord&)>& visit) {
  for (uint32_t shard = 0; shard < options_.shard_count; ++shard) {
    ShardRequest request;
    request.op = ShardRequest::Op::kScan;
    request.shard = shard;
    request.limit = kCopyPage;
    while (true) {
      ASSIGN_OR_RETURN(ShardReply reply, Route(request));
      for (const FileRecord& r : reply.listing.files) {
        if (!visit(r)) return Status::Ok();
      }
      if (!reply.listing.truncated || reply.listing.files.empty()) break;
      request.record.ns = reply.listing.files.back().ns;
      request.record.path = reply.listing.files.back().path;
    }
  }
  return Status::Ok();
}

// ---- The primary's side ----

Status ShardedMetadataStore::AwaitServing(LedShard& led, std::unique_lock<std::mutex>& lock,
                                          int64_t epoch) {
  const auto deadline = std::chrono::steady_clock::now() + options_.request_wait;
  while (true) {
    if (led.epoch != epoch) {
      if (epoch > led.epoch && options_.map_is_stale) options_.map_is_stale();
      return Status::FailedPrecondition(
          "node " + std::to_string(options_.self) + " is not the primary at epoch " +
          std::to_string(epoch) +
          (led.epoch ? " (it leads at epoch " + std::to_string(led.epoch) + ")" : ""));
    }
    if (led.serving) return Status::Ok();
    if (led.cv.wait_until(lock, deadline) == std::cv_status::timeout && !led.serving) {
      std::string why;
      {
        std::lock_guard<std::mutex> guard(catch_up_mu_);
        why = last_catch_up_error_;
      }
      return Status::Unavailable("metadata shard is catching up at epoch " + std::to_string(epoch) +
                                 (why.empty() ? "" : ": " + why));
    }
  }
}

Result<ShardReply> ShardedMetadataStore::Lead(const ShardRequest& request) {
  RETURN_IF_ERROR(Gate());
  if (request.op == ShardRequest::Op::kList) return LeadList(request);
  if (request.shard >= options_.shard_count) {
    return Status::InvalidArgument("no metadata " + ShardName(request.shard));
  }
  LedShard& led = *led_[request.shard];
  std::unique_lock<std::mutex> lock(led.mu);
  RETURN_IF_ERROR(AwaitServing(led, lock, request.epoch));
  if (IsWrite(request.op)) return LeadWrite(led, lock, request);
  lock.unlock();
  ShardReply reply;
  if (request.op == ShardRequest::Op::kGet) {
    ASSIGN_OR_RETURN(FileRecord record,
                     replica_->Get(request.shard, request.record.ns, request.record.path));
    reply.record = std::move(record);
  } else {
    ASSIGN_OR_RETURN(RecordPage page, replica_->ReadRecords(request.shard, request.record.ns,
                                                            request.record.path, request.limit));
    reply.listing.files = std::move(page.records);
    reply.listing.truncated = !page.done;
  }
  return reply;
}

Result<ShardReply> ShardedMetadataStore::LeadList(const ShardRequest& request) {
  RETURN_IF_ERROR(Gate());
  {
    std::lock_guard<std::mutex> lock(map_mu_);
    if (map_.epoch != request.epoch) {
      if (request.epoch > map_.epoch && options_.map_is_stale) options_.map_is_stale();
      return Status::FailedPrecondition("node " + std::to_string(options_.self) +
                                        " routes by epoch " + std::to_string(map_.epoch) +
                                        ", not " + std::to_string(request.epoch));
    }
  }
  std::vector<uint32_t> shards;
  for (uint32_t s = 0; s < options_.shard_count; ++s) {
    LedShard& led = *led_[s];
    std::unique_lock<std::mutex> lock(led.mu);
    if (led.epoch == 0) continue;
    RETURN_IF_ERROR(AwaitServing(led, lock, request.epoch));
    shards.push_back(s);
  }
  ShardReply reply;
  ASSIGN_OR_RETURN(reply.listing, replica_->List(shards, request.record.ns, request.prefix,
                                                 request.marker, request.limit));
  return reply;
}

Result<ShardReply> ShardedMetadataStore::LeadWrite(LedShard& led,
                                                   std::unique_lock<std::mutex>& lock,
                                                   const ShardRequest& request) {
  Writer w;
  w.request = &request;
  led.queue.push_back(&w);
  while (!w.done) {
    if (!led.busy && led.queue.front() == &w) {
      RunBatch(request.shard, led, lock);
    } else {
      led.cv.wait(lock);
    }
  }
  if (!w.status.ok()) return w.status;
  return std::move(w.reply);
}

void ShardedMetadataStore::RunBatch(uint32_t shard, LedShard& led,
                                    std::unique_lock<std::mutex>& lock) {
  if (!led.serving) {
    for (Writer* w : led.queue) {
      w->status = Status::Unavailable(ShardName(shard) +
                                      " stopped serving (new epoch or a replica failed); "
                                      "the write was not applied");
      w->done = true;
    }
    led.queue.clear();
    led.cv.notify_all();
    return;
  }
  led.busy = true;
  const size_t count = std::min(led.queue.size(), kMaxBatch);
  std::vector<Writer*> batch(led.queue.begin(), led.queue.begin() + count);
  const int64_t epoch = led.epoch;
  const LogVersion prev = led.applied;
  const std::vector<uint32_t> replicas = led.replicas;
  // Never a version this primary sent before, even in a batch that failed:
  // a replica may still apply that batch late, and equal versions must mean
  // equal writes.
  LogVersion version{epoch, std::max(led.last_seq, prev.epoch == epoch ? prev.seq : 0)};
  lock.unlock();

  std::vector<std::shared_ptr<ShardPeer>> peers;
  Status reachable;
  for (uint32_t node : replicas) {
    peers.push_back(PeerFor(node));
    if (!peers.back() && reachable.ok()) {
      reachable = Status::Unavailable("no address for replica node " + std::to_string(node));
    }
  }

  // Order the batch: each write sees the ones before it in the batch.
  std::map<std::pair<std::string, std::string>, std::optional<FileRecord>> overlay;
  std::vector<ShardEntry> entries;
  std::vector<Writer*> writing;
  for (Writer* w : batch) {
    if (!reachable.ok()) {
      w->status = reachable;  // nothing was sent: a definite refusal
      continue;
    }
    const ShardRequest& r = *w->request;
    auto key = std::make_pair(r.record.ns, r.record.path);
    std::optional<FileRecord> current;
    if (auto it = overlay.find(key); it != overlay.end()) {
      current = it->second;
    } else {
      Result<FileRecord> stored = replica_->Get(shard, r.record.ns, r.record.path);
      if (stored.ok()) {
        current = std::move(stored).value();
      } else if (stored.status().code() != StatusCode::kNotFound) {
        w->status = stored.status();
        continue;
      }
    }
    ShardEntry entry;
    entry.record = r.record;
    switch (r.op) {
      case ShardRequest::Op::kPut:
        if (current) entry.record.created_ns = current->created_ns;
        w->reply.record = current;
        break;
      case ShardRequest::Op::kReplacePlacement:
        if (current
                ? current->object_id != r.expected_object_id ||
                      (r.expected_modified_ns && current->modified_ns != *r.expected_modified_ns)
                : r.expected_object_id != kNoObject) {
          continue;  // replaced = false
        }
        w->reply.replaced = true;
        break;
      case ShardRequest::Op::kDelete:
        if (!current) {
          w->status = Status::NotFound("no file " + r.record.ns + "/" + r.record.path);
          continue;
        }
        entry.remove = true;
        w->reply.record = current;
        break;
      default:
        w->status = Status::Internal("not a write");
        continue;
    }
    ++version.seq;
    entry.version = version;
    overlay[key] = entry.remove ? std::nullopt : std::optional<FileRecord>(entry.record);
    entries.push_back(std::move(entry));
    writing.push_back(w);
  }
  Status replicated =
      entries.empty() ? Status::Ok() : Replicate(shard, epoch, replicas, peers, prev, entries);

  lock.lock();
  led.last_seq = std::max(led.last_seq, version.seq);
  if (!reachable.ok()) {
    led.serving = false;  // the map names a node this one cannot reach: catch up again
    {
      std::lock_guard<std::mutex> guard(catch_up_mu_);
      catch_up_wanted_ = true;
    }
    catch_up_cv_.notify_all();
  } else if (replicated.ok()) {
    if (!entries.empty()) led.applied = entries.back().version;
  } else {
    spdlog::warn("{} at epoch {}: a write batch failed, catching up again: {}", ShardName(shard),
                 epoch, replicated.ToString());
    led.serving = false;
    for (Writer* w : writing) {
      w->status = Status::Indeterminate("metadata replication cut short (" + replicated.message() +
                                        "); the write may or may not be committed");
    }
    {
      std::lock_guard<std::mutex> guard(catch_up_mu_);
      catch_up_wanted_ = true;
    }
    catch_up_cv_.notify_all();
  }
  for (Writer* w : batch) w->done = true;
  led.queue.erase(led.queue.begin(), led.queue.begin() + count);
  led.busy = false;
  led.cv.notify_all();
}

Status ShardedMetadataStore::Replicate(uint32_t shard, int64_t epoch,
                                       const std::vector<uint32_t>& replicas,
                                       const std::vector<std::shared_ptr<ShardPeer>>& peers,
                                       LogVersion prev, const std::vector<ShardEntry>& entries) {
  std::vector<std::function<Status()>> calls;
  for (size_t i = 0; i < replicas.size(); ++i) {
    const uint32_t node = replicas[i];
    std::shared_ptr<ShardPeer> peer = peers[i];
    calls.push_back([=, &entries]() -> Status {
      Status s = peer->Append(shard, epoch, prev, entries);
      if (s.ok()) return s;
      return Status(s.code(), "replica node " + std::to_string(node) + ": " + s.message());
    });
  }
  // The replicas first, then this node: a write this node serves is on every replica.
  RETURN_IF_ERROR(RunInParallel(std::move(calls)));
  return replica_->Append(shard, epoch, prev, entries);
}

// ---- Catch-up: a new primary brings its shard level before serving ----

void ShardedMetadataStore::CatchUpLoop() {
  std::unique_lock<std::mutex> lock(catch_up_mu_);
  while (!stopping_) {
    catch_up_cv_.wait_for(lock, std::chrono::seconds(1),
                          [this] { return stopping_ || catch_up_wanted_; });
    if (stopping_) return;
    catch_up_wanted_ = false;
    lock.unlock();
    // A node whose session lapsed cannot prove it is still primary: it stops
    // serving its shards at once (before a successor can be chosen, a lease
    // later) and starts no catch-up (a copy would wipe replicas) until its
    // session is back; then it must catch up, and so re-promise, first.
    if (!Gate().ok()) {
      for (auto& led : led_) {
        std::lock_guard<std::mutex> guard(led->mu);
        led->serving = false;
      }
      lock.lock();
      continue;
    }
    struct Task {
      uint32_t shard;
      int64_t epoch;
      std::vector<uint32_t> replicas;
      Status result;
    };
    std::vector<Task> tasks;
    for (uint32_t s = 0; s < options_.shard_count; ++s) {
      LedShard& led = *led_[s];
      std::lock_guard<std::mutex> guard(led.mu);
      if (led.epoch == 0 || led.serving || led.busy) continue;
      led.busy = true;
      tasks.push_back({s, led.epoch, led.replicas, Status::Ok()});
    }
    std::vector<std::function<Status()>> calls;
    for (Task& t : tasks) {
      calls.push_back([this, &t] {
        t.result = CatchUp(t.shard, t.epoch, t.replicas);
        return Status::Ok();
      });
    }
    (void)RunInParallel(std::move(calls));
    std::string error;
    for (Task& t : tasks) {
      LedShard& led = *led_[t.shard];
      std::lock_guard<std::mutex> guard(led.mu);
      led.busy = false;
      if (t.result.ok() && led.epoch == t.epoch) {
        Result<ShardPosition> position = replica_->Position(t.shard);
        if (position.ok()) {
          led.applied = position->applied;
          led.serving = true;
        }
      } else if (!t.result.ok()) {
        // A replica that promised a later epoch means this node's map is old.
        if (t.result.code() == StatusCode::kFailedPrecondition && options_.map_is_stale) {
          options_.map_is_stale();
        }
        error = ShardName(t.shard) + ": " + t.result.message();
        spdlog::warn("catching up {} at epoch {}: {}", ShardName(t.shard), t.epoch,
                     t.result.ToString());
      }
      led.cv.notify_all();
    }
    lock.lock();
    if (!tasks.empty()) last_catch_up_error_ = error;
  }
}

Status ShardedMetadataStore::CatchUp(uint32_t shard, int64_t epoch,
                                     const std::vector<uint32_t>& replicas) {
  ASSIGN_OR_RETURN(ShardPosition mine, replica_->Promise(shard, epoch));
  struct Other {
    uint32_t node;
    std::shared_ptr<ShardPeer> peer;
    ShardPosition position;
  };
  std::vector<Other> others;
  for (uint32_t node : replicas) {
    std::shared_ptr<ShardPeer> peer = PeerFor(node);
    if (!peer) return Status::Unavailable("no address for replica node " + std::to_string(node));
    others.push_back({node, std::move(peer), {}});
  }
  std::vector<std::function<Status()>> promises;
  std::vector<Status> promised(others.size());
  for (size_t i = 0; i < others.size(); ++i) {
    promises.push_back([&o = others[i], &result = promised[i], shard, epoch]() -> Status {
      Result<ShardPosition> p = o.peer->Promise(shard, epoch);
      if (!p.ok()) {
        result = Status(p.status().code(),
                        "replica node " + std::to_string(o.node) + ": " + p.status().message());
        return result;
      }
      o.position = *p;
      return Status::Ok();
    });
  }
  Status all_promised = RunInParallel(std::move(promises));
  // A replica that promised a later epoch says this node's map is old (the
  // caller acts on that); it outranks another replica being unreachable.
  for (const Status& result : promised) {
    if (result.code() == StatusCode::kFailedPrecondition) return result;
  }
  RETURN_IF_ERROR(all_promised);

  // Every write a previous primary acknowledged is on every replica it had,
  // and at least one of them is in this set (survivors are kept): the most
  // advanced complete replica has them all.
  Other* source = nullptr;
  bool have = !mine.installing;
  LogVersion best = mine.applied;
  for (Other& o : others) {
    if (!o.position.installing && (!have || o.position.applied > best)) {
      source = &o;
      best = o.position.applied;
      have = true;
    }
  }
  if (!have) return Status::Unavailable("no replica holds a complete copy of " + ShardName(shard));
  if (source != nullptr) {
    RETURN_IF_ERROR(PullFrom(*source->peer, shard, epoch, mine, best));
  }
  std::vector<std::function<Status()>> pushes;
  for (Other& o : others) {
    if (o.position.installing || o.position.applied != best) {
      pushes.push_back([&o, this, shard, epoch, best]() -> Status {
        Status s = PushTo(*o.peer, shard, epoch, o.position, best);
        if (s.ok()) return s;
        return Status(s.code(),
                      "bringing replica node " + std::to_string(o.node) + " level: " + s.message());
      });
    }
  }
  return RunInParallel(std::move(pushes));
}

Status ShardedMetadataStore::PullFrom(ShardPeer& source, uint32_t shard, int64_t epoch,
                                      const ShardPosition& mine, LogVersion target) {
  // Without a complete copy here only a full one will do.
  LogVersion at = mine.applied;
  while (!mine.installing && at < target) {
    Result<std::vector<ShardEntry>> entries = source.EntriesAfter(shard, at, kCopyPage);
    if (entries.status().code() == StatusCode::kNotFound) break;
    RETURN_IF_ERROR(entries.status());
    if (entries->empty())
      return Status::Unavailable("source ended its log before " + target.ToString());
    RETURN_IF_ERROR(replica_->Append(shard, epoch, at, *entries));
    at = entries->back().version;
  }
  if (!mine.installing && at >= target) return Status::Ok();
  spdlog::info("{}: copying the whole shard from a replica (at {}, target {})", ShardName(shard),
               at.ToString(), target.ToString());
  RETURN_IF_ERROR(replica_->BeginInstall(shard, epoch));
  std::string ns, path;
  while (true) {
    ASSIGN_OR_RETURN(RecordPage page, source.ReadRecords(shard, ns, path, kCopyPage));
    RETURN_IF_ERROR(replica_->AddInstall(shard, epoch, page.records));
    if (page.done || page.records.empty()) break;
    ns = page.records.back().ns;
    path = page.records.back().path;
  }
  return replica_->FinishInstall(shard, epoch, target);
}

Status ShardedMetadataStore::PushTo(ShardPeer& replica, uint32_t shard, int64_t epoch,
                                    const ShardPosition& position, LogVersion applied) {
  if (!position.installing && position.applied < applied) {
    LogVersion at = position.applied;
    while (at < applied) {
      Result<std::vector<ShardEntry>> entries = replica_->EntriesAfter(shard, at, kCopyPage);
      if (entries.status().code() == StatusCode::kNotFound) break;
      RETURN_IF_ERROR(entries.status());
      if (entries->empty()) return Status::Internal("log ended before " + applied.ToString());
      RETURN_IF_ERROR(replica.Append(shard, epoch, at, *entries));
      at = entries->back().version;
    }
    if (at >= applied) return Status::Ok();
  }
  RETURN_IF_ERROR(replica.BeginInstall(shard, epoch));
  std::string ns, path;
  while (true) {
    ASSIGN_OR_RETURN(RecordPage page, replica_->ReadRecords(shard, ns, path, kCopyPage));
    RETURN_IF_ERROR(replica.AddInstall(shard, epoch, page.records));
    if (page.done || page.records.empty()) break;
    ns = page.records.back().ns;
    path = page.records.back().path;
  }
  return replica.FinishInstall(shard, epoch, applied);
}

}  // namespace tessera::meta
