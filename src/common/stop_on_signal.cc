#include "common/stop_on_signal.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <utility>

#include "common/thread_name.h"

namespace tessera {
namespace {

// The signals that ask the process to stop.
sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// SIGUSR2 only ends the waiter: the process is not stopping for a signal.
sigset_t WaitedSignals() {
  sigset_t signals = StopSignals();
  sigaddset(&signals, SIGUSR2);
  return signals;
}

}  // namespace

void BlockStopSignals() {
  sigset_t signals = WaitedSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

bool WaitForStopSignal(std::chrono::milliseconds timeout) {
  const sigset_t signals = StopSignals();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    timespec wait{static_cast<time_t>(left.count() / 1'000'000'000),
                  static_cast<long>(left.count() % 1'000'000'000)};
    int received = sigtimedwait(&signals, nullptr, &wait);
    if (received == SIGINT || received == SIGTERM) {
      spdlog::info("signal {}: stopping", received);
      return true;
    }
    if (received < 0 && errno == EAGAIN) return false;  // EINTR: wait on
  }
}

StopOnSignal::StopOnSignal(std::function<void()> stop) {
  // Blocked before the waiter starts, so it inherits the mask: a SIGUSR2 from
  // a destructor that comes at once cannot take the default action.
  BlockStopSignals();
  waiter_ = std::thread([stop = std::move(stop)] {
    SetThreadName("signals");
    sigset_t signals = WaitedSignals();
    int received = 0;
    sigwait(&signals, &received);
    if (received == SIGUSR2) return;
    spdlog::info("signal {}: stopping", received);
    stop();
  });
}

StopOnSignal::~StopOnSignal() {
  pthread_kill(waiter_.native_handle(), SIGUSR2);
  waiter_.join();
}

}  // namespace tessera
