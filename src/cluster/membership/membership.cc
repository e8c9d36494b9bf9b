#include "cluster/membership/membership.h"

#include <spdlog/spdlog.h>

#include "common/thread_name.h"

namespace tessera::cluster {

Membership::Membership(EtcdClient* client, std::string cluster, uint32_t self,
                       MembershipOptions options, LivePresence::LostCallback on_lost)
    : client_(client),
      cluster_(std::move(cluster)),
      self_(self),
      options_(options),
      on_lost_(std::move(on_lost)) {}

Result<std::unique_ptr<Membership>> Membership::Start(EtcdClient* client,
                                                      const std::string& cluster, uint32_t self,
                                                      MembershipOptions options,
                                                      GroupWatcher::Sink log_sink,
                                                      LivePresence::LostCallback on_lost) {
  std::unique_ptr<Membership> m(new Membership(client, cluster, self, options, std::move(on_lost)));
  ASSIGN_OR_RETURN(m->watcher_, GroupWatcher::Start(client, cluster, self, std::move(log_sink)));
  ASSIGN_OR_RETURN(std::unique_ptr<LivePresence> presence,
                   LivePresence::Start(client, cluster, self, options.ttl_seconds, m->on_lost_));
  m->presence_ = std::move(presence);
  m->proposer_ = std::make_unique<GroupProposer>(client, cluster, self, options.proposer_poll);
  m->rejoiner_ = std::thread([raw = m.get()] {
    SetThreadName("rejoin");
    raw->RejoinLoop();
  });
  return m;
}

Membership::~Membership() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (rejoiner_.joinable()) rejoiner_.join();
  if (proposer_) proposer_->Stop();
  if (presence_) presence_->Stop();
  if (watcher_) watcher_->Stop();
}

void Membership::Leave() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // After the rejoiner: it may be installing a fresh session right now.
  if (rejoiner_.joinable()) rejoiner_.join();
  std::shared_ptr<LivePresence> presence;
  {
    std::lock_guard<std::mutex> lock(mu_);
    presence = presence_;
  }
  if (proposer_) proposer_->Stop();
  if (presence) {
    Status s = presence->Leave();
    if (!s.ok()) spdlog::warn("leaving the cluster: {}", s.ToString());
  }
}

void Membership::RejoinLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.rejoin_interval);
    if (stopping_ || !presence_->lost()) continue;
    lock.unlock();
    // A fresh lease and live key: the old lease is gone or about to expire.
    Result<std::unique_ptr<LivePresence>> fresh =
        LivePresence::Start(client_, cluster_, self_, options_.ttl_seconds, on_lost_);
    lock.lock();
    if (fresh.ok()) {
      spdlog::info("node {}: etcd session restored (lease {:x})", self_, (*fresh)->lease_id());
      presence_ = std::move(fresh).value();
    }
  }
}

MembershipView Membership::View() const {
  MembershipView view;
  {
    std::lock_guard<std::mutex> lock(mu_);
    view.session_lost = presence_->lost();
    view.lease_id = view.session_lost ? 0 : presence_->lease_id();
  }
  view.group = watcher_->current();
  if (view.group) {
    view.member = view.group->group.members.count(self_) > 0;
    Result<QuorumStatus> q = EvaluateGroupQuorum(view.group->group);
    if (q.ok()) view.quorum = *q;
    view.reason = q.ok() ? q->reason : q.status().ToString();
  }
  if (view.session_lost) {
    view.reason = "etcd session lost";
  } else if (!view.group) {
    view.reason = "no group seen yet";
  } else if (!view.member) {
    view.reason = "not a member of group epoch " + std::to_string(view.group->epoch);
  } else {
    view.quorate = view.quorum.has_write_quorum;
  }
  return view;
}

}  // namespace tessera::cluster
