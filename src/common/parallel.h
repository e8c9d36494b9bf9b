// RunInParallel: fans blocking calls (RPCs to several peers, syncs of several
// nodes) out over threads and waits for all of them.
//
// The last call runs on the calling thread, the others on a process-wide set
// of reusable threads: a write path that fans out on every request must not
// pay for starting threads each time. A call never waits for a free thread
// (one is started when none is idle, and a thread idle for 30 s exits), so
// calls may block on one another without deadlock. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/status.h"

namespace tessera {

// Runs every call concurrently and returns once all have returned: the first
// error in call order, or OK. A call that throws returns Internal.
Status RunInParallel(std::vector<std::function<Status()>> calls);

// Threads the shared set has started so far (for tests and statistics).
uint64_t ParallelThreadsStarted();

}  // namespace tessera
