// SIGINT and SIGTERM as a clean stop for a server process.
//
// BlockStopSignals() blocks both (and SIGUSR2, used internally) in the
// calling thread; call it in main's thread before any other thread starts,
// so every thread inherits the mask and no signal lands on one of them. A
// StopOnSignal (constructed on a thread that blocks them; its constructor
// blocks them in the calling thread) takes them on a thread of its own,
// named "signals", and runs `stop` (e.g. httplib::Server::stop) on the first
// one. Destroying it without a signal ends that thread and does not run
// `stop`. Not copyable; one per process.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace tessera {

void BlockStopSignals();

// For a thread that blocks them, before any StopOnSignal exists (e.g. while
// a server waits to start): sleeps up to `timeout`; true at once if SIGINT
// or SIGTERM arrives, which it takes.
bool WaitForStopSignal(std::chrono::milliseconds timeout);

class StopOnSignal {
 public:
  explicit StopOnSignal(std::function<void()> stop);
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  std::thread waiter_;
};

}  // namespace tessera
