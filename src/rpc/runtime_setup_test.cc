#include "rpc/runtime_setup.h"

#include <absl/synchronization/mutex.h>
#include <gtest/gtest.h>

namespace tessera::rpc {
namespace {

// Two locks taken in both orders, one after the other: no deadlock can
// happen, but abseil's deadlock detection, when on, reports the cycle and
// aborts. The death test shows detection is on by default in this build,
// so the second test would fail if SetUpRpcRuntime did not turn it off.
void TakeLocksInBothOrders() {
  absl::Mutex a;
  absl::Mutex b;
  {
    absl::MutexLock first(&a);
    absl::MutexLock second(&b);
  }
  {
    absl::MutexLock first(&b);
    absl::MutexLock second(&a);
  }
}

TEST(RuntimeSetupDeathTest, DeadlockDetectionIsOnByDefault) {
  EXPECT_DEATH(TakeLocksInBothOrders(), "deadlock");
}

TEST(RuntimeSetupTest, TurnsOffMutexDeadlockDetection) {
  SetUpRpcRuntime();
  SetUpRpcRuntime();
  TakeLocksInBothOrders();
  SUCCEED();
}

}  // namespace
}  // namespace tessera::rpc
