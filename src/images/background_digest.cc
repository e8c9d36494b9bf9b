#include "images/background_digest.h"

#include "common/thread_name.h"

namespace tessera::images {

BackgroundDigest::BackgroundDigest(size_t depth)
    : depth_(depth == 0 ? 1 : depth), thread_([this] {
        SetThreadName("image-digest");
        Run();
      }) {}

BackgroundDigest::~BackgroundDigest() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundDigest::Add(std::shared_ptr<const std::string> block) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return queue_.size() < depth_; });
  queue_.push_back(std::move(block));
  changed_.notify_all();
}

void BackgroundDigest::Finish(std::string* md5_hex, std::string* sha512_hex) {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
  thread_.join();
  digest_.Finish(md5_hex, sha512_hex);
}

void BackgroundDigest::Run() {
  while (true) {
    std::shared_ptr<const std::string> block;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) return;  // closed and drained
      block = std::move(queue_.front());
      queue_.pop_front();
    }
    changed_.notify_all();
    digest_.Update(block->data(), block->size());
  }
}

}  // namespace tessera::images
