#include "common/parallel.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/thread_name.h"

namespace tessera {
namespace {

constexpr auto kIdleExit = std::chrono::seconds(30);

class ThreadSet {
 public:
  // Throws std::system_error, having queued nothing, if a thread is needed
  // and cannot be started.
  void Run(std::function<void()> task) {
    std::lock_guard lock(mu_);
    // Every queued task needs a thread of its own waiting for it, or a task
    // could sit behind one that blocks on it.
    if (queue_.size() + 1 > waiting_) {
      std::thread([this] {
        SetThreadName("fanout");
        Work();
      }).detach();
      ++started_;
    }
    queue_.push_back(std::move(task));
    cv_.notify_one();
  }

  uint64_t started() {
    std::lock_guard lock(mu_);
    return started_;
  }

 private:
  void Work() {
    std::unique_lock lock(mu_);
    while (true) {
      if (!queue_.empty()) {
        std::function<void()> task = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        task();
        // What the task captured goes before the lock is taken again: a
        // destructor may be slow, or fan out itself.
        task = nullptr;
        lock.lock();
        continue;
      }
      ++waiting_;
      bool woken = cv_.wait_for(lock, kIdleExit, [this] { return !queue_.empty(); });
      --waiting_;
      if (!woken) return;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t waiting_ = 0;
  uint64_t started_ = 0;
};

// Never destroyed: its threads may outlive every other static.
ThreadSet& Threads() {
  static ThreadSet* threads = new ThreadSet();
  return *threads;
}

// A call that throws is an error like any other: it must neither end the
// process on a pooled thread nor leave RunInParallel before the others finish.
Status Guarded(const std::function<Status()>& call) {
  try {
    return call();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("uncaught exception: ") + e.what());
  } catch (...) {
    return Status::Internal("uncaught exception");
  }
}

}  // namespace

Status RunInParallel(std::vector<std::function<Status()>> calls) {
  if (calls.empty()) return Status::Ok();
  struct Shared {
    std::mutex mu;
    std::condition_variable done;
    size_t left = 0;
    std::vector<Status> results;
  };
  auto shared = std::make_shared<Shared>();
  shared->left = calls.size() - 1;
  shared->results.resize(calls.size());
  // Calls capture the caller's stack, so every started call is waited for,
  // whatever happens here.
  for (size_t i = 0; i + 1 < calls.size(); ++i) {
    auto task = [shared, i, call = std::move(calls[i])]() mutable {
      Status status = Guarded(call);
      call = nullptr;
      std::lock_guard lock(shared->mu);
      shared->results[i] = std::move(status);
      if (--shared->left == 0) shared->done.notify_all();
    };
    try {
      Threads().Run(std::move(task));
    } catch (const std::exception& e) {  // no thread could be started
      std::lock_guard lock(shared->mu);
      shared->results[i] = Status::Internal(std::string("cannot start a thread: ") + e.what());
      --shared->left;
    }
  }
  Status last = Guarded(calls.back());
  std::unique_lock lock(shared->mu);
  shared->done.wait(lock, [&] { return shared->left == 0; });
  shared->results.back() = std::move(last);
  for (Status& status : shared->results) {
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

uint64_t ParallelThreadsStarted() { return Threads().started(); }

}  // namespace tessera
