// `tessera images` over a 3-node cluster (etcd, three `tessera node
// --config` processes, the service reaching them through a cluster.json): a
// storage node killed in the middle of a download does not stop it (the
// entry node rebuilds the lost units from the survivors).
#include "tests/integration/images_test_util.h"

namespace tessera::testing {
namespace {

// Uploads a 48 MiB image, then reads it back slowly and kills node `victim`
// once 8 MiB have arrived: the whole image must still arrive intact.
class ImagesNodeKillTest : public ImagesClusterTest {
 protected:
  void DownloadWhileKilling(size_t victim) {
    StartCluster(3, "+1");
    std::string path = dir_.Sub("image.bin");
    WriteBigFile(path, 48);
    CommandResult created = Glance({"image-create", "--name", "degraded", "--disk-format", "raw",
                                    "--container-format", "bare", "--file", path});
    ASSERT_EQ(created.exit_code, 0) << created.output;
    std::string id = Field(created.output, "id");
    std::string md5 = Field(created.output, "checksum");
    ASSERT_EQ(Field(created.output, "status"), "active") << created.output;

    httplib::Client c("127.0.0.1", images_->port());
    c.set_read_timeout(120, 0);
    std::ofstream out(dir_.Sub("image.out"), std::ios::binary);
    size_t received = 0;
    bool killed = false;
    auto r = c.Get(
        "/v2/images/" + id + "/file", [&](const httplib::Response&) { return true; },
        [&](const char* data, size_t size) {
          out.write(data, static_cast<std::streamsize>(size));
          received += size;
          if (!killed && received >= (8u << 20)) {
            nodes_[victim]->Kill();
            killed = true;
          }
          if (received < (16u << 20)) std::this_thread::sleep_for(1ms);
          return true;
        });
    out.close();
    ASSERT_TRUE(r) << httplib::to_string(r.error()) << "\n" << images_->ReadLog();
    EXPECT_TRUE(killed);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-MD5"), md5);
    EXPECT_TRUE(SameFiles(path, dir_.Sub("image.out"))) << "received " << received << "\n"
                                                        << images_->ReadLog();
  }
};

// node3 holds units but is not the node the service reads through: the
// entry node rebuilds what node3 held from the survivors.
TEST_F(ImagesNodeKillTest, DownloadSurvivesAStorageNodeKill) { DownloadWhileKilling(2); }

// node1 is the node the service reads through (the first of cluster.json):
// the service resolves another live node and resumes where it stopped.
TEST_F(ImagesNodeKillTest, DownloadSurvivesTheEntryNodeKill) { DownloadWhileKilling(0); }

}  // namespace
}  // namespace tessera::testing
