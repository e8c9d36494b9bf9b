// The task queue of an httplib::Server: httplib's fixed thread pool, with
// every worker named "http" (common/thread_name.h) before the pool is handed
// out, so the threads that serve connections can be told apart from the rest
// in top -H and in profiles.
//
// Owned by the server that new_task_queue hands it to. Thread-safe as
// httplib::ThreadPool is.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <functional>

namespace tessera {

class HttpWorkerPool final : public httplib::TaskQueue {
 public:
  explicit HttpWorkerPool(size_t threads);

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  httplib::ThreadPool pool_;
};

}  // namespace tessera
