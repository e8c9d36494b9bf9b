// WatchedLoop: runs a round of work whenever anything under an etcd prefix
// changes, and at least every `poll` (so a missed or failed round is retried).
//
// `round` runs on the loop's own thread, one call at a time; returning true
// asks for another round at once (e.g. after losing a compare-and-swap).
// Changes that arrive during a round are coalesced into one more round.
//
// Threading: Poke() and Stop() may be called from any thread except the
// round itself (Stop waits for it). The EtcdClient must outlive the loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/etcd/etcd_client.h"

namespace tessera::cluster {

class WatchedLoop {
 public:
  WatchedLoop(EtcdClient* client, std::string prefix, std::chrono::milliseconds poll,
              std::function<bool()> round);
  ~WatchedLoop();
  WatchedLoop(const WatchedLoop&) = delete;
  WatchedLoop& operator=(const WatchedLoop&) = delete;

  void Poke();  // run a round soon
  void Stop();  // idempotent

 private:
  void Run();

  std::chrono::milliseconds poll_;
  std::function<bool()> round_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool dirty_ = true;      // guarded by mu_
  std::unique_ptr<Watcher> watcher_;
  std::thread thread_;
};

}  // namespace tessera::cluster
