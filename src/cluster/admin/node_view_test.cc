// Parsing a node's /v1/cluster/view answer, and asking a node that is not
// there (no server needed: a closed loopback port).
#include "cluster/admin/node_view.h"

#include <gtest/gtest.h>

#include <chrono>

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

}  // namespace
}  // namespace tessera::cluster::admin
