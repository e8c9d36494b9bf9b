// Clones and snapshots against a real `tessera node` process, through the
// CLI and the HTTP API: a clone shares its source's bytes and outlives it,
// a snapshot keeps the moment it was taken for clones made later, and the
// reserved namespaces and malformed requests are refused without changes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/units.h"
#include "tests/integration/test_files.h"
#include "tests/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {
namespace {

using nlohmann::json;

class CloneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<NodeProcess>(FourDriveNode(dir_.path()));
    ASSERT_TRUE(node_->Start()) << node_->ReadLog();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", node_->port());
    client_->set_read_timeout(60, 0);
  }
  CommandResult Tessera(std::vector<std::string> args) {
    args.insert(args.begin(), TesseraBinary());
    return RunCommand(args, {"TESSERA_NODE=" + node_->url()});
  }
  void Put(const std::string& name, const std::string& body) {
    auto res = PutFile(*client_, name, body);
    ASSERT_TRUE(StatusOf(res) == 201 || StatusOf(res) == 200) << name;
  }
  std::string Get(const std::string& name) {
    auto res = GetFile(*client_, name);
    return StatusOf(res) == 200 ? res->body : "HTTP " + std::to_string(StatusOf(res));
  }
  json Stat(const std::string& name) {
    auto res = client_->Get("/v1/stat/" + name);
    return StatusOf(res) == 200 ? json::parse(res->body) : json{};
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(CloneTest, ACloneSharesItsSourcesBytesAndOutlivesIt) {
  const std::string image = Content(6 * kMiB + 123, 1);
  Put("vm/base.img", image);
  CommandResult clone = Tessera({"clone", "vm/base.img", "vm/copy.img"});
  ASSERT_EQ(clone.exit_code, 0) << clone.output;
  EXPECT_NE(clone.output.find("cloned vm/base.img to vm/copy.img (6291579 bytes, shared)"),
            std::string::npos)
      << clone.output;
  json base = Stat("vm/base.img"), copy = Stat("vm/copy.img");
  ASSERT_TRUE(base.contains("container") && copy.contains("container")) << copy.dump();
  EXPECT_EQ(base["container"]["sin"], copy["container"]["sin"]);
  EXPECT_EQ(copy["container"]["clone"], true);
  EXPECT_EQ(copy["physical_bytes"], 0) << "the clone holds no bytes of its own";
  EXPECT_EQ(copy["sha256"], base["sha256"]);

  ASSERT_EQ(Tessera({"rm", "vm/base.img"}).exit_code, 0);
  EXPECT_EQ(Get("vm/copy.img"), image);
  auto range = client_->Get("/v1/files/vm/copy.img", {{"Range", "bytes=4194300-4194309"}});
  ASSERT_EQ(StatusOf(range), 206);
  EXPECT_EQ(range->body, image.substr(4194300, 10));

  // Writing a clone changes only the clone.
  ASSERT_EQ(Tessera({"clone", "vm/copy.img", "vm/second.img"}).exit_code, 0);
  Put("vm/copy.img", "new contents");
  EXPECT_EQ(Get("vm/second.img"), image);
  EXPECT_EQ(Get("vm/copy.img"), "new contents");
  // Survives a restart of the node.
  ASSERT_TRUE(node_->Restart()) << node_->ReadLog();
  EXPECT_EQ(Get("vm/second.img"), image);
}

TEST_F(CloneTest, SnapshotsKeepTheirMomentForClonesMadeLater) {
  const std::string disk = Content(3 * kMiB, 2), config = Content(5000, 3);
  Put("vm/disk", disk);
  Put("vm/config", config);
  CommandResult create = Tessera({"snapshot", "create", "nightly", "vm/disk", "vm/config"});
  ASSERT_EQ(create.exit_code, 0) << create.output;
  EXPECT_NE(create.output.find("snapshot nightly: 2 files"), std::string::npos) << create.output;

  Put("vm/disk", "changed after the snapshot");
  ASSERT_EQ(Tessera({"rm", "vm/config"}).exit_code, 0);

  CommandResult list = Tessera({"snapshot", "list"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.output.find("nightly"), std::string::npos) << list.output;
  CommandResult show = Tessera({"snapshot", "show", "nightly"});
  EXPECT_NE(show.output.find("vm/config  (clone from _snap/nightly/vm/config)"), std::string::npos)
      << show.output;
  ASSERT_EQ(Tessera({"clone", "_snap/nightly/vm/disk", "vm/disk-restored"}).exit_code, 0);
  ASSERT_EQ(Tessera({"clone", "_snap/nightly/vm/config", "vm/config"}).exit_code, 0);
  EXPECT_EQ(Get("vm/disk-restored"), disk);
  EXPECT_EQ(Get("vm/config"), config);

  EXPECT_NE(Tessera({"snapshot", "create", "nightly", "vm/disk"}).exit_code, 0)
      << "a name is taken once";

  // A member ending in '/' is every file under it.
  Put("vm/tree/a", "first");
  Put("vm/tree/sub/b", "second");
  Put("vm/treetop", "not under vm/tree/");
  CommandResult tree = Tessera({"snapshot", "create", "tree", "vm/tree/", "vm/disk"});
  ASSERT_EQ(tree.exit_code, 0) << tree.output;
  EXPECT_NE(tree.output.find("snapshot tree: 3 files"), std::string::npos) << tree.output;
  ASSERT_EQ(Tessera({"rm", "vm/tree/sub/b"}).exit_code, 0);
  ASSERT_EQ(Tessera({"clone", "_snap/tree/vm/tree/sub/b", "vm/b-restored"}).exit_code, 0);
  EXPECT_EQ(Get("vm/b-restored"), "second");
  EXPECT_NE(Tessera({"clone", "_snap/tree/vm/treetop", "vm/x"}).exit_code, 0);
  CommandResult empty = Tessera({"snapshot", "create", "none", "vm/nothing-here/"});
  EXPECT_EQ(empty.exit_code, 1) << empty.output;
  EXPECT_NE(empty.output.find("no file under vm/nothing-here/ to snapshot"), std::string::npos)
      << empty.output;
  ASSERT_EQ(Tessera({"snapshot", "delete", "nightly"}).exit_code, 0);
  EXPECT_EQ(Get("vm/disk-restored"), disk) << "a clone outlives its snapshot";
  CommandResult gone = Tessera({"snapshot", "show", "nightly"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.output.find("no snapshot 'nightly'"), std::string::npos) << gone.output;
}

TEST_F(CloneTest, ReservedNamespacesAndBadRequestsChangeNothing) {
  Put("vm/a", "aaaa");
  ASSERT_EQ(Tessera({"snapshot", "create", "s1", "vm/a"}).exit_code, 0);
  EXPECT_EQ(StatusOf(PutFile(*client_, "_snap/s1/vm/a", "x")), 403);
  EXPECT_EQ(StatusOf(client_->Delete("/v1/files/_snap/s1/vm/a")), 403);
  EXPECT_EQ(Get("_snap/s1/vm/a"), "aaaa");

  for (const std::string& body :
       {std::string("not json"), std::string("[]"), std::string(R"({"from": "vm/a"})"),
        std::string(R"({"from": "vm", "to": "vm/b"})"),
        std::string(R"({"from": "vm/a", "to": "_snap/x/y"})"),
        std::string(R"({"from": "_sstore/0000000000000001/0000", "to": "vm/b"})"),
        std::string(R"({"from": 7, "to": "vm/b"})")}) {
    auto res = client_->Post("/v1/clone", body, "application/json");
    EXPECT_EQ(StatusOf(res), 400) << body << " -> " << (res ? res->body : "");
  }
  EXPECT_EQ(StatusOf(client_->Post("/v1/clone", R"({"from": "vm/none", "to": "vm/b"})",
                                   "application/json")),
            404);
  for (const std::string& body :
       {std::string(R"({"name": "bad name", "files": ["vm/a"]})"),
        std::string(R"({"name": "s2", "files": []})"), std::string(R"({"name": "s2"})"),
        std::string(R"({"name": "s2", "files": ["vm/a", "vm/a"]})"),
        std::string(R"({"name": "s2", "files": ["novalidpath"]})")}) {
    auto res = client_->Post("/v1/snapshots", body, "application/json");
    EXPECT_EQ(StatusOf(res), 400) << body << " -> " << (res ? res->body : "");
  }
  EXPECT_EQ(StatusOf(client_->Get("/v1/files/vm/b")), 404) << "no failed clone left a file";
  auto list = client_->Get("/v1/snapshots");
  ASSERT_EQ(StatusOf(list), 200);
  EXPECT_EQ(json::parse(list->body)["snapshots"].size(), 1u);
  EXPECT_EQ(StatusOf(client_->Delete("/v1/snapshots/none")), 404);
}

}  // namespace
}  // namespace tessera::testing
