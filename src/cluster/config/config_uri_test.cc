#include "cluster/config/config_uri.h"

#include <gtest/gtest.h>

namespace tessera::cluster::config {
namespace {

struct GoodCase {
  const char* text;
  std::vector<std::string> endpoints;
  const char* root;
  const char* etcd_endpoints;
};

TEST(ConfigUriTest, ParsesValidUris) {
  const GoodCase cases[] = {
      {"etcd://127.0.0.1:2379/tessera/prod/config",
       {"127.0.0.1:2379"},
       "/tessera/prod/config",
       "http://127.0.0.1:2379"},
      {"etcd://a:1,b.example:65535/x/",
       {"a:1", "b.example:65535"},
       "/x",
       "http://a:1,http://b.example:65535"},
      {"etcd://[::1]:2379/tessera/c1/config",
       {"[::1]:2379"},
       "/tessera/c1/config",
       "http://[::1]:2379"},
      {"etcd://etcd-0:2379,etcd-1:2379,etcd-2:2379/t",
       {"etcd-0:2379", "etcd-1:2379", "etcd-2:2379"},
       "/t",
       "http://etcd-0:2379,http://etcd-1:2379,http://etcd-2:2379"},
  };
  for (const GoodCase& c : cases) {
    SCOPED_TRACE(c.text);
    Result<ConfigUri> uri = ParseConfigUri(c.text);
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    EXPECT_EQ(uri->endpoints, c.endpoints);
    EXPECT_EQ(uri->root, c.root);
    EXPECT_EQ(uri->EtcdEndpoints(), c.etcd_endpoints);
    Result<ConfigUri> again = ParseConfigUri(uri->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->endpoints, uri->endpoints);
    EXPECT_EQ(again->root, uri->root);
  }
}

TEST(ConfigUriTest, RejectsMalformedUrisWithTheReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "scheme must be etcd://"},
      {"http://127.0.0.1:2379/x", "scheme must be etcd://"},
      {"ETCD://h:1/x", "scheme must be etcd://"},
      {"etcd://127.0.0.1:2379", "missing /PATH"},
      {"etcd:///tessera", "no HOST:PORT"},
      {"etcd://h/x", "endpoint 'h' has no port"},
      {"etcd://h:/x", "not a number from 1 to 65535"},
      {"etcd://h:0/x", "not a number from 1 to 65535"},
      {"etcd://h:65536/x", "not a number from 1 to 65535"},
      {"etcd://h:02379/x", "not a number from 1 to 65535"},
      {"etcd://h:23a9/x", "not a number from 1 to 65535"},
      {"etcd://:2379/x", "has no host"},
      {"etcd://user@h:1/x", "host with a character"},
      {"etcd://h:1,/x", "empty endpoint"},
      {"etcd://h:1,,g:2/x", "empty endpoint"},
      {"etcd://[::1]/x", "has no port"},
      {"etcd://h:1/", "PATH must name a root key"},
      {"etcd://h:1//x", "empty, '.' or '..'"},
      {"etcd://h:1/a//b", "empty, '.' or '..'"},
      {"etcd://h:1/a/../b", "empty, '.' or '..'"},
      {"etcd://h:1/a/./b", "empty, '.' or '..'"},
      {"etcd://h:1/a b", "whitespace"},
      {"etcd://h:1/a?x=1", "whitespace, '?' or '#'"},
      {"etcd://h:1/a#f", "whitespace, '?' or '#'"},
  };
  for (const auto& [text, why] : cases) {
    SCOPED_TRACE(text);
    Result<ConfigUri> uri = ParseConfigUri(text);
    ASSERT_FALSE(uri.ok());
    EXPECT_EQ(uri.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(uri.status().message().find(why), std::string::npos) << uri.status().message();
    EXPECT_NE(uri.status().message().find(std::string("'") + text + "'"), std::string::npos);
  }
}

TEST(ConfigUriTest, KeyLayoutAndIds) {
  EXPECT_EQ(config_keys::Setting("max_file_size"), "max_file_size");
  EXPECT_EQ(config_keys::HostSetting("7", "max_file_size"), "hosts/7/max_file_size");
  EXPECT_EQ(config_keys::Feedback("12"), "feedback/12");
  for (const char* id : {"1", "42", "999999999"}) EXPECT_TRUE(ValidateArrayId(id).ok()) << id;
  for (const char* id : {"", "0", "01", "-1", "1a", "1000000000", "a"}) {
    EXPECT_FALSE(ValidateArrayId(id).ok()) << id;
  }
  for (const char* id : {"big-files", "a.b_c", "X1"}) EXPECT_TRUE(ValidateSharedId(id).ok()) << id;
  for (const char* id : {"", ".", "..", "a/b", "a b"})
    EXPECT_FALSE(ValidateSharedId(id).ok()) << id;
}

}  // namespace
}  // namespace tessera::cluster::config

namespace tessera::cluster::config {
namespace {

TEST(ConfigUriTest, ClusterNameComesFromTheRoot) {
  Result<std::string> name = ClusterNameFromConfigRoot("/tessera/prod/config");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(*name, "prod");
  for (const char* bad : {"/tessera/config", "/tessera//config", "/tessera/a/b/config",
                          "/other/prod/config", "/tessera/prod", "/tessera/prod/config/x"}) {
    Result<std::string> r = ClusterNameFromConfigRoot(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("/tessera/<cluster>/config"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace tessera::cluster::config
