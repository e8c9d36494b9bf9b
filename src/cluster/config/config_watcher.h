// ConfigWatcher: keeps a running node's live settings in step with etcd.
//
// Protocol (docs/config.md). Operators write any number of settings, then bump
// the single `update` key (ConfigStore::Apply, `tessera config apply`). Each
// node watches only that key, so it never sees a half-written change. On every
// bump the watcher re-reads all settings for its array id (host overrides and
// references resolved, ConfigStore::Load) and compares each with the value the
// node is running with:
//   live       -> passed to the apply callback; on OK it becomes the running
//                 value and is listed in "applied", else in "errors"
//   restart    -> listed in "pending_restart" (every update, until restart)
//   immutable  -> listed in "ignored_immutable"; never fatal, never applied
// A setting that fails to resolve or parse is listed in "errors" and keeps its
// running value. The watcher then writes feedback/<array-id>:
//   {"array_id": "3", "update_revision": 42, "applied": ["max_file_size"],
//    "pending_restart": [], "ignored_immutable": [], "errors": []}
// where update_revision is the mod revision of the update key it acted on.
//
// Losing etcd is not fatal: the Watcher reconnects and resumes after the last
// revision it delivered, and a re-read or feedback write that fails is retried
// every retry_delay until it succeeds or the watcher stops. Updates that
// arrive while one is being handled are coalesced into one re-read.
//
// Threading: Create() reads the initial settings on the caller's thread.
// After that the watcher owns two threads: the etcd Watcher's, which only
// records that an update arrived, and a worker that re-reads, calls
// `apply` (one call at a time, never concurrently) and writes feedback.
// running() and last_feedback() may be called from any thread. Stop() and the
// destructor wait for both threads; they must not be called from `apply`.
// The EtcdClient must outlive the watcher.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/config/config_store.h"
#include "cluster/etcd/etcd_client.h"

namespace tessera::cluster::config {

struct ConfigWatcherOptions {
  std::chrono::milliseconds retry_delay{200};
  // Passed to the etcd Watcher (see WatchOptions).
  std::chrono::milliseconds watch_idle_timeout{60000};
};

class ConfigWatcher {
 public:
  // Applies one live setting. Returning an error leaves the running value as
  // it was and reports the error in the feedback.
  using ApplyFn = std::function<Status(const std::string& name, const SettingValue& value)>;

  // Reads the settings of node `array_id` under `root`; they become the
  // running values (the role should configure itself from initial()). A live
  // setting that does not resolve or parse runs with its default (logged; the
  // first update lists it in "errors"). Fails if etcd cannot be read or any
  // other setting does not resolve, naming the setting.
  // Then watches the update key from the revision after that read, so no
  // update is missed.
  static Result<std::unique_ptr<ConfigWatcher>> Create(EtcdClient* client, std::string root,
                                                       std::string array_id, ApplyFn apply,
                                                       ConfigWatcherOptions options = {});
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  void Stop();  // idempotent

  // The settings read by Create().
  const ConfigSnapshot& initial() const { return initial_; }
  // The values the node runs with now: initial() plus every live change applied.
  std::map<std::string, SettingValue> running() const;
  // The last feedback written, as JSON text ("" before the first).
  std::string last_feedback() const;
  // How many updates were handled (feedback written).
  int64_t updates_handled() const;

 private:
  ConfigWatcher(EtcdClient* client, std::string root, std::string array_id, ApplyFn apply,
                ConfigWatcherOptions options, ConfigSnapshot initial);
  void OnWatch(const WatchUpdate& update);
  void Work();
  // One re-read + apply + feedback; an error means retry later.
  Status HandleUpdate();

  ConfigStore store_;
  std::string array_id_;
  ApplyFn apply_;
  ConfigWatcherOptions options_;
  ConfigSnapshot initial_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                        // guarded by mu_
  int64_t pending_revision_ = 0;                 // newest update seen; guarded by mu_
  int64_t handled_revision_ = 0;                 // guarded by mu_
  int64_t updates_handled_ = 0;                  // guarded by mu_
  std::map<std::string, SettingValue> running_;  // guarded by mu_
  std::string last_feedback_;                    // guarded by mu_
  std::vector<std::string> unreported_applied_;  // worker thread only
  std::unique_ptr<Watcher> watcher_;
  std::thread worker_;
};

}  // namespace tessera::cluster::config
