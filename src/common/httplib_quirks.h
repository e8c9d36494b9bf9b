// Four ways cpp-httplib's server treats a request or response that every
// Tessera HTTP service (node API, image service) corrects the same way.
//
// Pure helpers on httplib's types; thread-compatible (each call touches one
// request or response).
#pragma once

#include <httplib.h>

#include <string>

namespace tessera {

// A PUT, POST or PATCH with neither Content-Length nor chunked encoding.
// httplib would read such a body until the client closes, so neither side
// would ever finish: a service refuses it at once (411) with SendAndClose.
bool BodyWithoutLength(const httplib::Request& req);

// Answers with `body` and then closes the connection. httplib keeps a
// connection open whatever its Connection header says and would parse a body
// it did not read as the next request; a content provider that reports
// failure once the whole answer is written makes it close. Replaces any body
// and Content-Type the response had.
void SendAndClose(httplib::Response& res, std::string body, const std::string& content_type);

// httplib cuts every response to the request's Range, errors too (a 404 to
// "Range: bytes=0-5" sent the first 6 bytes of its JSON). Error handlers call
// this: an error is never partial. The Request is the server's own,
// non-const object; handlers only see it const.
void ServeWhole(const httplib::Request& req);

// httplib neither checks a Range against the length nor clamps its last
// byte (RFC 7233 2.1): an unsatisfiable range got an empty 206, and
// "bytes=0-99999999" of a 100-byte body a Content-Range and Content-Length
// past the body's end (a streamed body then stalled and was cut). Returns
// false if a range of `req` is unsatisfiable for `size` bytes (answer 416
// with "Content-Range: bytes */size"); otherwise clamps every range's last
// byte to the end, in the server's own (non-const) request.
bool FitRangesTo(const httplib::Request& req, uint64_t size);

}  // namespace tessera
