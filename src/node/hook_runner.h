// Runs an operator-configured shell command (a master takeover or release
// hook): `/bin/sh -c COMMAND` with `env` added to the node's environment,
// stdin from /dev/null and output into the node's log. Waits for it up to
// `timeout`, then kills its process group.
//
// Returns OK when it exited 0; InvalidArgument for an empty command;
// FailedPrecondition naming the exit status or signal when it failed;
// IOError if it could not be started; Unavailable if it ran
// past the timeout. Thread-safe; blocks the calling thread.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "common/status.h"

namespace tessera::node {

Status RunHook(const std::string& command, const std::map<std::string, std::string>& env,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace tessera::node
