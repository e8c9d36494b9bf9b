#include "common/status.h"

#include <cstring>

namespace tessera {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kNoSpace:
      return "NoSpace";
    case StatusCode::kUnavailable:
      return "Unavailable";
    case StatusCode::kFailedPrecondition:
      return "FailedPrecondition";
    case StatusCode::kTooLarge:
      return "TooLarge";
    case StatusCode::kInternal:
      return "Internal";
    case StatusCode::kIndeterminate:
      return "Indeterminate";
    case StatusCode::kConditionFailed:
      return "ConditionFailed";
  }
  return "Unknown";
}

Status Status::FromErrno(int errno_value, std::string_view what) {
  StatusCode code = errno_value == ENOSPC || errno_value == EDQUOT ? StatusCode::kNoSpace
                    : errno_value == ENOENT                        ? StatusCode::kNotFound
                                                                   : StatusCode::kIOError;
  return Status(code, std::string(what) + ": " + std::strerror(errno_value));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

}  // namespace tessera
