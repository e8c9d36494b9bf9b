#include "common/http_worker_pool.h"

#include <latch>
#include <memory>
#include <utility>

#include "common/thread_name.h"

namespace tessera {

HttpWorkerPool::HttpWorkerPool(size_t threads) : pool_(threads) {
  // One naming task per worker, each held until all have started: so every
  // worker takes exactly one, idle ones included. Shared, because a worker
  // may still be returning from the latch after this constructor has.
  auto started = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads));
  for (size_t i = 0; i < threads; ++i) {
    pool_.enqueue([started] {
      SetThreadName("http");
      started->arrive_and_wait();
    });
  }
  started->wait();
}

void HttpWorkerPool::enqueue(std::function<void()> fn) { pool_.enqueue(std::move(fn)); }

void HttpWorkerPool::shutdown() { pool_.shutdown(); }

}  // namespace tessera
