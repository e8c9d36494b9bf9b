// MasterElector: one node's part in electing the cluster master.
//
// The master is the live, quorate group member with the highest priority
// (ties: lowest array id; ChooseMaster in master.h), among members that are
// not soft-failed. Each round (on any change under the cluster prefix, and at
// least every `poll`) the elector reads the master key:
//
//   * no master, and this node is the one ChooseMaster picks from the live
//     members of its group: it creates the master key under its own live
//     lease (a transaction that requires the key to be absent, so of any
//     racers exactly one wins). The key's create_revision is its fencing
//     token. It then raises its own priority above every other node's and
//     publishes it, in a transaction fenced by that token, so that a node
//     that comes back later does not look like a better master;
//   * the key names this node under its current lease: it is master;
//   * the key names this node under another lease: a previous life of this
//     node holds it (a restart before the old lease expired); it is deleted
//     (fenced by its token) so an election can run at once;
//   * the key names another node: it is a slave.
//
// A node that is not quorate (Inputs::quorate false, e.g. its etcd session
// is lost or its group has no quorum) is never master: it stops being
// master at the start of the round, before any etcd call, and then deletes
// its key if it still can. Because the key lives
// under the master's lease, a master that dies loses it when the lease
// expires, and the next round elects another.
//
// `on_change(is_master, token)` runs on the elector's thread on every
// transition (become master: true and the token; lose it: false and the old
// token), after is_master() reports the new state. It must not block for
// long: the elector runs no rounds meanwhile (run hooks elsewhere).
//
// Threading: thread-safe accessors; the EtcdClient must outlive the elector;
// `inputs` and `on_change` run on the elector's thread and must not call Stop().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "cluster/etcd/etcd_client.h"
#include "cluster/membership/watched_loop.h"
#include "common/status.h"

namespace tessera::cluster {

class MasterElector {
 public:
  struct Inputs {
    bool quorate = false;
    int64_t lease_id = 0;           // this node's live lease (0: none)
    std::set<uint32_t> members;     // of the group this node is in
    std::set<uint32_t> ineligible;  // members that may not be master (soft-failed)
  };
  using InputsFn = std::function<Inputs()>;
  using ChangeFn = std::function<void(bool is_master, int64_t token)>;

  MasterElector(EtcdClient* client, std::string cluster, uint32_t self, InputsFn inputs,
                ChangeFn on_change,
                std::chrono::milliseconds poll = std::chrono::milliseconds(250));
  ~MasterElector();  // Stop(); a held master key is left to its lease
  MasterElector(const MasterElector&) = delete;
  MasterElector& operator=(const MasterElector&) = delete;

  void Stop();  // idempotent
  void Poke();  // run a round soon (e.g. after the inputs changed)

  bool is_master() const { return is_master_.load(); }
  int64_t token() const { return token_.load(); }  // of this node's tenure; 0 if not master
  // The master the last round saw (0: none or unknown).
  uint32_t known_master() const { return known_master_.load(); }

  // One round; exposed for tests. Errors are etcd trouble (retried by the loop).
  Status RunRound();

 private:
  void Transition(bool is_master, int64_t token);
  Status TakeOver(const Inputs& inputs);

  EtcdClient* client_;
  std::string cluster_;
  uint32_t self_;
  InputsFn inputs_;
  ChangeFn on_change_;
  std::atomic<bool> is_master_{false};
  std::atomic<int64_t> token_{0};
  std::atomic<uint32_t> known_master_{0};
  std::unique_ptr<WatchedLoop> loop_;  // last: it calls RunRound on its thread
};

}  // namespace tessera::cluster
