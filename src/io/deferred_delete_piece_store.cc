#include "io/deferred_delete_piece_store.h"

#include <spdlog/spdlog.h>

#include "common/thread_name.h"

namespace tessera::io {

DeferredDeletePieceStore::DeferredDeletePieceStore(PieceStore* target,
                                                   std::chrono::milliseconds grace)
    : target_(target), grace_(grace) {
  if (grace_ > std::chrono::milliseconds::zero()) deleter_ = std::thread([this] { Run(); });
}

DeferredDeletePieceStore::~DeferredDeletePieceStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    drain_until_ = std::chrono::steady_clock::now() + kDrainTime;
  }
  wake_.notify_all();
  if (deleter_.joinable()) deleter_.join();
}

Status DeferredDeletePieceStore::Delete(const meta::DriveRef& drive, const store::PieceId& id) {
  if (grace_ <= std::chrono::milliseconds::zero()) return target_->Delete(drive, id);
  {
    std::lock_guard lock(mu_);
    queue_.push_back({std::chrono::steady_clock::now() + grace_, drive, id});
  }
  wake_.notify_one();
  return Status::Ok();
}

size_t DeferredDeletePieceStore::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void DeferredDeletePieceStore::Run() {
  SetThreadName("piece-deleter");
  std::unique_lock lock(mu_);
  while (true) {
    if (queue_.empty()) {
      if (stopping_) return;
      wake_.wait(lock);
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!stopping_ && now < queue_.front().due) {
      wake_.wait_until(lock, queue_.front().due);
      continue;
    }
    if (stopping_ && now >= drain_until_) {
      spdlog::warn("stopping with {} piece(s) not yet deleted: they stay on the drives",
                   queue_.size());
      queue_.clear();
      return;
    }
    Queued next = queue_.front();
    queue_.pop_front();
    lock.unlock();
    (void)target_->Delete(next.drive, next.id);  // missing pieces are not errors
    lock.lock();
  }
}

}  // namespace tessera::io
