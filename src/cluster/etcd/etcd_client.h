// A small etcd v3 client over etcd's JSON gateway (POST http://HOST:PORT/v3/...).
//
// EtcdClient sends each request to the endpoint that answered last; when an
// endpoint cannot be reached (connection refused, reset, timeout) or answers
// gRPC "Unavailable" (no leader, leader changed), it tries the next one in the
// list and remembers the first that answers. When none answers the call
// returns Unavailable naming every endpoint it tried. Writes are not resent
// once they may have reached etcd (see CallKind).
//
// Errors: Unavailable (no endpoint answered, or a write's outcome is
// unknown), InvalidArgument (bad input), FailedPrecondition (compacted or
// future revision), NotFound (no such lease), Corruption (the endpoint's
// answer is not the JSON etcd sends), Internal (any other etcd error).
//
// Keys and values are arbitrary bytes (std::string); they travel base64 encoded.
//
// Threading: EtcdClient is thread-safe; every call opens its own HTTP
// connection, so calls from many threads do not serialize. A Watcher owns
// one background thread and borrows the EtcdClient, which must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace httplib {
class Client;
}

namespace tessera::cluster {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct GetResult {
  int64_t revision = 0;        // store revision the read was served at
  std::optional<KeyValue> kv;  // nullopt: the key does not exist
};

struct RangeResult {
  int64_t revision = 0;
  std::vector<KeyValue> kvs;  // in key order
};

struct DeleteResult {
  int64_t revision = 0;
  int64_t deleted = 0;
};

// One comparison of a transaction, evaluated against the key's current state.
// A missing key has version, create_revision and mod_revision 0.
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue };
  enum class Op { kEqual, kNotEqual, kGreater, kLess };
  std::string key;
  Target target = Target::kModRevision;
  Op op = Op::kEqual;
  int64_t number = 0;  // for kVersion / kCreateRevision / kModRevision
  std::string value;   // for kValue

  static Compare ModRevisionEquals(std::string key, int64_t rev) {
    return {std::move(key), Target::kModRevision, Op::kEqual, rev, {}};
  }
  static Compare VersionEquals(std::string key, int64_t version) {
    return {std::move(key), Target::kVersion, Op::kEqual, version, {}};
  }
  static Compare ValueEquals(std::string key, std::string value) {
    return {std::move(key), Target::kValue, Op::kEqual, 0, std::move(value)};
  }
  // True when the key does not exist.
  static Compare Absent(std::string key) { return VersionEquals(std::move(key), 0); }
};

// One operation of a transaction branch.
struct TxnOp {
  enum class Type { kPut, kDelete, kGet };
  Type type = Type::kPut;
  std::string key;
  std::string range_end;  // kDelete / kGet: empty means just `key`
  std::string value;      // kPut
  int64_t lease = 0;      // kPut

  static TxnOp Put(std::string key, std::string value, int64_t lease = 0) {
    return {Type::kPut, std::move(key), {}, std::move(value), lease};
  }
  static TxnOp Delete(std::string key) { return {Type::kDelete, std::move(key), {}, {}, 0}; }
  static TxnOp DeletePrefix(std::string prefix);
  static TxnOp Get(std::string key) { return {Type::kGet, std::move(key), {}, {}, 0}; }
  static TxnOp GetPrefix(std::string prefix);
};

struct TxnOpResult {
  std::vector<KeyValue> kvs;  // kGet
  int64_t deleted = 0;        // kDelete
};

struct TxnResult {
  bool succeeded = false;              // true: the compares held and `success` ran
  int64_t revision = 0;                // store revision after the transaction
  std::vector<TxnOpResult> responses;  // one per op of the branch that ran
};

// The range_end that selects every key starting with `prefix` ("\0" for "").
std::string PrefixRangeEnd(const std::string& prefix);

struct EtcdClientOptions {
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{5000};
};

class EtcdClient {
 public:
  // `endpoints`: "http://127.0.0.1:2379,http://10.0.0.2:2379" (a scheme is
  // optional; only http is supported). Create() rejects an empty or malformed
  // list with InvalidArgument.
  static Result<std::unique_ptr<EtcdClient>> Create(const std::string& endpoints,
                                                    EtcdClientOptions options = {});

  // Reads. `revision` 0 reads the latest; a positive one reads the store as of
  // that revision (FailedPrecondition if it was compacted).
  Result<GetResult> Get(const std::string& key, int64_t revision = 0);
  Result<RangeResult> GetPrefix(const std::string& prefix, int64_t revision = 0);
  // Keys in [key, range_end).
  Result<RangeResult> GetRange(const std::string& key, const std::string& range_end,
                               int64_t revision = 0);

  // Writes return the store revision they created.
  Result<int64_t> Put(const std::string& key, const std::string& value, int64_t lease = 0);
  Result<DeleteResult> Delete(const std::string& key);
  Result<DeleteResult> DeletePrefix(const std::string& prefix);

  // All compares hold → `success` runs, else `failure`. A failed compare is
  // not an error: the result has succeeded == false.
  Result<TxnResult> Txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                        const std::vector<TxnOp>& failure = {});

  // Leases. GrantLease returns the lease id; KeepAliveOnce the TTL it was
  // renewed to, or NotFound if the lease expired or never existed.
  Result<int64_t> GrantLease(int64_t ttl_seconds);
  Result<int64_t> KeepAliveOnce(int64_t lease_id);
  Status RevokeLease(int64_t lease_id);

  // Compacts the store up to `revision` (events before it are discarded).
  Status Compact(int64_t revision);

  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // The index of the endpoint that answered last (where requests go first).
  size_t preferred_endpoint() const { return preferred_.load(); }
  void set_preferred_endpoint(size_t i) { preferred_.store(i % endpoints_.size()); }
  const EtcdClientOptions& options() const { return options_; }

  // kIdempotent calls (reads, keepalive, revoke) fail over on any transport
  // error or gRPC Unavailable. kMutation calls (put, delete, txn, grant) fail
  // over only when the request surely did not reach etcd (connect failed, or
  // "no leader"); otherwise they return Unavailable saying the outcome is
  // unknown, and the caller decides (e.g. re-reads before retrying a CAS).
  enum class CallKind { kIdempotent, kMutation };
  // POSTs `body` (JSON) to `path` on the endpoints in failover order and
  // returns the JSON text of the first answer. Public for Watcher and tests;
  // callers normally use the typed methods.
  Result<std::string> Call(const std::string& path, const std::string& body,
                           CallKind kind = CallKind::kIdempotent);

  // A human-readable list of the endpoints, for messages.
  std::string EndpointList() const;

 private:
  EtcdClient(std::vector<std::string> endpoints, EtcdClientOptions options)
      : endpoints_(std::move(endpoints)), options_(options) {}

  std::vector<std::string> endpoints_;
  EtcdClientOptions options_;
  std::atomic<size_t> preferred_{0};
};

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // for kDelete: the key and mod_revision (the deletion's revision)
};

// What a Watcher hands its callback. Either a batch of events (all of one or
// more revisions, in revision order), or — when the watched history was
// compacted away — a resync: `snapshot` is the full current state of the
// watched range at `revision`, and events continue after it.
struct WatchUpdate {
  bool resync = false;
  int64_t revision = 0;  // highest revision this update covers
  std::vector<WatchEvent> events;
  std::vector<KeyValue> snapshot;  // resync only
};

struct WatchOptions {
  std::string key;
  bool prefix = false;         // watch every key starting with `key`
  int64_t start_revision = 0;  // 0: from now on
  // A stream that delivers nothing for this long is reopened (it resumes from
  // the last revision seen, so nothing is lost or repeated).
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds retry_delay{100};
};

// Watches a key or prefix from a background thread and calls `callback` on
// that thread with updates in revision order, each revision exactly once.
// After a disconnect it reopens the watch (on the next endpoint if the
// current one is unreachable) from last_revision + 1. The callback must not
// destroy or Stop() its own Watcher.
class Watcher {
 public:
  using Callback = std::function<void(const WatchUpdate&)>;
  Watcher(EtcdClient* client, WatchOptions options, Callback callback);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void Stop();  // idempotent; waits for the thread
  // The revision events are delivered up to (0 before the first).
  int64_t last_revision() const { return last_revision_.load(); }
  // How many times a stream was (re)opened; for tests and metrics.
  int64_t streams_opened() const { return streams_opened_.load(); }

 private:
  void Run();
  // Opens one stream on `endpoint`; returns when it ends. Sets *connected if
  // the endpoint answered, *compacted if etcd said the start was compacted.
  void RunStream(const std::string& endpoint, bool* connected, bool* compacted);
  bool Resync();

  EtcdClient* client_;
  WatchOptions options_;
  std::string range_end_;
  Callback callback_;
  int64_t next_revision_;  // thread-only
  std::atomic<int64_t> last_revision_{0};
  std::atomic<int64_t> streams_opened_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  httplib::Client* active_ = nullptr;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tessera::cluster
