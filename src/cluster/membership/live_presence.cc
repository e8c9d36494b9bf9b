#include "cluster/membership/live_presence.h"

#include <algorithm>

#include "cluster/membership/registry.h"
#include "common/thread_name.h"

namespace tessera::cluster {

Result<std::unique_ptr<LivePresence>> LivePresence::Start(EtcdClient* client,
                                                          const std::string& cluster,
                                                          uint32_t array_id, int64_t ttl_seconds,
                                                          LostCallback on_lost) {
  if (ttl_seconds < 2) return Status::InvalidArgument("LivePresence needs a TTL of 2 s or more");
  if (array_id == 0) return Status::InvalidArgument("LivePresence needs an array id");
  std::string endpoints;
  for (const std::string& e : client->endpoints()) {
    endpoints += (endpoints.empty() ? "" : ",") + e;
  }
  const std::chrono::milliseconds sixth(ttl_seconds * 1000 / 6);
  EtcdClientOptions options;
  options.connect_timeout = sixth;
  options.request_timeout = sixth;
  ASSIGN_OR_RETURN(std::unique_ptr<EtcdClient> refresher, EtcdClient::Create(endpoints, options));
  // The lease's TTL starts no earlier than this: a safe origin for the
  // session's validity.
  const auto before_grant = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(int64_t lease, client->GrantLease(ttl_seconds));
  const std::string key = ClusterPrefix(cluster) + "live/" + std::to_string(array_id);
  Result<int64_t> put = client->Put(key, std::to_string(array_id), lease);
  if (!put.ok()) {
    (void)client->RevokeLease(lease);
    return put.status().WithContext("writing " + key);
  }
  return std::unique_ptr<LivePresence>(new LivePresence(
      client, std::move(refresher), lease, ttl_seconds, before_grant, std::move(on_lost)));
}

LivePresence::LivePresence(EtcdClient* client, std::unique_ptr<EtcdClient> refresher,
                           int64_t lease_id, int64_t ttl_seconds,
                           std::chrono::steady_clock::time_point granted_after,
                           LostCallback on_lost)
    : client_(client),
      refresher_(std::move(refresher)),
      lease_id_(lease_id),
      ttl_seconds_(ttl_seconds),
      on_lost_(std::move(on_lost)),
      granted_after_(granted_after) {
  ExtendValidity(granted_after);
  thread_ = std::thread([this] {
    SetThreadName("presence");
    Run();
  });
}

void LivePresence::ExtendValidity(std::chrono::steady_clock::time_point sent) {
  auto until = sent + std::chrono::milliseconds(ttl_seconds_ * 1000 / 2);
  valid_until_ns_.store(until.time_since_epoch().count());
}

bool LivePresence::lost() const {
  // Also by the clock: a process stalled past the deadline (SIGSTOP, a VM
  // pause) must not serve a write before this thread wakes to notice.
  return lost_.load() ||
         std::chrono::steady_clock::now().time_since_epoch().count() >= valid_until_ns_.load();
}

LivePresence::~LivePresence() { Stop(); }

void LivePresence::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status LivePresence::Leave() {
  Stop();
  return client_->RevokeLease(lease_id_);
}

void LivePresence::Run() {
  using Clock = std::chrono::steady_clock;
  const std::chrono::milliseconds ttl(ttl_seconds_ * 1000);
  const auto interval = ttl / 3;
  const auto deadline_after = ttl / 2;
  const auto retry = std::chrono::milliseconds(50);
  // The lease was granted (and its TTL started) no earlier than this.
  auto last_ok_sent = granted_after_;
  auto next = last_ok_sent + interval;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto wake = std::min(next, last_ok_sent + deadline_after);
      if (cv_.wait_until(lock, wake, [this] { return stopping_; })) return;
    }
    Status failure;
    const auto now = Clock::now();
    if (now >= last_ok_sent + deadline_after) {
      failure = Status::Unavailable("no lease refresh succeeded for " +
                                    std::to_string(deadline_after.count()) + " ms");
    } else {
      Result<int64_t> r = refresher_->KeepAliveOnce(lease_id_);
      if (r.ok()) {
        last_ok_sent = now;
        ExtendValidity(now);
        next = now + interval;
        continue;
      }
      if (r.status().code() != StatusCode::kNotFound &&
          Clock::now() < last_ok_sent + deadline_after) {
        next = Clock::now() + retry;
        continue;
      }
      failure = r.status();
    }
    lost_.store(true);
    if (on_lost_) {
      on_lost_(failure.WithContext("etcd session (lease " + std::to_string(lease_id_) + ") lost"));
    }
    return;
  }
}

}  // namespace tessera::cluster
