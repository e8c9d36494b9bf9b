#include "common/httplib_quirks.h"

#include <strings.h>

#include <memory>
#include <utility>

namespace tessera {

bool BodyWithoutLength(const httplib::Request& req) {
  const bool sends_body = req.method == "PUT" || req.method == "POST" || req.method == "PATCH";
  const bool chunked =
      ::strcasecmp(req.get_header_value("Transfer-Encoding").c_str(), "chunked") == 0;
  return sends_body && !chunked && !req.has_header("Content-Length");
}

void SendAndClose(httplib::Response& res, std::string body, const std::string& content_type) {
  auto shared = std::make_shared<std::string>(std::move(body));
  res.body.clear();
  res.headers.erase("Content-Type");
  res.set_header("Connection", "close");
  res.set_content_provider(shared->size(), content_type,
                           [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                             sink.write(shared->data() + offset, length);
                             return false;
                           });
}

void ServeWhole(const httplib::Request& req) { const_cast<httplib::Request&>(req).ranges.clear(); }

bool FitRangesTo(const httplib::Request& req, uint64_t size) {
  const auto end = static_cast<ssize_t>(size);
  for (auto& [first, last] : const_cast<httplib::Request&>(req).ranges) {
    if (first < 0) {  // a suffix: the last `last` bytes, all of them if fewer
      if (last <= 0 || size == 0) return false;
      continue;
    }
    if (first >= end || (last >= 0 && last < first)) return false;
    if (last < 0 || last >= end) last = end - 1;
  }
  return true;
}

}  // namespace tessera
