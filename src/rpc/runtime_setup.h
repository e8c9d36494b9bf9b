// Process-wide settings of the RPC runtime (gRPC and the abseil it runs on).
//
// Call SetUpRpcRuntime() once, from main, before any thread starts. It only
// changes settings, never fails, and calling it again does nothing more.
#pragma once

namespace tessera::rpc {

void SetUpRpcRuntime();

}  // namespace tessera::rpc
