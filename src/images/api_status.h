// ApiStatus: the outcome of an Image API operation as the HTTP status the
// client must see (200 OK, 400, 403, 404, 409, 413, 415, ...) and a message.
//
// The Image API distinguishes errors that Status codes do not (403 "read-only"
// vs 409 "wrong state" vs 415), so the images module's pure logic reports the
// HTTP status directly; FromStatus maps errors from the storage layer.
#pragma once

#include <string>
#include <utility>

#include "common/status.h"

namespace tessera::images {

struct ApiStatus {
  int http = 200;
  std::string message;

  bool ok() const { return http < 300; }
  static ApiStatus Ok() { return {}; }
  static ApiStatus Error(int http, std::string message) { return {http, std::move(message)}; }
  // NotFound 404, InvalidArgument 400, AlreadyExists/FailedPrecondition 409,
  // TooLarge 413, NoSpace 507, Unavailable 503, anything else 500.
  static ApiStatus FromStatus(const Status& status);
};

// "Bad Request", "Forbidden", ... for the error body's title.
const char* HttpTitle(int http);

}  // namespace tessera::images
