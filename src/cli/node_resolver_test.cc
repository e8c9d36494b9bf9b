#include "cli/node_resolver.h"

#include <gtest/gtest.h>

namespace tessera::cli {
namespace {

using Kind = NodeSource::Kind;
const std::optional<std::string> kNone;

TEST(NodeResolverTest, PrecedenceOverEveryCombination) {
  // Each of the five inputs present or absent: 32 cases, checked against the
  // documented order.
  for (int mask = 0; mask < 32; ++mask) {
    std::optional<std::string> node_flag =
        (mask & 1) ? std::optional<std::string>("http://n:1") : kNone;
    std::optional<std::string> cluster_flag =
        (mask & 2) ? std::optional<std::string>("/c.json") : kNone;
    const char* node_env = (mask & 4) ? "http://e:2" : nullptr;
    const char* cluster_env = (mask & 8) ? "/env.json" : nullptr;
    bool default_file = (mask & 16) != 0;
    NodeSource want;
    if (mask & 1) {
      want = {Kind::kNodeFlag, "http://n:1"};
    } else if (mask & 2) {
      want = {Kind::kClusterFlag, "/c.json"};
    } else if (mask & 4) {
      want = {Kind::kNodeEnv, "http://e:2"};
    } else if (mask & 8) {
      want = {Kind::kClusterEnv, "/env.json"};
    } else if (mask & 16) {
      want = {Kind::kDefaultClusterFile, "./var/cluster.json"};
    } else {
      want = {Kind::kDefault, "http://127.0.0.1:8080"};
    }
    EXPECT_EQ(ChooseNodeSource(node_flag, cluster_flag, node_env, cluster_env, default_file), want)
        << "mask " << mask;
  }
}

TEST(NodeResolverTest, EmptyEnvironmentCountsAsUnset) {
  EXPECT_EQ(ChooseNodeSource(kNone, kNone, "", "", false).kind, Kind::kDefault);
  EXPECT_EQ(ChooseNodeSource(kNone, kNone, "", "/x.json", false).kind, Kind::kClusterEnv);
  // An empty flag is still a flag: the user asked for it.
  EXPECT_EQ(ChooseNodeSource(std::string(), kNone, "http://e:1", nullptr, true).kind,
            Kind::kNodeFlag);
}

TEST(NodeResolverTest, SourcesDescribeThemselves) {
  EXPECT_EQ(NodeSource({Kind::kNodeFlag, ""}).Describe(), "--node");
  EXPECT_EQ(NodeSource({Kind::kClusterFlag, ""}).Describe(), "--cluster");
  EXPECT_EQ(NodeSource({Kind::kNodeEnv, ""}).Describe(), "$TESSERA_NODE");
  EXPECT_EQ(NodeSource({Kind::kClusterEnv, ""}).Describe(), "$TESSERA_CLUSTER");
  EXPECT_EQ(NodeSource({Kind::kDefaultClusterFile, ""}).Describe(), "./var/cluster.json");
  EXPECT_EQ(NodeSource({Kind::kDefault, ""}).Describe(), "the default");
  EXPECT_TRUE(NodeSource({Kind::kClusterEnv, ""}).is_cluster_file());
  EXPECT_FALSE(NodeSource({Kind::kNodeEnv, ""}).is_cluster_file());
}

TEST(NodeResolverTest, EmptyClusterHasNoNode) {
  cluster::ClusterFile file;
  file.cluster = "local";
  file.etcd = {"127.0.0.1:1"};
  Result<std::string> url = PickLiveNode(file, "/c.json", std::chrono::milliseconds(100));
  EXPECT_EQ(url.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(url.status().message(), "cluster file /c.json lists no nodes");
}

}  // namespace
}  // namespace tessera::cli
