#include "cluster/cluster_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/support/temp_dir.h"

namespace tessera::cluster {
namespace {

ClusterFile Example() {
  ClusterFile file;
  file.cluster = "local";
  file.etcd = {"127.0.0.1:23790", "127.0.0.1:23791"};
  file.nodes = {{"node1", "127.0.0.1:8081"}, {"node2", "127.0.0.1:8082"}};
  file.dir = "/tmp/c";
  file.supervisor_config = "/tmp/c/supervisord.conf";
  return file;
}

TEST(ClusterFileTest, RoundTrips) {
  Result<ClusterFile> parsed = ParseClusterFile(ClusterFileJson(Example()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, Example());
}

TEST(ClusterFileTest, DerivesEndpointsAndConfigUri) {
  EXPECT_EQ(Example().EtcdEndpoints(), "http://127.0.0.1:23790,http://127.0.0.1:23791");
  EXPECT_EQ(Example().ConfigUri(), "etcd://127.0.0.1:23790,127.0.0.1:23791/tessera/local/config");
}

TEST(ClusterFileTest, OptionalFieldsMayBeMissing) {
  Result<ClusterFile> parsed = ParseClusterFile(R"({"cluster":"a","etcd":["h:1"]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->nodes.empty());
  EXPECT_EQ(parsed->dir, "");
}

TEST(ClusterFileTest, RejectsMalformedFilesNamingTheField) {
  struct Case {
    const char* json;
    const char* expect;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"etcd":["h:1"]})", "missing \"cluster\""},
      {R"({"cluster":7,"etcd":["h:1"]})", "\"cluster\" must be a string"},
      {R"({"cluster":"Bad","etcd":["h:1"]})", "cluster 'Bad'"},
      {R"({"cluster":"a"})", "\"etcd\" must be a non-empty array"},
      {R"({"cluster":"a","etcd":[]})", "\"etcd\" must be a non-empty array"},
      {R"({"cluster":"a","etcd":["h:1","nope"]})", "etcd[1] \"nope\" is not HOST:PORT"},
      {R"({"cluster":"a","etcd":["h:70000"]})", "etcd[0]"},
      {R"({"cluster":"a","etcd":[":80"]})", "etcd[0]"},
      {R"({"cluster":"a","etcd":["h:1"],"nodes":{}})", "\"nodes\" must be an array"},
      {R"({"cluster":"a","etcd":["h:1"],"nodes":[3]})", "nodes[0] must be an object"},
      {R"({"cluster":"a","etcd":["h:1"],"nodes":[{"name":"n"}]})", "missing \"api\""},
      {R"({"cluster":"a","etcd":["h:1"],"nodes":[{"api":"x/y:1"}]})", "nodes[0].api"},
      {R"({"cluster":"a","etcd":["h:1"],"dir":5})", "\"dir\" must be a string"},
  };
  for (const Case& c : cases) {
    Result<ClusterFile> parsed = ParseClusterFile(c.json);
    ASSERT_FALSE(parsed.ok()) << c.json;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(parsed.status().message().find(c.expect), std::string::npos)
        << c.json << " -> " << parsed.status().message();
  }
}

TEST(ClusterFileTest, SavesAndLoads) {
  testing::TempDir dir;
  std::string path = dir.path() + "/cluster.json";
  Result<ClusterFile> missing = LoadClusterFile(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
  ASSERT_TRUE(SaveClusterFile(path, Example()).ok());
  Result<ClusterFile> loaded = LoadClusterFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, Example());
}

TEST(ClusterFileTest, ResolvesFlagThenEnvironmentThenDefault) {
  unsetenv("TESSERA_CLUSTER");
  EXPECT_EQ(ResolveClusterFilePath(""), "./var/cluster.json");
  setenv("TESSERA_CLUSTER", "/env/cluster.json", 1);
  EXPECT_EQ(ResolveClusterFilePath(""), "/env/cluster.json");
  EXPECT_EQ(ResolveClusterFilePath("/flag.json"), "/flag.json");
  setenv("TESSERA_CLUSTER", "", 1);
  EXPECT_EQ(ResolveClusterFilePath(""), "./var/cluster.json");
  unsetenv("TESSERA_CLUSTER");
}

}  // namespace
}  // namespace tessera::cluster
