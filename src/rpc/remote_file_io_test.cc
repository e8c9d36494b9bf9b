// io::FileWriter and FileReader across two nodes through io::RoutingPieceStore:
// node 1's drives are local, node 2's are reached through a RemotePieceStore
// and a real server.
#include <gtest/gtest.h>

#include <random>

#include "common/units.h"
#include "io/file_reader.h"
#include "io/file_writer.h"
#include "io/io_test_util.h"
#include "io/routing_piece_store.h"
#include "rpc/remote_piece_store.h"
#include "rpc/rpc_test_node.h"

namespace tessera::rpc {
namespace {

using io::test_util::RandomBytes;
using io::test_util::ReadAll;
using testing::TestNode;

TEST(RemoteFileIoTest, StripedFileSpansALocalAndARemoteNode) {
  TestNode node1(1, 2);
  TestNode node2(2, 2);
  RemotePieceStoreOptions options;
  options.sender = 1;
  options.deadline = std::chrono::milliseconds(2000);
  auto remote = std::make_shared<RemotePieceStore>(
      2, node2.address(), [] { return 7; }, options);
  io::RoutingPieceStore router(1, &node1.store());
  router.SetPeers({{2, remote}});

  // +2d:1n puts two units per node: a 2+2 stripe over both nodes, so losing
  // node 2 loses two units, within parity.
  auto policy = layout::ProtectionPolicy::Parse("+2d:1n");
  ASSERT_TRUE(policy.ok());
  std::vector<uint8_t> content = RandomBytes(3 * kMiB + 12345, 9);
  io::FileWriter writer(router, *policy, 500);
  for (size_t off = 0; off < content.size(); off += 100000) {
    size_t n = std::min<size_t>(100000, content.size() - off);
    ASSERT_TRUE(writer.Write({content.data() + off, n}).ok());
  }
  auto written = writer.Finish();
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->geometry.kind, layout::Geometry::Kind::kStripe);
  EXPECT_EQ(written->geometry.data_units, 2);
  EXPECT_EQ(written->geometry.parity_units, 2);
  int on_node2 = 0;
  for (const meta::DriveRef& d : written->drives) on_node2 += d.node == 2;
  EXPECT_EQ(on_node2, 2);

  meta::FileRecord record = io::test_util::RecordFor(*written, "+2d:1n", 500);

  uint64_t degraded = 0;
  auto back = ReadAll(router, record, &degraded);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, content);
  EXPECT_EQ(degraded, 0u);

  // Node 2 down: every stripe rebuilds its two units from node 1's.
  node2.Stop();
  back = ReadAll(router, record, &degraded);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, content);
  EXPECT_GT(degraded, 0u);
}

}  // namespace
}  // namespace tessera::rpc
