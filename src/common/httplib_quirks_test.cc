#include "common/httplib_quirks.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

httplib::Request Request(const std::string& method, httplib::Headers headers) {
  httplib::Request req;
  req.method = method;
  req.headers = std::move(headers);
  return req;
}

TEST(HttplibQuirksTest, OnlyABodyMethodWithNoLengthLacksOne) {
  for (const char* method : {"PUT", "POST", "PATCH"}) {
    EXPECT_TRUE(BodyWithoutLength(Request(method, {}))) << method;
    EXPECT_FALSE(BodyWithoutLength(Request(method, {{"Content-Length", "0"}}))) << method;
    EXPECT_FALSE(BodyWithoutLength(Request(method, {{"Transfer-Encoding", "chunked"}})));
    EXPECT_FALSE(BodyWithoutLength(Request(method, {{"Transfer-Encoding", "Chunked"}})));
    EXPECT_TRUE(BodyWithoutLength(Request(method, {{"Transfer-Encoding", "gzip"}}))) << method;
  }
  for (const char* method : {"GET", "HEAD", "DELETE", "OPTIONS"}) {
    EXPECT_FALSE(BodyWithoutLength(Request(method, {}))) << method;
  }
}

TEST(HttplibQuirksTest, SendAndCloseReplacesTheBodyAndAsksToClose) {
  httplib::Response res;
  res.set_content("old", "text/plain");
  SendAndClose(res, "{\"error\": 1}", "application/json");
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(res.get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res.get_header_value_count("Content-Type"), 1u);
  EXPECT_EQ(res.get_header_value("Connection"), "close");
  ASSERT_TRUE(res.content_provider_);
  std::string sent;
  httplib::DataSink sink;
  sink.write = [&](const char* data, size_t n) {
    sent.append(data, n);
    return true;
  };
  EXPECT_FALSE(res.content_provider_(0, 12, sink));  // fails once written: httplib closes
  EXPECT_EQ(sent, "{\"error\": 1}");
}

TEST(HttplibQuirksTest, ServeWholeDropsTheRanges) {
  httplib::Request req;
  req.ranges = {{0, 5}};
  ServeWhole(req);
  EXPECT_TRUE(req.ranges.empty());
}

// Every range httplib can parse ("bytes=F-L", "bytes=F-", "bytes=-N"; -1
// for an absent number) against every small size: satisfiable exactly as
// RFC 7233 2.1 says, and then clamped to the bytes that exist.
TEST(HttplibQuirksTest, FitRangesToChecksAndClampsEveryRange) {
  for (ssize_t size = 0; size <= 6; ++size) {
    for (ssize_t first = -1; first <= 8; ++first) {
      for (ssize_t last = -1; last <= 8; ++last) {
        if (first < 0 && last < 0) continue;  // httplib never yields "bytes=-"
        SCOPED_TRACE(std::to_string(size) + " bytes, range " + std::to_string(first) + ".." +
                     std::to_string(last));
        httplib::Request req;
        req.ranges = {{first, last}};
        const bool satisfiable =
            first < 0 ? last > 0 && size > 0 : first < size && (last < 0 || last >= first);
        ASSERT_EQ(FitRangesTo(req, static_cast<uint64_t>(size)), satisfiable);
        if (!satisfiable) continue;
        const auto [fitted_first, fitted_last] = req.ranges[0];
        if (first < 0) {
          EXPECT_EQ(fitted_first, first);  // a suffix, which httplib fits itself
          EXPECT_EQ(fitted_last, last);
        } else {
          EXPECT_EQ(fitted_first, first);
          EXPECT_EQ(fitted_last, last < 0 ? size - 1 : std::min(last, size - 1));
        }
      }
    }
  }
}

TEST(HttplibQuirksTest, FitRangesToNeedsEveryRangeSatisfiable) {
  httplib::Request req;
  req.ranges = {{0, 99}, {2, 3}};
  EXPECT_TRUE(FitRangesTo(req, 10));
  EXPECT_EQ(req.ranges, (httplib::Ranges{{0, 9}, {2, 3}}));
  req.ranges = {{0, 1}, {10, 12}};
  EXPECT_FALSE(FitRangesTo(req, 10));
}

}  // namespace
}  // namespace tessera
