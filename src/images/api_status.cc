#include "images/api_status.h"

namespace tessera::images {

ApiStatus ApiStatus::FromStatus(const Status& status) {
  if (status.ok()) return Ok();
  switch (status.code()) {
    case StatusCode::kNotFound:
      return Error(404, status.message());
    case StatusCode::kInvalidArgument:
      return Error(400, status.message());
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return Error(409, status.message());
    case StatusCode::kConditionFailed:
      return Error(409, "The image was changed by another request meanwhile; try again (" +
                            status.message() + ")");
    case StatusCode::kTooLarge:
      return Error(413, status.message());
    case StatusCode::kNoSpace:
      return Error(507, status.message());
    case StatusCode::kUnavailable:
      return Error(503, status.message());
    default:
      return Error(500, status.ToString());
  }
}

const char* HttpTitle(int http) {
  switch (http) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Requested Range Not Satisfiable";
    case 503:
      return "Service Unavailable";
    case 507:
      return "Insufficient Storage";
    default:
      return http >= 500 ? "Internal Server Error" : "Error";
  }
}

}  // namespace tessera::images
