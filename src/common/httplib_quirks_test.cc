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

}  // namespace
}  // namespace tessera
