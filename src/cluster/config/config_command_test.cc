#include "cluster/config/config_command.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <sstream>

#include "cluster/cluster_file.h"
#include "cluster/config/config_store.h"
#include "cluster/config/config_test_util.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster::config {
namespace {

class ConfigCommandTest : public EtcdTest {
 protected:
  using Run = testing::CliRun;
  Run Tessera(std::vector<std::string> args) {
    return testing::RunCli([](CLI::App& app, std::shared_ptr<int> code, std::ostream* out,
                              std::ostream* err) { AddConfigCommand(app, code, out, err); },
                           std::move(args));
  }
  std::string Uri() {
    std::string endpoints = etcd_->endpoints();
    return "etcd://" + endpoints.substr(std::string("http://").size()) + root_;
  }
};

TEST_F(ConfigCommandTest, ListPrintsTheRegistry) {
  Run r = Tessera({"config", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (const SettingDef& def : SettingRegistry()) {
    EXPECT_NE(r.out.find(std::string(def.name)), std::string::npos) << def.name;
  }
  EXPECT_NE(r.out.find("immutable"), std::string::npos);
}

TEST_F(ConfigCommandTest, SetGetApplyFeedback) {
  Run set = Tessera({"config", "set", "max_file_size", "2T", "--config", Uri()});
  EXPECT_EQ(set.code, 0) << set.err;
  Run host = Tessera({"config", "set", "max_file_size", "3G", "--config", Uri(), "--host", "9"});
  EXPECT_EQ(host.code, 0) << host.err;
  Run get = Tessera({"config", "get", "max_file_size", "--config", Uri()});
  EXPECT_EQ(get.code, 0) << get.err;
  EXPECT_EQ(get.out, std::to_string(2 * (int64_t{1} << 40)) + "\n");
  get = Tessera({"config", "get", "max_file_size", "--config", Uri(), "--host", "9"});
  EXPECT_EQ(get.out, std::to_string(3 * (int64_t{1} << 30)) + "\n");
  Run all = Tessera({"config", "get", "--config", Uri()});
  EXPECT_EQ(all.code, 0);
  EXPECT_NE(all.out.find("max_file_size = 2199023255552  (from max_file_size)"), std::string::npos)
      << all.out;
  EXPECT_NE(all.out.find("segment_size = 67108864  (default)"), std::string::npos) << all.out;

  Run bad = Tessera({"config", "set", "max_file_size", "lots", "--config", Uri()});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("not a size"), std::string::npos) << bad.err;
  EXPECT_EQ(Tessera({"config", "set", "nope", "1", "--config", Uri()}).code, 2);
  // A value that breaks a bound between settings is refused too.
  bad = Tessera({"config", "set", "packing_container_max_size", "512K", "--config", Uri()});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err,
            "tessera: refusing to set packing_container_max_size: packing_container_min_size "
            "(1040384) may not exceed packing_container_max_size (524288): a container could "
            "never hold the minimum, so nothing would be packed\n");
  EXPECT_EQ(Tessera({"config", "get", "--config", "http://x:1/y"}).code, 2);
  // Neither --config nor a cluster file: says where it looked.
  unsetenv("TESSERA_CLUSTER");
  Run no_cluster = Tessera({"config", "get", "--cluster", "/nonexistent/cluster.json"});
  EXPECT_EQ(no_cluster.code, 1);
  EXPECT_NE(no_cluster.err.find("no cluster file at /nonexistent/cluster.json"), std::string::npos)
      << no_cluster.err;
  EXPECT_EQ(Tessera({"config", "get", "--config", Uri(), "--cluster", "x"}).code, 2);

  Run apply = Tessera({"config", "apply", "--config", Uri()});
  EXPECT_EQ(apply.code, 0) << apply.err;
  EXPECT_EQ(apply.out.rfind("update revision ", 0), 0u);
  Run none = Tessera({"config", "feedback", "--config", Uri()});
  EXPECT_EQ(none.out, "no feedback yet\n");
  ConfigStore store(client_.get(), root_);
  ASSERT_TRUE(store.WriteFeedback("9", "{\"applied\":[]}").ok());
  Run fb = Tessera({"config", "feedback", "--config", Uri()});
  EXPECT_EQ(fb.code, 0);
  EXPECT_EQ(fb.out, "host 9: {\"applied\":[]}\n");
}

}  // namespace
}  // namespace tessera::cluster::config

namespace tessera::cluster::config {
namespace {

TEST_F(ConfigCommandTest, ClusterFileNamesTheConfiguration) {
  testing::TempDir dir;
  ClusterFile file;
  file.cluster = "from-file";
  file.etcd = {etcd_->client_url(0).substr(std::string("http://").size())};
  std::string path = dir.path() + "/cluster.json";
  ASSERT_TRUE(SaveClusterFile(path, file).ok());
  Run set = Tessera({"config", "set", "max_file_size", "5G", "--cluster", path});
  ASSERT_EQ(set.code, 0) << set.err;
  ConfigStore store(client_.get(), "/tessera/from-file/config");
  auto raw = store.GetRaw("max_file_size");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ(**raw, "5G");
  setenv("TESSERA_CLUSTER", path.c_str(), 1);
  Run get = Tessera({"config", "get", "max_file_size"});
  unsetenv("TESSERA_CLUSTER");
  EXPECT_EQ(get.code, 0) << get.err;
  EXPECT_EQ(get.out, std::to_string(5 * (int64_t{1} << 30)) + "\n");
}

}  // namespace
}  // namespace tessera::cluster::config
