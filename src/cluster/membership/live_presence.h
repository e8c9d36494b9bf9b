// LivePresence: a node's liveness key, live/<array-id>, kept under a lease.
//
// Start() grants a lease of `ttl_seconds`, puts live/<array-id> (value: the
// array id) under it and refreshes the lease from a background thread every
// TTL/3. The session counts as lost — and `on_lost` is called once, from
// that thread, after which nothing is refreshed — when
//
//   * etcd says the lease is gone (it expired or was revoked), or
//   * no refresh succeeded for TTL/2, counted from when the last successful
//     refresh was *sent*.
//
// etcd restarts the lease's TTL no earlier than it receives a refresh, so a
// lease expires elsewhere no earlier than last-send + TTL; declaring loss at
// last-send + TTL/2 tells the node at least TTL/2 before any other node can
// see it down (less the scheduling delay of this thread). A node must stop
// serving writes when on_lost runs. Refreshes use a private EtcdClient whose
// connect and request timeouts are TTL/6, so a hung etcd cannot hold a
// refresh past the deadline.
//
// Threading: the object is thread-safe; `on_lost` runs on the refresh thread
// and must not destroy the LivePresence. The borrowed EtcdClient (used by
// Start and Leave) must outlive the object.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/etcd/etcd_client.h"
#include "common/status.h"

namespace tessera::cluster {

class LivePresence {
 public:
  using LostCallback = std::function<void(const Status&)>;

  // InvalidArgument for ttl_seconds < 2 or array_id 0; Unavailable when etcd
  // cannot grant the lease or write the key.
  static Result<std::unique_ptr<LivePresence>> Start(EtcdClient* client, const std::string& cluster,
                                                     uint32_t array_id, int64_t ttl_seconds,
                                                     LostCallback on_lost = {});
  ~LivePresence();  // Stop(); the lease is left to expire
  LivePresence(const LivePresence&) = delete;
  LivePresence& operator=(const LivePresence&) = delete;

  // Stops refreshing (idempotent; not from on_lost). The key disappears
  // when the lease expires, as if the node had hung.
  void Stop();
  // Stops refreshing and revokes the lease: the key disappears at once.
  Status Leave();

  // True once the session is lost, and also as soon as TTL/2 has passed
  // since the last successful refresh was sent, even before the refresh
  // thread has run to notice.
  bool lost() const;
  int64_t lease_id() const { return lease_id_; }
  int64_t ttl_seconds() const { return ttl_seconds_; }

 private:
  LivePresence(EtcdClient* client, std::unique_ptr<EtcdClient> refresher, int64_t lease_id,
               int64_t ttl_seconds, std::chrono::steady_clock::time_point granted_after,
               LostCallback on_lost);
  void Run();
  void ExtendValidity(std::chrono::steady_clock::time_point sent);

  EtcdClient* client_;
  std::unique_ptr<EtcdClient> refresher_;
  int64_t lease_id_;
  int64_t ttl_seconds_;
  LostCallback on_lost_;
  std::atomic<bool> lost_{false};
  std::chrono::steady_clock::time_point granted_after_;
  std::atomic<int64_t> valid_until_ns_{0};  // steady clock; see lost()
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tessera::cluster
