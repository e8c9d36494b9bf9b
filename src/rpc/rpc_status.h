// The one place tessera Status codes and gRPC status codes meet.
//
// ToGrpcStatus keeps the message and also records the tessera code in the
// status' error_details, so a Status that crosses the wire comes back with
// the same code even where two tessera codes share a gRPC code (IOError and
// Internal are both INTERNAL). FromGrpcStatus prefers that record and falls
// back to the gRPC code for statuses gRPC itself made (a dead peer, a
// deadline): UNAVAILABLE, DEADLINE_EXCEEDED and CANCELLED become Unavailable,
// so callers treat an unreachable node like a down drive. Pure functions.
#pragma once

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace tessera::rpc {

grpc::StatusCode ToGrpcCode(StatusCode code);
grpc::Status ToGrpcStatus(const Status& status);
Status FromGrpcStatus(const grpc::Status& status);
// A status sent as a tessera code number and a message inside a reply. A
// number that is no tessera error code is Internal, naming it.
Status StatusFromWire(int32_t code, std::string message);

}  // namespace tessera::rpc
