// BackgroundDigest: an ImageDigest computed on its own thread, so that
// hashing an upload overlaps with sending it to the cluster instead of
// adding to it (md5 + sha512 cost about as much CPU as the node's write).
//
// The owner hands over immutable blocks in order; Add blocks while `depth`
// blocks are already waiting, which bounds memory. Finish waits for the
// thread and returns the digests. One producer thread; not otherwise
// thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "images/image_digest.h"

namespace tessera::images {

class BackgroundDigest {
 public:
  explicit BackgroundDigest(size_t depth = 4);
  ~BackgroundDigest();  // stops the thread; the digests are then lost
  BackgroundDigest(const BackgroundDigest&) = delete;
  BackgroundDigest& operator=(const BackgroundDigest&) = delete;

  void Add(std::shared_ptr<const std::string> block);
  // Lowercase hex; call once, after the last Add.
  void Finish(std::string* md5_hex, std::string* sha512_hex);

 private:
  void Run();

  const size_t depth_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<const std::string>> queue_;  // guarded by mu_
  bool closed_ = false;                                   // guarded by mu_
  ImageDigest digest_;                                    // used by the thread only until it ends
  std::thread thread_;
};

}  // namespace tessera::images
