#include "node/http_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace tessera::node {
namespace {

using nlohmann::json;

// A server with only the error handlers and a route that throws.
class ErrorHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InstallErrorHandlers(server_);
    server_.Get("/throws", [](const httplib::Request&, httplib::Response&) {
      throw std::out_of_range("map::at");
    });
    server_.Get("/teapot",
                [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    // Bound and listening: connections queue until the server accepts them.
    serving_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void TearDown() override {
    server_.stop();
    if (serving_.joinable()) serving_.join();
  }
  json Error(const httplib::Result& res) {
    EXPECT_TRUE(res);
    if (!res) return json::object();
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    json body = json::parse(res->body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"] : json::object();
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread serving_;
};

TEST_F(ErrorHandlersTest, AThrowingHandlerIsA500NamingTheException) {
  httplib::Client client("127.0.0.1", port_);
  auto res = client.Get("/throws");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_FALSE(res->has_header("EXCEPTION_WHAT"));
  json error = Error(res);
  EXPECT_EQ(error.value("code", ""), "Internal") << res->body;
  EXPECT_NE(error.value("message", "").find("internal error handling GET '/throws': map::at"),
            std::string::npos)
      << res->body;
  // The server goes on serving.
  EXPECT_EQ(client.Get("/throws")->status, 500);
}

TEST_F(ErrorHandlersTest, UnansweredStatusesGetABodyWithTheRightCode) {
  httplib::Client client("127.0.0.1", port_);
  auto missing = client.Get("/nowhere");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(Error(missing).value("code", ""), "NotFound");
  auto unavailable = client.Get("/teapot");
  ASSERT_TRUE(unavailable);
  EXPECT_EQ(unavailable->status, 503);
  EXPECT_EQ(Error(unavailable).value("code", ""), "Internal") << unavailable->body;
}

}  // namespace
}  // namespace tessera::node
