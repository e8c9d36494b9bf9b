// A 1 GiB image through the glance CLI, up and down, with the service's
// memory flat. Labelled slow (`ctest -L slow`): about a minute on two cores.
#include "tests/integration/images_test_util.h"

namespace tessera::testing {
namespace {

TEST_F(ImagesClusterTest, SlowOneGibImageThroughTheCliWithFlatMemory) {
  StartCluster(1, "+2");
  std::string path = dir_.Sub("1g.bin");
  WriteBigFile(path, 1024);
  CommandResult created = Glance({"image-create", "--name", "big", "--disk-format", "raw",
                                  "--container-format", "bare", "--file", path});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_EQ(Field(created.output, "size"), std::to_string(1ull << 30));
  std::string id = Field(created.output, "id");
  std::string out = dir_.Sub("1g.out");
  CommandResult download = Glance({"image-download", "--file", out, id});  // sha512 checked
  ASSERT_EQ(download.exit_code, 0) << download.output;
  EXPECT_TRUE(SameFiles(path, out));
  long peak = PeakRssKib(images_->pid());
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, 128 * 1024) << "the service must stream, not hold the image";
}

}  // namespace
}  // namespace tessera::testing
