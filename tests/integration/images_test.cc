// `tessera images` end to end: a real etcd, a real cluster node, the real
// image service process, driven by the real `glance` CLI
// (python3-glanceclient) and, for what the CLI cannot send, raw HTTP.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "common/sha256.h"
#include "images/cluster_store.h"
#include "images/image_digest.h"
#include "tests/integration/images_test_util.h"
#include "tests/integration/test_files.h"
#include "tests/support/cli_run.h"
#include "tests/support/etcd_process.h"
#include "tests/support/images_process.h"
#include "tests/support/node_process.h"
#include "tests/support/raw_http.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kNamespace = "_images";
constexpr const char* kPatchV21 = "application/openstack-images-v2.1-json-patch";

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

class ImagesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists("/usr/bin/glance")) {
      GTEST_FAIL() << "the glance CLI is missing: run scripts/install-deps (python3-glanceclient)";
    }
  }

  void SetUp() override {
    etcd_ = std::make_unique<EtcdCluster>(dir_.Sub("etcd"), 1);
    std::string why;
    ASSERT_TRUE(etcd_->Start(&why)) << why;
    node_ =
        std::make_unique<NodeProcess>(ClusterNode(dir_.Sub("node1"), etcd_->ConfigUri("img"), 4));
    ASSERT_TRUE(node_->Start(&why)) << why << "\n" << node_->ReadLog();
    ASSERT_TRUE(WaitFor(
        [&] {
          httplib::Client c("127.0.0.1", node_->port());
          auto r = c.Get("/v1/cluster/view");
          return r && r->status == 200 && json::parse(r->body).value("writable", false);
        },
        20s))
        << node_->ReadLog();
    images_ = StartImages({"--upload-lease", "2"});
    home_ = dir_.Sub("home");
    fs::create_directories(home_);
  }

  std::unique_ptr<ImagesProcess> StartImages(std::vector<std::string> extra) {
    auto p =
        std::make_unique<ImagesProcess>(node_->url(), dir_.Sub("images.log"), std::move(extra));
    std::string why;
    EXPECT_TRUE(p->Start(&why)) << why;
    return p;
  }

  // `glance --os-image-url URL --os-auth-token x ARGS`, with a private HOME:
  // the client caches the server's schema under ~/.glanceclient.
  CommandResult Glance(std::vector<std::string> args, const std::string& token = "x",
                       const std::string& url = "") {
    std::vector<std::string> argv = {"glance", "--os-image-url", url.empty() ? images_->url() : url,
                                     "--os-auth-token", token};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, {"HOME=" + home_, "OS_AUTH_URL=", "OS_IMAGE_IMPORT_METHOD="});
  }

  // The same through a pseudo-terminal: image-create-via-import refuses to
  // run when stdin is not a terminal ("cannot pass data via stdin").
  CommandResult GlanceWithTty(const std::vector<std::string>& args) {
    std::string command = "glance --os-image-url " + images_->url() + " --os-auth-token x";
    for (const std::string& a : args) command += " '" + a + "'";
    return RunCommand({"script", "-qec", command, "/dev/null"},
                      {"HOME=" + home_, "OS_AUTH_URL=", "OS_IMAGE_IMPORT_METHOD="});
  }

  // Creates an image with `content` through `glance image-create --file`.
  std::string CreateWithFile(const std::string& name, const std::string& content) {
    std::string path = dir_.Sub(name + ".in");
    WriteFile(path, content);
    CommandResult r = Glance({"image-create", "--name", name, "--disk-format", "raw",
                              "--container-format", "bare", "--file", path});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(Field(r.output, "status"), "active") << r.output;
    return Field(r.output, "id");
  }

  httplib::Client Api() {
    httplib::Client c("127.0.0.1", images_->port());
    c.set_read_timeout(60, 0);
    return c;
  }

  json Show(const std::string& id) {
    httplib::Client c = Api();
    auto r = c.Get("/v2/images/" + id);
    if (!r || r->status != 200) return json();
    return json::parse(r->body);
  }

  // Files the node holds under data/<id>/ for this image.
  size_t DataFiles(const std::string& id) {
    httplib::Client c("127.0.0.1", node_->port());
    auto r = c.Get(std::string("/v1/files/") + kNamespace + "/?prefix=data/" + id + "/");
    if (!r || r->status != 200) return r && r->status == 404 ? 0 : 999;
    return json::parse(r->body)["files"].size();
  }

  std::string PostImage(const json& body, int expect = 201) {
    httplib::Client c = Api();
    auto r = c.Post("/v2/images", body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, expect) << r->body;
    return r->status == 201 ? json::parse(r->body)["id"].get<std::string>() : "";
  }

  TempDir dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::unique_ptr<NodeProcess> node_;
  std::unique_ptr<ImagesProcess> images_;
  std::string home_;
};

TEST_F(ImagesTest, CreateWithFileShowAndDownloadVerified) {
  for (size_t size : {size_t{0}, size_t{1} << 20}) {
    std::string content = Content(size, size + 1);
    std::string name = "img-" + std::to_string(size);
    std::string id = CreateWithFile(name, content);
    ASSERT_FALSE(id.empty());

    CommandResult show = Glance({"image-show", id});
    ASSERT_EQ(show.exit_code, 0) << show.output;
    EXPECT_EQ(Field(show.output, "size"), std::to_string(size));
    EXPECT_EQ(Field(show.output, "os_hash_algo"), "sha512");
    EXPECT_EQ(Field(show.output, "disk_format"), "raw");
    EXPECT_EQ(Field(show.output, "name"), name);
    std::string md5 = Field(show.output, "checksum");
    EXPECT_EQ(md5.size(), 32u) << show.output;

    // The client checks the download against os_hash_value (sha512).
    std::string out = dir_.Sub(name + ".out");
    CommandResult download = Glance({"image-download", "--file", out, id});
    ASSERT_EQ(download.exit_code, 0) << download.output;
    EXPECT_TRUE(ReadFileOrEmpty(out) == content) << "size " << size;

    httplib::Client c = Api();
    auto r = c.Get("/v2/images/" + id + "/file");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(size));
    EXPECT_EQ(r->get_header_value("Content-MD5"), md5);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/octet-stream");
  }
}

// Content-Length uploads stream as chunked ones do, whatever their size,
// and the checksums are those of the bytes sent.
TEST_F(ImagesTest, ContentLengthUploadOfEightyMib) {
  std::string id =
      PostImage({{"name", "sized"}, {"disk_format", "raw"}, {"container_format", "bare"}});
  constexpr size_t kMib = 80;
  images::ImageDigest digest;
  std::vector<std::string> pieces;
  for (size_t i = 0; i < kMib; ++i) {
    pieces.push_back(Content(1 << 20, 100 + i));
    digest.Update(pieces.back().data(), pieces.back().size());
  }
  std::string md5, sha512;
  digest.Finish(&md5, &sha512);
  httplib::Client c = Api();
  auto r = c.Put(
      "/v2/images/" + id + "/file", kMib << 20,
      [&](size_t offset, size_t, httplib::DataSink& sink) {
        const std::string& piece = pieces[offset >> 20];
        return sink.write(piece.data() + (offset & ((1 << 20) - 1)),
                          piece.size() - (offset & ((1 << 20) - 1)));
      },
      "application/octet-stream");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 204) << r->body << images_->ReadLog();
  json image = Show(id);
  EXPECT_EQ(image["status"], "active");
  EXPECT_EQ(image["size"], kMib << 20);
  EXPECT_EQ(image["checksum"], md5);
  EXPECT_EQ(image["os_hash_value"], sha512);

  std::string empty =
      PostImage({{"name", "empty"}, {"disk_format", "raw"}, {"container_format", "bare"}});
  auto zero = c.Put("/v2/images/" + empty + "/file", "", "application/octet-stream");
  ASSERT_TRUE(zero);
  ASSERT_EQ(zero->status, 204) << zero->body;
  EXPECT_EQ(Show(empty)["size"], 0);
  EXPECT_EQ(Show(empty)["checksum"], "d41d8cd98f00b204e9800998ecf8427e");
}

TEST_F(ImagesTest, RangeRequests) {
  std::string content = Content(300 * 1024, 9);
  std::string id = CreateWithFile("ranged", content);
  httplib::Client c = Api();
  auto r = c.Get("/v2/images/" + id + "/file", {{"Range", "bytes=1000-1999"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, content.substr(1000, 1000));
  EXPECT_EQ(r->get_header_value("Content-Range"),
            "bytes 1000-1999/" + std::to_string(content.size()));
  r = c.Get("/v2/images/" + id + "/file", {{"Range", "bytes=-10"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, content.substr(content.size() - 10));
  r = c.Get("/v2/images/" + id + "/file", {{"Range", "bytes=999999999-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes */" + std::to_string(content.size()));
  EXPECT_EQ(r->get_header_value_count("Content-Range"), 1u);
  // A range past the end is cut at the end, at once (it once stalled 15 s
  // retrying the node's refusal and then sent nothing).
  auto asked = std::chrono::steady_clock::now();
  r = c.Get("/v2/images/" + id + "/file", {{"Range", "bytes=300000-999999999"}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(
      r->get_header_value("Content-Range"),
      "bytes 300000-" + std::to_string(content.size() - 1) + "/" + std::to_string(content.size()));
  EXPECT_TRUE(r->body == content.substr(300000));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(5));
  // Errors are never cut to the Range: their JSON, or the HTML page Glance
  // gives clients that do not ask for JSON, arrives whole.
  const std::vector<std::string> paths = {"/v2/images/" + id + "/file",
                                          "/v2/images/00000000-0000-4000-8000-000000000000/file",
                                          "/v2/no-such-route"};
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    const char* range = path.find(id) != std::string::npos ? "bytes=999999999-" : "bytes=0-5";
    r = c.Get(path, {{"Range", range}, {"Accept", "application/json"}});
    ASSERT_TRUE(r);
    EXPECT_GE(r->status, 400);
    EXPECT_LE(r->get_header_value_count("Content-Range"), 1u);
    json error = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(error.is_discarded()) << r->body;
    EXPECT_EQ(error["error"].value("code", 0), r->status) << r->body;
    r = c.Get(path, {{"Range", range}});
    ASSERT_TRUE(r);
    EXPECT_NE(r->body.find("<title>" + std::to_string(r->status)), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("</html>"), std::string::npos) << r->body;
  }
}

// An image can be a copy-on-write clone of another image or of any file in
// the cluster: it shares the stored bytes, and deleting the source never
// breaks it.
TEST_F(ImagesTest, CloneActionFromAnImageOrAClusterFile) {
  const std::string content = Content(3 * 1024 * 1024 + 7, 21);
  const std::string source = CreateWithFile("golden", content);
  const json golden = Show(source);
  const json queued = {{"name", "clone"}, {"disk_format", "raw"}, {"container_format", "bare"}};
  const std::string id = PostImage(queued);
  httplib::Client c = Api();
  auto r = c.Post("/v2/images/" + id + "/actions/clone", json{{"source_image", source}}.dump(),
                  "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 204) << r->body;
  json clone = Show(id);
  EXPECT_EQ(clone["status"], "active");
  EXPECT_EQ(clone["size"], content.size());
  EXPECT_EQ(clone["checksum"], golden["checksum"]);
  EXPECT_EQ(clone["os_hash_value"], golden["os_hash_value"]);
  EXPECT_EQ(clone["tessera_clone_of"], "image " + source);
  // Deleting the source never breaks the clone; the client checks the md5.
  ASSERT_EQ(Glance({"image-delete", source}).exit_code, 0);
  const std::string out = dir_.Sub("clone.out");
  CommandResult download = Glance({"image-download", "--file", out, id});
  ASSERT_EQ(download.exit_code, 0) << download.output;
  std::ifstream in(out, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), content);

  // From a file written through the node API: digests computed on the way.
  httplib::Client node("127.0.0.1", node_->port());
  const std::string file = Content(200000, 22);
  ASSERT_EQ(StatusOf(PutFile(node, "vm/disk.raw", file)), 201);
  const std::string from_file = PostImage(queued);
  r = c.Post("/v2/images/" + from_file + "/actions/clone",
             json{{"source_file", "vm/disk.raw"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 204) << r->body;
  images::ImageDigest expected;
  expected.Update(file.data(), file.size());
  std::string md5, sha512;
  expected.Finish(&md5, &sha512);
  EXPECT_EQ(Show(from_file)["checksum"], md5);
  EXPECT_EQ(Show(from_file)["os_hash_value"], sha512);
  r = c.Get("/v2/images/" + from_file + "/file");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, file);

  // Refused: a target that is not queued, a missing source, a bad body.
  r = c.Post("/v2/images/" + id + "/actions/clone", json{{"source_file", "vm/disk.raw"}}.dump(),
             "application/json");
  EXPECT_EQ(r->status, 409) << r->body;
  const std::string third = PostImage(queued);
  r = c.Post("/v2/images/" + third + "/actions/clone", json{{"source_file", "vm/none"}}.dump(),
             "application/json");
  EXPECT_EQ(r->status, 404) << r->body;
  EXPECT_EQ(Show(third)["status"], "queued") << "a failed clone leaves the image queued";
  EXPECT_EQ(DataFiles(third), 0u);
  for (const std::string& bad :
       {std::string("{}"), std::string("[1]"), std::string(R"({"source_image": 7})"),
        std::string(R"({"source_image": "a", "source_file": "b/c"})")}) {
    r = c.Post("/v2/images/" + third + "/actions/clone", bad, "application/json");
    EXPECT_EQ(r->status, 400) << bad << " -> " << r->body;
  }
}

// The image service's record writes are compare-and-swaps on the content
// they read (If-Match), so two services never lose each other's change.
TEST_F(ImagesTest, RecordWritesReplaceOnlyTheContentTheyRead) {
  images::ClusterStore store([&]() -> Result<std::string> { return node_->url(); }, kNamespace);
  ASSERT_TRUE(store.Write("cas/record.json", R"({"v":1})").ok());
  const std::string read = *store.Read("cas/record.json");
  ASSERT_TRUE(store.Write("cas/record.json", R"({"v":2})", Sha256::Hex(read)).ok());
  Status stale = store.Write("cas/record.json", R"({"v":"lost"})", Sha256::Hex(read));
  EXPECT_EQ(stale.code(), StatusCode::kConditionFailed) << stale.ToString();
  EXPECT_EQ(*store.Read("cas/record.json"), R"({"v":2})");
  EXPECT_EQ(store.Write("cas/absent.json", "{}", Sha256::Hex("{}")).code(),
            StatusCode::kConditionFailed);
  EXPECT_EQ(store.Read("cas/absent.json").status().code(), StatusCode::kNotFound);

  // Through the service: a record never shows the bookkeeping of the read.
  const std::string id = PostImage({{"name", "cas"}});
  httplib::Client c = Api();
  auto patched =
      c.Patch("/v2/images/" + id, R"([{"op": "add", "path": "/p", "value": "1"}])", kPatchV21);
  ASSERT_EQ(patched->status, 200) << patched->body;
  EXPECT_EQ(Show(id)["p"], "1");
  const std::string stored = *store.Read("images/" + id + ".json");
  EXPECT_EQ(stored.find("loaded_from"), std::string::npos) << stored;
}

// Two images snapshotted together with `tessera snapshot create`, deleted,
// then brought back as new images from the snapshot.
TEST_F(ImagesTest, CloneActionFromAnImageInASnapshot) {
  const std::string disk = Content(2 * 1024 * 1024 + 3, 31), kernel = Content(70000, 32);
  const std::string disk_id = CreateWithFile("disk", disk);
  const std::string kernel_id = CreateWithFile("kernel", kernel);
  const json disk_record = Show(disk_id);
  CommandResult snap = RunCommand({TesseraBinary(), "snapshot", "create", "release-1",
                                   std::string(kNamespace) + "/data/" + disk_id + "/",
                                   std::string(kNamespace) + "/data/" + kernel_id + "/"},
                                  {"TESSERA_NODE=" + node_->url()});
  ASSERT_EQ(snap.exit_code, 0) << snap.output;
  EXPECT_NE(snap.output.find("snapshot release-1: 2 files"), std::string::npos) << snap.output;
  ASSERT_EQ(Glance({"image-delete", disk_id}).exit_code, 0);
  ASSERT_EQ(Glance({"image-delete", kernel_id}).exit_code, 0);

  const json queued = {{"name", "restored"}, {"disk_format", "raw"}, {"container_format", "bare"}};
  httplib::Client c = Api();
  for (const auto& [id, content] : {std::pair{disk_id, disk}, std::pair{kernel_id, kernel}}) {
    const std::string restored = PostImage(queued);
    auto r = c.Post("/v2/images/" + restored + "/actions/clone",
                    json{{"source_image", id}, {"source_snapshot", "release-1"}}.dump(),
                    "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 204) << r->body;
    const json record = Show(restored);
    EXPECT_EQ(record["status"], "active");
    EXPECT_EQ(record["size"], content.size());
    EXPECT_EQ(record["tessera_clone_of"], "image " + id + " in snapshot release-1");
    if (id == disk_id) {
      EXPECT_EQ(record["os_hash_value"], disk_record["os_hash_value"]);
    }
    const std::string out = dir_.Sub(restored + ".out");
    CommandResult download = Glance({"image-download", "--file", out, restored});
    ASSERT_EQ(download.exit_code, 0) << download.output;
    std::ifstream in(out, std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), content);
  }

  // A snapshot without that image, or a body that names no image: refused,
  // and the target stays queued with no data.
  const std::string target = PostImage(queued);
  const std::string other = PostImage(queued);
  auto r = c.Post("/v2/images/" + target + "/actions/clone",
                  json{{"source_image", other}, {"source_snapshot", "release-1"}}.dump(),
                  "application/json");
  EXPECT_EQ(r->status, 404) << r->body;
  for (const json& bad : {json{{"source_snapshot", "release-1"}},
                          json{{"source_file", "x/y"}, {"source_snapshot", "release-1"}},
                          json{{"source_image", disk_id}, {"source_snapshot", "../release-1"}},
                          json{{"source_image", "not-a-uuid"}, {"source_snapshot", "release-1"}},
                          json{{"source_image", disk_id}, {"source_snapshot", 1}}}) {
    r = c.Post("/v2/images/" + target + "/actions/clone", bad.dump(), "application/json");
    EXPECT_EQ(r->status, 400) << bad.dump() << " -> " << r->body;
  }
  EXPECT_EQ(Show(target)["status"], "queued");
  EXPECT_EQ(DataFiles(target), 0u);
}

TEST_F(ImagesTest, ListPagesPastTwoHundredImages) {
  constexpr int kImages = 205;
  std::set<std::string> created;
  for (int i = 0; i < kImages; ++i) {
    json tags = i % 50 == 0 ? json::array({"fifty"}) : json::array();
    created.insert(PostImage({{"name", "bulk-" + std::to_string(1000 + i)},
                              {"tags", tags},
                              {"disk_format", "raw"},
                              {"container_format", "bare"}}));
  }
  // The CLI pages 20 at a time, following `next`.
  CommandResult list = Glance({"image-list"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  std::set<std::string> listed;
  std::regex id_re("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  for (auto it = std::sregex_iterator(list.output.begin(), list.output.end(), id_re);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(listed.insert(it->str()).second) << "listed twice: " << it->str();
  }
  EXPECT_EQ(listed, created);

  CommandResult sorted = Glance({"image-list", "--page-size", "50", "--sort-key", "name",
                                 "--sort-dir", "asc", "--limit", "3"});
  ASSERT_EQ(sorted.exit_code, 0) << sorted.output;
  size_t a = sorted.output.find("bulk-1000"), b = sorted.output.find("bulk-1001"),
         c = sorted.output.find("bulk-1002");
  EXPECT_TRUE(a != std::string::npos && b != std::string::npos && c != std::string::npos && a < b &&
              b < c)
      << sorted.output;
  EXPECT_EQ(sorted.output.find("bulk-1003"), std::string::npos) << sorted.output;

  CommandResult tagged = Glance({"image-list", "--tag", "fifty"});
  ASSERT_EQ(tagged.exit_code, 0) << tagged.output;
  EXPECT_EQ(std::distance(std::sregex_iterator(tagged.output.begin(), tagged.output.end(), id_re),
                          std::sregex_iterator()),
            5);

  // Raw paging: `next` links carry the marker and the other parameters.
  httplib::Client api = Api();
  std::string next = "/v2/images?limit=100&sort=name:desc";
  std::vector<std::string> names;
  while (!next.empty()) {
    auto r = api.Get(next);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json page = json::parse(r->body);
    for (const json& image : page["images"]) names.push_back(image["name"]);
    next = page.value("next", "");
  }
  ASSERT_EQ(names.size(), static_cast<size_t>(kImages));
  EXPECT_TRUE(std::is_sorted(names.rbegin(), names.rend()));
  auto bad = api.Get("/v2/images?sort_key=checksum");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(ImagesTest, UpdatePropertiesAndTags) {
  std::string id = CreateWithFile("props", Content(4096, 1));
  CommandResult update =
      Glance({"image-update", "--property", "os_distro=debian", "--property", "hw_disk_bus=virtio",
              "--name", "renamed", "--min-ram", "512", id});
  ASSERT_EQ(update.exit_code, 0) << update.output;
  EXPECT_EQ(Field(update.output, "os_distro"), "debian");
  EXPECT_EQ(Field(update.output, "hw_disk_bus"), "virtio");
  EXPECT_EQ(Field(update.output, "name"), "renamed");
  EXPECT_EQ(Field(update.output, "min_ram"), "512");

  CommandResult removed = Glance({"image-update", "--remove-property", "hw_disk_bus", id});
  ASSERT_EQ(removed.exit_code, 0) << removed.output;
  EXPECT_FALSE(Show(id).contains("hw_disk_bus"));

  ASSERT_EQ(Glance({"image-tag-update", id, "golden"}).exit_code, 0);
  ASSERT_EQ(Glance({"image-tag-update", id, "linux"}).exit_code, 0);
  EXPECT_EQ(Show(id)["tags"], json({"golden", "linux"}));
  CommandResult del = Glance({"image-tag-delete", id, "golden"});
  ASSERT_EQ(del.exit_code, 0) << del.output;
  EXPECT_EQ(Show(id)["tags"], json({"linux"}));
  CommandResult missing = Glance({"image-tag-delete", id, "golden"});
  EXPECT_NE(missing.exit_code, 0) << missing.output;
  EXPECT_NE(missing.output.find("404 Not Found: Tag golden not found"), std::string::npos)
      << missing.output;
}

TEST_F(ImagesTest, DeactivateReactivateAndProtectedDelete) {
  std::string content = Content(70000, 2);
  std::string id = CreateWithFile("lifecycle", content);
  ASSERT_EQ(Glance({"image-deactivate", id}).exit_code, 0);
  EXPECT_EQ(Show(id)["status"], "deactivated");
  CommandResult blocked = Glance({"image-download", "--file", dir_.Sub("x.out"), id});
  EXPECT_NE(blocked.exit_code, 0) << blocked.output;
  EXPECT_NE(blocked.output.find("403 Forbidden"), std::string::npos) << blocked.output;
  ASSERT_EQ(Glance({"image-reactivate", id}).exit_code, 0);
  EXPECT_EQ(Show(id)["status"], "active");
  ASSERT_EQ(Glance({"image-download", "--file", dir_.Sub("y.out"), id}).exit_code, 0);
  EXPECT_TRUE(ReadFileOrEmpty(dir_.Sub("y.out")) == content);

  ASSERT_EQ(Glance({"image-update", "--protected", "True", id}).exit_code, 0);
  CommandResult refused = Glance({"image-delete", id});
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_NE(refused.output.find("not permitted to delete"), std::string::npos) << refused.output;
  EXPECT_EQ(Show(id)["status"], "active");
  ASSERT_EQ(Glance({"image-update", "--protected", "False", id}).exit_code, 0);
  EXPECT_EQ(DataFiles(id), 1u);
  CommandResult deleted = Glance({"image-delete", id});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  CommandResult gone = Glance({"image-show", id});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.output.find("No image found with ID"), std::string::npos) << gone.output;
  EXPECT_EQ(DataFiles(id), 0u) << "deleting an image deletes its bytes";

  std::string queued = PostImage({{"name", "q"}});
  httplib::Client c = Api();
  auto act = c.Post("/v2/images/" + queued + "/actions/deactivate", "", "application/json");
  ASSERT_TRUE(act);
  EXPECT_EQ(act->status, 403) << "only an active image can be deactivated";
}

// Image records are files in the cluster: one that holds garbage is a 500
// naming it, the listing skips it (logged once), DELETE removes it unless it
// still says it is protected, and neither the startup sweep nor the other
// images suffer.
TEST_F(ImagesTest, ACorruptStoredRecordIsAnErrorNamingItAndNothingElse) {
  const std::string good = CreateWithFile("good", "good bytes");
  httplib::Client node("127.0.0.1", node_->port());
  const std::string array = "0c6f5a4e-3d2b-4a1c-9e8f-7a6b5c4d3e2f";
  const std::string wrong_types = "1d7a6b5c-4e3f-4b2a-8c9d-0e1f2a3b4c5d";
  const std::string ns = kNamespace;
  ASSERT_EQ(StatusOf(PutFile(node, ns + "/images/" + array + ".json", "[1, 2]")), 201);
  ASSERT_EQ(StatusOf(PutFile(node, ns + "/images/" + wrong_types + ".json",
                             R"({"id": 5, "status": "active", "size": "big"})")),
            201);
  // Bytes under data/<id>/ make the startup sweep read both records.
  ASSERT_EQ(StatusOf(PutFile(node, ns + "/data/" + array + "/blob", "x")), 201);
  ASSERT_EQ(StatusOf(PutFile(node, ns + "/data/" + wrong_types + "/blob", "x")), 201);
  images_->Kill();
  images_ = StartImages({});
  std::this_thread::sleep_for(1s);  // the sweep runs beside the first requests
  ASSERT_TRUE(images_->Alive()) << images_->ReadLog();

  httplib::Client c = Api();
  for (const std::string& id : {array, wrong_types}) {
    auto r = c.Get("/v2/images/" + id);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500) << r->body;
    EXPECT_NE(r->body.find("image record " + id + " is unreadable"), std::string::npos) << r->body;
  }
  EXPECT_EQ(Show(good).value("status", ""), "active");
  EXPECT_EQ(DataFiles(array), 1u) << "bytes of an unreadable record are kept";
  const std::string kept = "image " + array + ": keeping its bytes: image record " + array;
  EXPECT_TRUE(WaitFor([&] { return images_->ReadLog().find(kept) != std::string::npos; }, 10s))
      << images_->ReadLog();

  const std::string protected_damaged = "2e8b7c6d-5f4a-4c3b-9d0e-1f2a3b4c5d6e";
  ASSERT_EQ(StatusOf(PutFile(node, ns + "/images/" + protected_damaged + ".json",
                             R"({"id": "x", "protected": true})")),
            201);
  for (int listing = 0; listing < 2; ++listing) {
    auto list = c.Get("/v2/images");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->status, 200) << list->body;
    const json page = json::parse(list->body);
    std::vector<std::string> ids;
    for (const json& image : page["images"]) ids.push_back(image["id"]);
    EXPECT_EQ(ids, std::vector<std::string>{good}) << list->body;
  }
  const std::string log = images_->ReadLog();
  const std::string skipped = "image listing skips " + array + ": image record " + array;
  EXPECT_NE(log.find(skipped), std::string::npos) << log;
  EXPECT_EQ(log.find(skipped), log.rfind(skipped)) << "logged once, not per listing";

  auto refused = c.Delete("/v2/images/" + protected_damaged);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;
  for (const std::string& id : {array, wrong_types}) {
    auto deleted = c.Delete("/v2/images/" + id);
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->status, 204) << deleted->body;
    auto gone = c.Get("/v2/images/" + id);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->status, 404) << gone->body;
    EXPECT_EQ(DataFiles(id), 0u) << "deleting a damaged record deletes its bytes";
  }
  EXPECT_EQ(Show(good).value("status", ""), "active");
  EXPECT_TRUE(images_->Alive()) << images_->ReadLog();
}

// Requests that could hurt the service or mislead its clients are refused
// before anything changes: oversized or unmeasured JSON bodies, a
// web-download uri that is no http URL, a clone of the service's own
// records, properties only the service sets. Errors carry a length, so a
// keep-alive client is not left waiting for the connection to close.
TEST_F(ImagesTest, HostileRequestsAreRefusedUpFrontAndChangeNothing) {
  httplib::Client c = Api();
  auto started = std::chrono::steady_clock::now();
  auto missing = c.Get("/v2/nonexistent", {{"Accept", "application/json"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_FALSE(missing->get_header_value("Content-Length").empty());
  auto again = c.Get("/v2/nonexistent", {{"Accept", "application/json"}});  // same connection
  ASSERT_TRUE(again);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "an error body without a length";

  auto images_now = [&] {
    auto r = c.Get("/v2/images");
    return r && r->status == 200 ? json::parse(r->body)["images"].size() : size_t{999};
  };
  const size_t images_before = images_now();
  json huge = {{"name", "big"}, {"description", std::string(200 * 1024, 'x')}};
  auto too_big = c.Post("/v2/images", huge.dump(), "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413) << too_big->body;
  std::string chunked = RawRequest(images_->port(),
                                   "POST /v2/images HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Type: application/json\r\nAccept: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                   "2\r\n{}\r\n0\r\n\r\n",
                                   0);
  EXPECT_EQ(chunked.rfind("HTTP/1.1 411", 0), 0u) << chunked;
  EXPECT_EQ(images_now(), images_before) << "no image was created";

  std::string queued =
      PostImage({{"name", "q"}, {"disk_format", "raw"}, {"container_format", "bare"}});
  for (const json& uri : {json(5), json("ftp://host/x"), json("http://"), json("http://[::1"),
                          json("http://a b/x"), json("http://host:99999/x")}) {
    SCOPED_TRACE(uri.dump());
    json body = {{"method", {{"name", "web-download"}, {"uri", uri}}}};
    auto r = c.Post("/v2/images/" + queued + "/import", body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_EQ(Show(queued)["status"], "queued");
  }

  std::string other = CreateWithFile("other", "other bytes");
  json clone = {{"source_file", std::string(kNamespace) + "/images/" + other + ".json"}};
  auto leak = c.Post("/v2/images/" + queued + "/actions/clone", clone.dump(), "application/json");
  ASSERT_TRUE(leak);
  EXPECT_EQ(leak->status, 403) << leak->body;
  EXPECT_EQ(Show(queued)["status"], "queued");

  for (const char* property : {"/tessera_clone_of", "/tessera_import_bytes"}) {
    json patch = json::array({{{"op", "add"}, {"path", property}, {"value", "forged"}}});
    auto r = c.Patch("/v2/images/" + other, patch.dump(), kPatchV21);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << property << ": " << r->body;
  }
  EXPECT_FALSE(Show(other).contains("tessera_clone_of"));
}

// Two services given the same client-chosen id at the same moment: one
// creates the image, the other answers 409, and the stored image is the one
// whose creation was acknowledged.
TEST_F(ImagesTest, TwoServicesNeverBothCreateOneId) {
  std::unique_ptr<ImagesProcess> second = StartImages({});
  for (int round = 0; round < 10; ++round) {
    char id[40];
    std::snprintf(id, sizeof(id), "5e1f0c2a-9b3d-4e7f-8a6b-%012d", round);
    int statuses[2] = {0, 0};
    std::thread racers[2];
    for (int i = 0; i < 2; ++i) {
      racers[i] = std::thread([&, i] {
        httplib::Client c("127.0.0.1", i == 0 ? images_->port() : second->port());
        json body = {{"id", id}, {"name", "from service " + std::to_string(i)}};
        auto r = c.Post("/v2/images", body.dump(), "application/json");
        statuses[i] = r ? r->status : -1;
      });
    }
    for (std::thread& t : racers) t.join();
    SCOPED_TRACE(id);
    ASSERT_EQ(std::count(std::begin(statuses), std::end(statuses), 201), 1)
        << statuses[0] << " " << statuses[1];
    ASSERT_EQ(std::count(std::begin(statuses), std::end(statuses), 409), 1)
        << statuses[0] << " " << statuses[1];
    const int winner = statuses[0] == 201 ? 0 : 1;
    EXPECT_EQ(Show(id)["name"], "from service " + std::to_string(winner));
  }
}

// Flags that can never work stop the service at once (exit 2, saying why)
// instead of a service that answers every request with an error.
TEST_F(ImagesTest, FlagsThatCanNeverWorkAreRefusedAtStart) {
  const std::vector<std::vector<std::string>> refused = {
      {"--upload-lease", "nan"},
      {"--upload-lease", "0.5"},
      {"--cluster", dir_.Sub("no-such-cluster.json")},
      {"--node", "garbage"},
  };
  for (const std::vector<std::string>& flags : refused) {
    // `timeout`: a service that started after all must not hang the test.
    std::vector<std::string> argv = {"timeout",       "10",
                                     TesseraBinary(), "images",
                                     "--listen",      "127.0.0.1:" + std::to_string(FreePort())};
    if (flags[0] != "--node" && flags[0] != "--cluster") {
      argv.insert(argv.end(), {"--node", node_->url()});
    }
    argv.insert(argv.end(), flags.begin(), flags.end());
    SCOPED_TRACE(flags[0] + " " + flags[1]);
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(flags[0] == "--upload-lease" ? "--upload-lease" : flags[1]),
              std::string::npos)
        << r.output;
  }
}

TEST_F(ImagesTest, NegativeCases) {
  httplib::Client c = Api();
  auto bad_json = c.Post("/v2/images", "{\"name\": ", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  PostImage({{"status", "active"}}, 403);
  PostImage({{"size", 5}}, 403);
  PostImage({{"checksum", "x"}}, 403);
  PostImage({{"visibility", "everyone"}}, 400);
  PostImage({{"min_ram", "lots"}}, 400);
  PostImage({{"custom_property", 5}}, 400);
  std::string fixed = "9c2b1a0e-1f2d-4c3b-8a4e-5f6d7c8b9a0e";
  PostImage({{"id", fixed}, {"name", "first"}});
  PostImage({{"id", fixed}, {"name", "second"}}, 409);

  // Patch: only the two json-patch media types.
  auto wrong = c.Patch("/v2/images/" + fixed, "[]", "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 415);
  EXPECT_NE(wrong->get_header_value("Accept-Patch").find(kPatchV21), std::string::npos);
  auto readonly =
      c.Patch("/v2/images/" + fixed, R"([{"op": "replace", "path": "/status", "value": "active"}])",
              kPatchV21);
  ASSERT_TRUE(readonly);
  EXPECT_EQ(readonly->status, 403);
  auto v20 = c.Patch("/v2/images/" + fixed, R"([{"replace": "/name", "value": "old-style"}])",
                     "application/openstack-images-v2.0-json-patch");
  ASSERT_TRUE(v20);
  EXPECT_EQ(v20->status, 200) << v20->body;
  EXPECT_EQ(Show(fixed)["name"], "old-style");

  // Upload before the formats are set, then with the wrong type.
  auto early = c.Put("/v2/images/" + fixed + "/file", "abc", "application/octet-stream");
  ASSERT_TRUE(early);
  EXPECT_EQ(early->status, 400) << early->body;
  auto formats = c.Patch("/v2/images/" + fixed,
                         R"([{"op": "replace", "path": "/disk_format", "value": "raw"},
                             {"op": "replace", "path": "/container_format", "value": "bare"}])",
                         kPatchV21);
  ASSERT_TRUE(formats);
  ASSERT_EQ(formats->status, 200) << formats->body;
  auto typed = c.Put("/v2/images/" + fixed + "/file", "abc", "text/plain");
  ASSERT_TRUE(typed);
  EXPECT_EQ(typed->status, 415);
  auto empty = c.Get("/v2/images/" + fixed + "/file");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 204) << "a queued image has no data";

  // A size mismatch fails the upload: back to queued, no bytes left.
  auto mismatch = c.Put("/v2/images/" + fixed + "/file", {{"x-openstack-image-size", "10"}},
                        std::string(20, 'z'), "application/octet-stream");
  ASSERT_TRUE(mismatch);
  EXPECT_EQ(mismatch->status, 400) << mismatch->body;
  EXPECT_EQ(Show(fixed)["status"], "queued");
  EXPECT_EQ(DataFiles(fixed), 0u);

  // Upload twice: the CLI's second upload is refused with 409.
  std::string path = dir_.Sub("twice.bin");
  WriteFile(path, Content(5000, 3));
  CommandResult first = Glance({"image-upload", "--file", path, fixed});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  CommandResult second = Glance({"image-upload", "--file", path, fixed});
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.output.find("409 Conflict"), std::string::npos) << second.output;
  EXPECT_EQ(Show(fixed)["size"], 5000);
  EXPECT_EQ(DataFiles(fixed), 1u);

  auto missing = c.Get("/v2/images/00000000-0000-4000-8000-000000000000");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto not_uuid = c.Get("/v2/images/..%2F..%2Fetc");
  ASSERT_TRUE(not_uuid);
  EXPECT_EQ(not_uuid->status, 404);
}

// A local HTTP server stands in for the web; the service fetches from it.
class WebServer {
 public:
  explicit WebServer(std::string blob) : blob_(std::move(blob)) {
    server_.Get("/image.raw", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(blob_, "application/octet-stream");
    });
    // The same bytes, 64 KiB every 20 ms, so an import is seen in progress.
    server_.Get("/slow.raw", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content_provider(blob_.size(), "application/octet-stream",
                               [this](size_t offset, size_t length, httplib::DataSink& sink) {
                                 std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                 return sink.write(blob_.data() + offset,
                                                   std::min<size_t>(length, 64 << 10));
                               });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~WebServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  std::string blob_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(ImagesTest, WebDownloadImport) {
  std::string content = Content(3 << 20, 11);
  WebServer web(content);
  CommandResult info = Glance({"import-info"});
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("web-download"), std::string::npos) << info.output;

  CommandResult created = GlanceWithTty(
      {"image-create-via-import", "--name", "fetched", "--disk-format", "raw", "--container-format",
       "bare", "--import-method", "web-download", "--uri", web.url("/image.raw")});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  std::string id = Field(created.output, "id");
  ASSERT_TRUE(WaitFor([&] { return Show(id).value("status", "") == "active"; }, 30s))
      << Show(id).dump() << "\n"
      << images_->ReadLog();
  std::string out = dir_.Sub("fetched.out");
  ASSERT_EQ(Glance({"image-download", "--file", out, id}).exit_code, 0);
  EXPECT_TRUE(ReadFileOrEmpty(out) == content);
  EXPECT_EQ(Show(id)["size"], content.size());

  // A slow source: the import is visible while it runs, with its progress.
  std::string slow =
      PostImage({{"name", "slow"}, {"disk_format", "raw"}, {"container_format", "bare"}});
  httplib::Client api = Api();
  auto started =
      api.Post("/v2/images/" + slow + "/import",
               json{{"method", {{"name", "web-download"}, {"uri", web.url("/slow.raw")}}}}.dump(),
               "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202) << started->body;
  EXPECT_TRUE(WaitFor(
      [&] {
        json image = Show(slow);
        return image.value("status", "") == "importing" &&
               std::stoull(image.value("tessera_import_bytes", "0")) > 0;
      },
      20s))
      << Show(slow).dump();
  ASSERT_TRUE(WaitFor([&] { return Show(slow).value("status", "") == "active"; }, 30s))
      << Show(slow).dump();
  EXPECT_EQ(Show(slow)["checksum"], Show(id)["checksum"]);
  EXPECT_FALSE(Show(slow).contains("tessera_import_bytes"));

  // A URL that fails: back to queued, marked as a failed import, no bytes.
  std::string bad =
      PostImage({{"name", "broken"}, {"disk_format", "raw"}, {"container_format", "bare"}});
  httplib::Client c = Api();
  auto r = c.Post("/v2/images/" + bad + "/import",
                  json{{"method", {{"name", "web-download"}, {"uri", web.url("/missing")}}}}.dump(),
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  ASSERT_TRUE(WaitFor([&] { return Show(bad).contains("os_glance_failed_import"); }, 30s))
      << Show(bad).dump();
  EXPECT_EQ(Show(bad)["status"], "queued");
  EXPECT_EQ(DataFiles(bad), 0u);
}

TEST_F(ImagesTest, GlanceDirectImport) {
  std::string content = Content(200000, 12);
  std::string path = dir_.Sub("direct.bin");
  WriteFile(path, content);
  CommandResult created = GlanceWithTty({"image-create-via-import", "--name", "direct",
                                         "--disk-format", "raw", "--container-format", "bare",
                                         "--import-method", "glance-direct", "--file", path});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  std::string id = Field(created.output, "id");
  ASSERT_TRUE(WaitFor([&] { return Show(id).value("status", "") == "active"; }, 30s))
      << Show(id).dump();
  ASSERT_EQ(Glance({"image-download", "--file", dir_.Sub("direct.out"), id}).exit_code, 0);
  EXPECT_TRUE(ReadFileOrEmpty(dir_.Sub("direct.out")) == content);
}

TEST_F(ImagesTest, KilledMidUploadLeavesQueuedImageAndRetrySucceeds) {
  std::string shown =
      PostImage({{"name", "shown-first"}, {"disk_format", "raw"}, {"container_format", "bare"}});
  std::string retried =
      PostImage({{"name", "retried-first"}, {"disk_format", "raw"}, {"container_format", "bare"}});
  // Chunked uploads that send 6 MiB, then stall until the service dies.
  std::atomic<int> stalled{0};
  std::atomic<bool> stop{false};
  auto upload = [&](const std::string& id) {
    return std::thread([&, id] {
      httplib::Client c("127.0.0.1", images_->port());
      std::string chunk = Content(1 << 20, 5);
      bool counted = false;
      c.Put(
          "/v2/images/" + id + "/file",
          [&](size_t offset, httplib::DataSink& sink) {
            if (offset < (6u << 20)) return sink.write(chunk.data(), chunk.size());
            if (!counted) {
              counted = true;
              ++stalled;
            }
            std::this_thread::sleep_for(50ms);
            return !stop;
          },
          "application/octet-stream");
    });
  };
  std::thread first = upload(shown), second = upload(retried);
  ASSERT_TRUE(WaitFor(
      [&] {
        return stalled == 2 && Show(shown).value("status", "") == "saving" &&
               Show(retried).value("status", "") == "saving";
      },
      20s))
      << Show(shown).dump();
  images_->Kill();
  stop = true;
  first.join();
  second.join();
  std::string why;
  ASSERT_TRUE(images_->Start(&why)) << why;
  // The dead service's lease (2 s) runs out; whoever touches the image next
  // puts it back to queued and deletes what the upload left.
  std::this_thread::sleep_for(2500ms);
  json image = Show(shown);
  EXPECT_EQ(image["status"], "queued") << image.dump();
  EXPECT_EQ(DataFiles(shown), 0u) << "no orphaned bytes";

  std::string content = Content(3 << 20, 6);
  std::string path = dir_.Sub("retry.bin");
  WriteFile(path, content);
  for (const std::string& id : {shown, retried}) {
    // For `retried` the upload is the first request after the lease ran out.
    CommandResult retry = Glance({"image-upload", "--file", path, id});
    ASSERT_EQ(retry.exit_code, 0) << retry.output;
    EXPECT_EQ(Show(id)["status"], "active");
    std::string out = dir_.Sub(id + ".out");
    ASSERT_EQ(Glance({"image-download", "--file", out, id}).exit_code, 0);
    EXPECT_TRUE(ReadFileOrEmpty(out) == content);
    EXPECT_EQ(DataFiles(id), 1u);
  }
}

TEST_F(ImagesTest, AdminTokenIsRequiredWhenConfigured) {
  auto secured = StartImages({"--admin-token", "s3cret"});
  httplib::Client c("127.0.0.1", secured->port());
  auto versions = c.Get("/versions");
  ASSERT_TRUE(versions);
  EXPECT_EQ(versions->status, 200) << "version discovery needs no token";
  auto anonymous = c.Get("/v2/images");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto wrong = c.Get("/v2/images", {{"X-Auth-Token", "guess"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  CommandResult denied = Glance({"image-list"}, "guess", secured->url());
  EXPECT_NE(denied.exit_code, 0) << denied.output;
  CommandResult allowed = Glance({"image-list"}, "s3cret", secured->url());
  EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
  // Without a configured token any token is accepted (the fixture's service).
  EXPECT_EQ(Glance({"image-list"}, "anything").exit_code, 0);
}

// A second service on the fixture's address would share the port and take
// some of its clients: it must refuse to start, and the first serve on.
TEST_F(ImagesTest, ASecondServiceOnAnAddressInUseRefusesToStart) {
  const std::string address = "127.0.0.1:" + std::to_string(images_->port());
  auto start_second = [&](const std::string& listen) {
    // `timeout`: a service that wrongly starts would otherwise serve forever.
    return RunCommand(
        {"timeout", "20", TesseraBinary(), "images", "--listen", listen, "--node", node_->url()});
  };
  CommandResult second = start_second(address);
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("cannot listen on " + address), std::string::npos) << second.output;
  CommandResult garbled = start_second(address + "x");
  EXPECT_EQ(garbled.exit_code, 2) << garbled.output;
  EXPECT_NE(garbled.output.find("which is not a number from 1 to 65535"), std::string::npos)
      << garbled.output;
  EXPECT_TRUE(images_->Alive());
  EXPECT_EQ(Glance({"image-list"}).exit_code, 0);
}

// An upload with neither Content-Length nor chunked encoding is refused at
// once (httplib alone would wait for the client to close) and the image
// stays queued.
TEST_F(ImagesTest, AnUploadWithoutALengthIsRefusedAtOnce) {
  std::string id = PostImage({{"name", "no-length"}});
  ASSERT_FALSE(id.empty());
  std::string answer = RawRequest(images_->port(), "PUT /v2/images/" + id +
                                                       "/file HTTP/1.1\r\nHost: x\r\n"
                                                       "Content-Type: application/octet-stream\r\n"
                                                       "Accept: application/json\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 411", 0), 0u) << answer;
  EXPECT_NE(answer.find("needs a Content-Length or Transfer-Encoding: chunked"), std::string::npos)
      << answer;
  EXPECT_EQ(Show(id).value("status", ""), "queued") << Show(id).dump();
  EXPECT_EQ(DataFiles(id), 0u);
}

// Bad flags are usage errors (exit 2) with a reason; nothing is served.
TEST(ImagesFlagsTest, BadFlagsAreUsageErrors) {
  const std::string listen = "127.0.0.1:" + std::to_string(FreePort());
  const std::pair<std::vector<std::string>, const char*> cases[] = {
      {{"--listen", "127.0.0.1:0"}, "not a number from 1 to 65535"},
      {{"--listen", listen, "--threads", "0"}, "--threads"},
      {{"--listen", listen, "--upload-lease", "0.5"}, "--upload-lease"},
      {{"--listen", listen, "--namespace", "bad/ns"}, "--namespace"},
  };
  for (const auto& [flags, reason] : cases) {
    SCOPED_TRACE(reason);
    std::vector<std::string> argv = {"timeout", "20",     TesseraBinary(),
                                     "images",  "--node", "http://127.0.0.1:1"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    CommandResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(reason), std::string::npos) << r.output;
  }
}

TEST_F(ImagesTest, VersionsAndSchemas) {
  httplib::Client c = Api();
  auto root = c.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 300);
  json versions = json::parse(root->body)["versions"];
  EXPECT_TRUE(std::any_of(versions.begin(), versions.end(), [](const json& v) {
    return v["status"] == "CURRENT" && v["id"].get<std::string>().rfind("v2.", 0) == 0;
  }));
  for (const char* path :
       {"/v2/schemas/image", "/v2/schemas/images", "/v2/schemas/metadefs/namespace",
        "/v2/schemas/metadefs/resource_type", "/v2/info/import"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_TRUE(json::accept(r->body)) << path;
  }
}

}  // namespace
}  // namespace tessera::testing
