// Parsing a node's /v1/cluster/view answer, and asking a node that is not
// there (no server needed: a closed loopback port).
#include "cluster/admin/node_view.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

namespace tessera::cluster::admin {
namespace {

TEST(NodeViewTest, ParsesTheDocumentedShape) {
  Result<NodeView> v = ParseNodeView(
      R"({"array_id": 3, "lnn": 2, "cluster": "local", "writable": false,
          "reason": "etcd session lost", "session_lost": true, "epoch": 57,
          "group": "<3,57>: { 1-3:0-3 }", "is_master": true, "master": 3})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, (NodeView{3, 2, "local", false, "etcd session lost", true, 57,
                          "<3,57>: { 1-3:0-3 }", true, 3}));
}

TEST(NodeViewTest, MissingAndNullFieldsKeepDefaults) {
  Result<NodeView> v = ParseNodeView(R"({"array_id": 1, "group": null})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  NodeView want;
  want.array_id = 1;
  EXPECT_EQ(*v, want);
  EXPECT_EQ(*ParseNodeView("{}"), NodeView{});
}

TEST(NodeViewTest, WrongTypesAndNonObjectsAreCorruptionNamingTheField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"array_id": "3"})", "array_id"},
      {R"({"lnn": -1})", "lnn"},
      {R"({"array_id": 4294967296})", "array_id"},
      {R"({"cluster": 1})", "cluster"},
      {R"({"writable": 1})", "writable"},
      {R"({"reason": false})", "reason"},
      {R"({"session_lost": "no"})", "session_lost"},
      {R"({"epoch": 1.5})", "epoch"},
      {R"({"group": {}})", "group"},
      {R"({"is_master": 0})", "is_master"},
      {R"({"master": "1"})", "master"},
  };
  for (const Case& c : cases) {
    Result<NodeView> v = ParseNodeView(c.json);
    ASSERT_FALSE(v.ok()) << c.json;
    EXPECT_EQ(v.status().code(), StatusCode::kCorruption) << c.json;
    EXPECT_NE(v.status().message().find(std::string("'") + c.field + "'"), std::string::npos)
        << v.status().message();
  }
  for (const char* bad : {"", "[]", "3", "{", "null"}) {
    Result<NodeView> v = ParseNodeView(bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), StatusCode::kCorruption) << bad;
  }
}

TEST(NodeViewTest, ANodeThatDoesNotAnswerIsUnreachable) {
  // Port 1 on loopback: nothing listens there, the connect is refused.
  auto start = std::chrono::steady_clock::now();
  std::vector<Result<NodeView>> views = FetchNodeViews({"127.0.0.1:1", "127.0.0.1:1"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ASSERT_EQ(views.size(), 2u);
  for (const Result<NodeView>& v : views) {
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(v.status().message().rfind("unreachable: ", 0), 0u) << v.status().message();
  }
}

TEST(NodeViewTest, ANodeThatAnswersTooSlowlyIsUnreachableAfterTheTimeout) {
  // Accepts the connection but holds the answer past the timeout, as a hung
  // node would.
  httplib::Server server;
  server.Get("/v1/cluster/view", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.set_content(R"({"array_id": 1})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&server] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto start = std::chrono::steady_clock::now();
  Result<NodeView> slow = FetchNodeView(address, std::chrono::milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(1200));
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kUnavailable) << slow.status().ToString();
  // With time to answer, the same node's view arrives.
  Result<NodeView> patient = FetchNodeView(address, std::chrono::milliseconds(5000));
  ASSERT_TRUE(patient.ok()) << patient.status().ToString();
  EXPECT_EQ(patient->array_id, 1u);
  server.stop();
  thread.join();
}

TEST(NodeViewTest, NonOkAnswerNamesTheStatusAndTheNodesError) {
  httplib::Server server;
  server.Get("/v1/cluster/view", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(R"({"error": "not in cluster mode"})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&server] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Result<NodeView> v = FetchNodeView("127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(v.status().message(), "HTTP 404: not in cluster mode");
  server.stop();
  thread.join();
}

}  // namespace
}  // namespace tessera::cluster::admin
