// `tessera packing` and `tessera filepool policies` against a real etcd,
// run in-process with injected streams, as an operator would call them.
#include "cluster/admin/filepool_command.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <nlohmann/json.hpp>

#include "cluster/admin/packing_command.h"
#include "cluster/cluster_file.h"
#include "cluster/config/config_store.h"
#include "cluster/filepool/filepool_store.h"
#include "tests/support/cli_run.h"
#include "tests/support/etcd_test.h"
#include "tests/support/temp_dir.h"

namespace tessera::cluster::admin {
namespace {

testing::CliRun RunTessera(std::vector<std::string> args) {
  return testing::RunCli(
      [](CLI::App& app, std::shared_ptr<int> code, std::ostream* out, std::ostream* err) {
        AddPackingCommand(app, code, out, err);
        AddFilePoolCommand(app, code, out, err);
      },
      std::move(args));
}

const char kDefaultListing[] =
    "Enabled:                            No\n"
    "Unpack recently modified:           No\n"
    "Maximum file size:                  1016.0k\n"
    "Minimum age before packing:         0s\n"
    "Directory hint maximum entries:     16\n"
    "Container minimum size:             1016.0k\n"
    "Container maximum size:             1.0G\n";

class FilePoolCommandTest : public testing::SharedEtcdTest {
 protected:
  void SetUp() override {
    SharedEtcdTest::SetUp();
    static std::atomic<int> counter{0};
    cluster_ = "filepool-" + std::to_string(++counter);
    ClusterFile file;
    file.cluster = cluster_;
    std::string url = etcd_->client_url(0);
    file.etcd = {url.substr(url.find("//") + 2)};
    path_ = tmp_.path() + "/cluster.json";
    ASSERT_TRUE(SaveClusterFile(path_, file).ok());
  }
  // The raw text of a setting as stored, "" when absent.
  std::string Raw(const std::string& name) {
    auto kv = client_->Get("/tessera/" + cluster_ + "/config/" + name);
    return kv.ok() && kv->kv ? kv->kv->value : "";
  }
  std::string cluster_;
  testing::TempDir tmp_;
  std::string path_;
};

TEST_F(FilePoolCommandTest, PackingListsTheDefaults) {
  testing::CliRun run = RunTessera({"packing", "--ls", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, kDefaultListing);
  EXPECT_EQ(run.err, "");

  testing::CliRun bare = RunTessera({"packing", "--cluster", path_});
  EXPECT_EQ(bare.code, 2);
  EXPECT_NE(bare.err.find("give --ls"), std::string::npos) << bare.err;
}

TEST_F(FilePoolCommandTest, PackingSetWritesThroughTheConfigStore) {
  testing::CliRun run =
      RunTessera({"packing", "set", "--enabled=true", "--max-size=512K", "--min-age=1h",
                  "--dir-hint-max-entries", "32", "--container-max-size", "256M",
                  "--unpack-recently-modified=yes", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "Enabled:                            Yes\n"
            "Unpack recently modified:           Yes\n"
            "Maximum file size:                  512.0k\n"
            "Minimum age before packing:         1h\n"
            "Directory hint maximum entries:     32\n"
            "Container minimum size:             1016.0k\n"
            "Container maximum size:             256.0M\n");
  EXPECT_NE(run.err.find("tessera config apply"), std::string::npos);
  EXPECT_EQ(Raw("packing_enabled"), "true");
  EXPECT_EQ(Raw("packing_max_file_size"), "512K");
  EXPECT_EQ(Raw("packing_container_min_size"), "");  // not given: not written
  EXPECT_EQ(RunTessera({"packing", "--ls", "--cluster", path_}).out, run.out);

  // `packing --cluster F set` works too, and the config verbs see the same values.
  run = RunTessera({"packing", "--cluster", path_, "set", "--enabled", "false"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(Raw("packing_enabled"), "false");
}

TEST_F(FilePoolCommandTest, PackingSetRefusesBadValuesAndChangesNothing) {
  struct Bad {
    std::vector<std::string> args;
    const char* says;
  };
  const Bad cases[] = {
      {{"--max-size=12Q", "--enabled=true"},
       "tessera: --max-size: packing_max_file_size '12Q': not a size"},
      {{"--enabled=true", "--max-size=2G"}, "--max-size: packing_max_file_size '2G': must be "},
      // A packed file never spans two 32 MiB container chunks.
      {{"--max-size=33M"}, "--max-size: packing_max_file_size '33M': must be "},
      {{"--enabled=maybe"}, "--enabled: packing_enabled 'maybe': not a boolean"},
      {{"--min-age=-1"}, "--min-age: packing_min_age '-1'"},
      {{"--dir-hint-max-entries=0"}, "--dir-hint-max-entries: packing_dir_hint_max_entries '0'"},
      {{"--enabled=true", "--container-min-size=2M", "--container-max-size=1M"},
       "container minimum size 2.0M is larger than the container maximum size 1.0M"},
      {{"--container-max-size=512K"}, "container minimum size 1016.0k is larger than the"},
      {{"--container-min-size=64K", "--container-max-size=512K"},
       "maximum file size 1016.0k is larger than the container maximum size 512.0k"},
  };
  for (const Bad& bad : cases) {
    std::vector<std::string> args = {"packing", "set", "--cluster", path_};
    args.insert(args.end(), bad.args.begin(), bad.args.end());
    testing::CliRun run = RunTessera(args);
    EXPECT_EQ(run.code, 1) << bad.says;
    EXPECT_NE(run.err.find(bad.says), std::string::npos) << run.err;
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(Raw("packing_enabled"), "") << bad.says;
    EXPECT_EQ(Raw("packing_container_min_size"), "") << bad.says;
  }
  EXPECT_EQ(RunTessera({"packing", "set", "--cluster", path_}).code, 2);
  EXPECT_EQ(RunTessera({"packing", "--ls", "--cluster", path_}).out, kDefaultListing);
}

TEST_F(FilePoolCommandTest, PackingSetLowersBoundedSettingsTogether) {
  // Written one by one, the new maximum would be below the old minimum.
  testing::CliRun run =
      RunTessera({"packing", "set", "--cluster", path_, "--container-max-size=512K",
                  "--container-min-size=256K", "--max-size=128K"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(Raw("packing_container_max_size"), "512K");
  EXPECT_EQ(Raw("packing_container_min_size"), "256K");
  EXPECT_EQ(Raw("packing_max_file_size"), "128K");
}

TEST_F(FilePoolCommandTest, MissingClusterFileIsSaid) {
  testing::CliRun run = RunTessera({"packing", "--ls", "--cluster", tmp_.path() + "/none.json"});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("none.json"), std::string::npos) << run.err;
  run = RunTessera({"filepool", "policies", "list", "--cluster", tmp_.path() + "/none.json"});
  EXPECT_EQ(run.code, 1);
  EXPECT_NE(run.err.find("none.json"), std::string::npos) << run.err;
}

TEST_F(FilePoolCommandTest, PoliciesCreateViewListModifyDelete) {
  testing::CliRun run =
      RunTessera({"filepool", "policies", "create", "dicom", "--enable-packing=true", "--path",
                  "archive/dicom/", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  const std::string view =
      "                              Name: dicom\n"
      "                       Description: -\n"
      "                             State: OK\n"
      "                     State Details:\n"
      "                       Apply Order: 1\n"
      "             File Matching Pattern: Birth Time > 1D AND Path == archive/dicom/ "
      "(begins with)\n"
      "          Set Requested Protection: -\n"
      "               Data Access Pattern: -\n"
      "                  Enable Coalescer: -\n"
      "                    Enable Packing: Yes\n";
  EXPECT_EQ(run.out, view);
  run = RunTessera({"filepool", "policies", "view", "dicom", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, view);

  run = RunTessera({"filepool", "policies", "create", "first", "--enable-packing", "no", "--path",
                    "archive/", "--min-age", "0", "--max-size", "64K", "--description",
                    "keep it native", "--apply-order", "1", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("                 Maximum File Size: 64.0k\n"), std::string::npos);
  run = RunTessera({"filepool", "policies", "list", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "Name   Description     Apply Order  Enable Packing  Path\n"
            "------------------------------------------------------------------\n"
            "first  keep it native  1            No              archive/\n"
            "dicom  -               2            Yes             archive/dicom/\n"
            "------------------------------------------------------------------\n"
            "Total: 2\n");

  run = RunTessera({"filepool", "policies", "modify", "dicom", "--apply-order", "1", "--min-age=1h",
                    "--max-size=512K", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("Apply Order: 1\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Birth Time > 1H AND Path == archive/dicom/"), std::string::npos);
  EXPECT_NE(run.out.find("Maximum File Size: 512.0k\n"), std::string::npos);
  run = RunTessera({"filepool", "policies", "modify", "dicom", "--max-size", "default",
                    "--enable-packing=false", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out.find("Maximum File Size"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("Enable Packing: No\n"), std::string::npos);

  run = RunTessera({"filepool", "policies", "list", "--json", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  nlohmann::json list = nlohmann::json::parse(run.out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "dicom");
  EXPECT_EQ(list[0]["apply_order"], 1);
  EXPECT_EQ(list[0]["min_age_seconds"], 3600);
  EXPECT_FALSE(list[0].contains("max_size"));
  EXPECT_EQ(list[1]["name"], "first");
  EXPECT_EQ(list[1]["max_size"], 65536);

  run = RunTessera({"filepool", "policies", "delete", "dicom", "--cluster", path_});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "deleted file pool policy dicom\n");
  auto left = filepool::ListFilePoolPolicies(client_.get(), cluster_);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].policy.name, "first");
  EXPECT_EQ((*left)[0].policy.apply_order, 1);
}

TEST_F(FilePoolCommandTest, PolicyErrorsAreClear) {
  ASSERT_EQ(RunTessera({"filepool", "policies", "create", "dicom", "--enable-packing=true",
                        "--path", "archive/dicom/", "--cluster", path_})
                .code,
            0);
  struct Bad {
    std::vector<std::string> args;
    int code;
    const char* says;
  };
  const Bad cases[] = {
      {{"create", "dicom", "--enable-packing=true", "--path", "x/"},
       1,
       "tessera: file pool policy dicom already exists\n"},
      {{"create", "a b", "--enable-packing=true", "--path", "x/"}, 1, "policy name 'a b'"},
      {{"create", "other", "--enable-packing=true", "--path", "archive"},
       1,
       "path 'archive': must be <namespace>/<path prefix>"},
      {{"create", "other", "--enable-packing=true", "--path", "/ifs/data/"},
       1,
       "path '/ifs/data/'"},
      {{"create", "other", "--enable-packing=perhaps", "--path", "x/"},
       1,
       "--enable-packing 'perhaps': not a boolean"},
      {{"create", "other", "--enable-packing=true", "--path", "x/", "--min-age", "soon"},
       1,
       "--min-age 'soon': not a duration"},
      {{"create", "other", "--enable-packing=true", "--path", "x/", "--max-size", "2G"},
       1,
       "--max-size '2G': must be between"},
      {{"create", "other", "--enable-packing=true", "--path", "x/", "--max-size", "33M"},
       1,
       "--max-size '33M': must be between 1 and 32.0M"},
      {{"create", "other", "--enable-packing=true", "--path", "x/", "--apply-order", "3"},
       1,
       "apply order 3 is out of range: a new policy may go at 1..2"},
      {{"create", "other", "--enable-packing=true", "--path", "x/", "--apply-order", "x"}, 2, ""},
      {{"create", "other", "--path", "x/"}, 2, "--enable-packing"},
      {{"create", "other", "--enable-packing=true"}, 2, "--path"},
      {{"view", "nope"}, 1, "tessera: no file pool policy 'nope'\n"},
      {{"delete", "nope"}, 1, "tessera: no file pool policy 'nope'\n"},
      {{"modify", "nope", "--description", "x"}, 1, "tessera: no file pool policy 'nope'\n"},
      {{"modify", "dicom"}, 2, "give at least one option"},
      {{"modify", "dicom", "--apply-order", "2"}, 1, "apply order 2 is out of range"},
      {{"modify", "dicom", "--path", "a/../b/"}, 1, "path 'a/../b/'"},
      {{"modify", "dicom", "--description", "two\nlines"}, 1, "description must be"},
  };
  for (const Bad& bad : cases) {
    std::vector<std::string> args = {"filepool", "policies"};
    args.insert(args.end(), bad.args.begin(), bad.args.end());
    args.insert(args.end(), {"--cluster", path_});
    testing::CliRun run = RunTessera(args);
    EXPECT_EQ(run.code, bad.code) << bad.says << "\n" << run.err;
    EXPECT_NE(run.err.find(bad.says), std::string::npos) << run.err;
  }
  auto left = filepool::ListFilePoolPolicies(client_.get(), cluster_);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].policy.path_prefix, "archive/dicom/");
  EXPECT_EQ((*left)[0].policy.description, "");
}

}  // namespace
}  // namespace tessera::cluster::admin
