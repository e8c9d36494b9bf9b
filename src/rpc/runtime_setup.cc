#include "rpc/runtime_setup.h"

#include <absl/synchronization/mutex.h>

namespace tessera::rpc {

void SetUpRpcRuntime() {
  // Debian builds abseil without NDEBUG, which leaves absl::Mutex deadlock
  // detection on: every lock gRPC takes records its lock order in one
  // process-wide graph, behind one process-wide lock. Under concurrent
  // writes that was several percent of a node's CPU, and a point where all
  // RPC threads queue. Our own code does not use absl::Mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace tessera::rpc
