#include "cluster/membership/watched_loop.h"

#include "common/thread_name.h"

namespace tessera::cluster {

WatchedLoop::WatchedLoop(EtcdClient* client, std::string prefix, std::chrono::milliseconds poll,
                         std::function<bool()> round)
    : poll_(poll), round_(std::move(round)) {
  WatchOptions options;
  options.key = std::move(prefix);
  options.prefix = true;
  watcher_ = std::make_unique<Watcher>(client, options, [this](const WatchUpdate&) { Poke(); });
  thread_ = std::thread([this] {
    SetThreadName("group-loop");
    Run();
  });
}

WatchedLoop::~WatchedLoop() { Stop(); }

void WatchedLoop::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void WatchedLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (watcher_) watcher_->Stop();
}

void WatchedLoop::Run() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, poll_, [this] { return stopping_ || dirty_; });
      if (stopping_) return;
      dirty_ = false;
    }
    if (round_()) Poke();
  }
}

}  // namespace tessera::cluster
