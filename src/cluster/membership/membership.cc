#include "cluster/membership/membership.h"

namespace tessera::cluster {

Result<std::unique_ptr<Membership>> Membership::Start(EtcdClient* client,
                                                      const std::string& cluster, uint32_t self,
                                                      MembershipOptions options,
                                                      GroupWatcher::Sink log_sink,
                                                      LivePresence::LostCallback on_lost) {
  std::unique_ptr<Membership> m(new Membership(self));
  ASSIGN_OR_RETURN(m->watcher_, GroupWatcher::Start(client, cluster, self, std::move(log_sink)));
  ASSIGN_OR_RETURN(m->presence_, LivePresence::Start(client, cluster, self, options.ttl_seconds,
                                                     std::move(on_lost)));
  m->proposer_ = std::make_unique<GroupProposer>(client, cluster, self, options.proposer_poll);
  return m;
}

Membership::~Membership() {
  if (proposer_) proposer_->Stop();
  if (presence_) presence_->Stop();
  if (watcher_) watcher_->Stop();
}

MembershipView Membership::View() const {
  MembershipView view;
  view.session_lost = presence_->lost();
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
