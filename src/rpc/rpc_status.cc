#include "rpc/rpc_status.h"

#include <string>

namespace tessera::rpc {
namespace {

// error_details carries "tessera:<code number>"; anything else is not ours.
constexpr std::string_view kDetailsPrefix = "tessera:";

bool ParseDetails(const std::string& details, StatusCode* code) {
  if (details.rfind(kDetailsPrefix, 0) != 0) return false;
  std::string number = details.substr(kDetailsPrefix.size());
  if (number.empty() || number.size() > 3) return false;
  int value = 0;
  for (char c : number) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value <= 0 || value > static_cast<int>(kLastStatusCode)) return false;
  *code = static_cast<StatusCode>(value);
  return true;
}

}  // namespace

grpc::StatusCode ToGrpcCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case StatusCode::kCorruption:
      return grpc::StatusCode::DATA_LOSS;
    case StatusCode::kIOError:
      return grpc::StatusCode::INTERNAL;
    case StatusCode::kNoSpace:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kTooLarge:
      return grpc::StatusCode::OUT_OF_RANGE;
    case StatusCode::kInternal:
      return grpc::StatusCode::INTERNAL;
    case StatusCode::kIndeterminate:
      return grpc::StatusCode::ABORTED;
    case StatusCode::kConditionFailed:
      return grpc::StatusCode::FAILED_PRECONDITION;
  }
  return grpc::StatusCode::UNKNOWN;
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(
      ToGrpcCode(status.code()), status.message(),
      std::string(kDetailsPrefix) + std::to_string(static_cast<int>(status.code())));
}

Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  const std::string& message = status.error_message();
  StatusCode code;
  if (ParseDetails(status.error_details(), &code)) return Status(code, message);
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return Status::InvalidArgument(message);
    case grpc::StatusCode::NOT_FOUND:
      return Status::NotFound(message);
    case grpc::StatusCode::ALREADY_EXISTS:
      return Status::AlreadyExists(message);
    case grpc::StatusCode::DATA_LOSS:
      return Status::Corruption(message);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return Status::NoSpace(message);
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
      return Status::Unavailable(message);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::Unavailable("deadline exceeded: " + message);
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status::FailedPrecondition(message);
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    default:
      return Status::Internal(message);
  }
}

Status StatusFromWire(int32_t code, std::string message) {
  if (code <= 0 || code > static_cast<int32_t>(kLastStatusCode)) {
    return Status::Internal("status code " + std::to_string(code) +
                            " from a peer is not a known error code: " + message);
  }
  return Status(static_cast<StatusCode>(code), std::move(message));
}

}  // namespace tessera::rpc
