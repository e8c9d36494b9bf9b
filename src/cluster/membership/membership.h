// Membership: one node's whole view of cluster membership.
//
// Start() runs, for node `self` (registered with RegisterNode):
//   * a GroupWatcher that logs every group (group_proposer.h) to `log_sink`,
//   * a LivePresence keeping live/<self> under a lease of ttl_seconds
//     (live_presence.h; `on_lost` is called when the etcd session is lost).
//     After a loss it keeps trying, every `rejoin_interval`, to start a new
//     session (a new lease), so a node comes back by itself once etcd does,
//   * a GroupProposer, which writes groups while `self` is the lowest live node.
//
// InQuorateGroup() is what a node asks before serving writes: true only when
// its etcd session is not lost, it has seen a group, it is a member of that
// group, and the group has write quorum by EvaluateGroupQuorum (quorum.h:
// a majority of the nodes the group names are writable at
// AccessLevel::kNormal). The session check comes first, so a node that lost
// its session answers false before its lease could expire elsewhere.
//
// Threading: thread-safe; `log_sink` runs on the watcher thread and
// `on_lost` on the presence thread, neither may destroy the Membership.
// The EtcdClient must outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cluster/etcd/etcd_client.h"
#include "cluster/membership/group_proposer.h"
#include "cluster/membership/live_presence.h"
#include "cluster/quorum.h"
#include "common/status.h"

namespace tessera::cluster {

struct MembershipOptions {
  int64_t ttl_seconds = 10;
  std::chrono::milliseconds proposer_poll{500};
  std::chrono::milliseconds rejoin_interval{500};
};

struct MembershipView {
  bool session_lost = false;
  int64_t lease_id = 0;              // of the current session; 0 while lost
  std::optional<GroupRecord> group;  // the last group seen
  bool member = false;               // self is a member of `group`
  QuorumStatus quorum;               // of `group`; zero when there is none
  bool quorate = false;              // what InQuorateGroup() says
  std::string reason;                // why not quorate, or the quorum reason
};

class Membership {
 public:
  static Result<std::unique_ptr<Membership>> Start(EtcdClient* client, const std::string& cluster,
                                                   uint32_t self, MembershipOptions options,
                                                   GroupWatcher::Sink log_sink,
                                                   LivePresence::LostCallback on_lost = {});
  ~Membership();  // stops everything; the lease is left to expire
  // Stops refreshing and revokes the lease, so the others see this node
  // leave at once (a clean shutdown). Best effort.
  void Leave();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  MembershipView View() const;
  bool InQuorateGroup() const { return View().quorate; }
  uint32_t self() const { return self_; }

 private:
  Membership(EtcdClient* client, std::string cluster, uint32_t self, MembershipOptions options,
             LivePresence::LostCallback on_lost);
  void RejoinLoop();

  EtcdClient* client_;
  std::string cluster_;
  uint32_t self_;
  MembershipOptions options_;
  LivePresence::LostCallback on_lost_;
  std::unique_ptr<GroupWatcher> watcher_;
  std::unique_ptr<GroupProposer> proposer_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                   // guarded by mu_
  std::shared_ptr<LivePresence> presence_;  // guarded by mu_; replaced on rejoin
  std::thread rejoiner_;
};

}  // namespace tessera::cluster
