// RemoteShardPeer against a real MetaServer over loopback, and against peers
// that refuse connections or never answer: what a forwarded metadata request
// returns in each case, since a node decides from it whether a write may have
// committed.
#include "rpc/remote_shard_peer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "cluster/shard_map.h"
#include "meta/sharded_metadata_store.h"
#include "rpc/meta_server.h"
#include "rpc/rpc_server.h"
#include "tests/support/temp_dir.h"

namespace tessera::rpc {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kPrimary = 2;
constexpr uint32_t kShards = 4;

meta::FileRecord Record(const std::string& path, uint64_t object_id) {
  meta::FileRecord r;
  r.ns = "ns";
  r.path = path;
  r.object_id = object_id;
  r.size = 10;
  r.created_ns = 1;
  r.modified_ns = static_cast<int64_t>(object_id);
  r.protection = "+1";
  r.geometry.kind = layout::Geometry::Kind::kMirror;
  r.geometry.copies = 2;
  r.drives = {{1, 0}, {2, 0}};
  return r;
}

meta::ShardRequest Request(meta::ShardRequest::Op op, const std::string& path, int64_t epoch) {
  meta::ShardRequest request;
  request.op = op;
  request.epoch = epoch;
  request.shard = cluster::ShardOf("ns", path, kShards);
  request.record = Record(path, 0);
  return request;
}

// A listening socket that accepts and never speaks: calls to it hang until
// their deadline.
class SilentPeer {
 public:
  SilentPeer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentPeer() { close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A loopback port nothing listens on (bound, then closed).
std::string ClosedAddress() {
  SilentPeer peer;
  return peer.address();
}

class RemoteShardPeerTest : public ::testing::Test {
 protected:
  RemoteShardPeerTest() {
    meta::ShardedStoreOptions options;
    options.self = kPrimary;
    options.shard_count = kShards;
    auto opened = meta::ShardedMetadataStore::Open(dir_.path(), options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    auto map = cluster::ComputeShardMap({}, {kPrimary}, kShards, 1, kEpoch);
    EXPECT_TRUE(map.ok());
    store_->SetShardMap(*map);
    service_ = std::make_unique<MetaServer>(store_.get());
    auto server = RpcServer::Start("127.0.0.1:0", {service_.get()});
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  static constexpr int64_t kEpoch = 3;
  testing::TempDir dir_;
  std::unique_ptr<meta::ShardedMetadataStore> store_;
  std::unique_ptr<MetaServer> service_;
  std::unique_ptr<RpcServer> server_;
};

TEST_F(RemoteShardPeerTest, ForwardedRequestsAreServedByThePrimary) {
  RemoteShardPeer peer(kPrimary, server_->address());
  meta::ShardRequest put = Request(meta::ShardRequest::Op::kPut, "a/one", kEpoch);
  put.record = Record("a/one", 41);
  auto first = peer.Lead(put);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->record.has_value());  // nothing replaced

  auto got = peer.Lead(Request(meta::ShardRequest::Op::kGet, "a/one", kEpoch));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->record.has_value());
  EXPECT_EQ(got->record->object_id, 41u);
  EXPECT_EQ(store_->Get("ns", "a/one")->object_id, 41u);

  // A conditional replacement that names other content is refused, not applied.
  meta::ShardRequest replace = Request(meta::ShardRequest::Op::kReplacePlacement, "a/one", kEpoch);
  replace.record = Record("a/one", 41);
  replace.expected_object_id = 40;
  auto refused = peer.Lead(replace);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_FALSE(refused->replaced);

  // The replica calls reach the primary's replica store too.
  uint32_t shard = cluster::ShardOf("ns", "a/one", kShards);
  auto entries = peer.EntriesAfter(shard, {}, 100);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ(entries->size(), 1u);
  auto records = peer.ReadRecords(shard, "", "", 100);
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->records.size(), 1u);
  EXPECT_EQ(records->records[0].path, "a/one");
}

// The primary's own refusal is definite, even for a write: the caller may
// say so rather than report an outcome it does not know.
TEST_F(RemoteShardPeerTest, APrimarysRefusalKeepsItsCode) {
  RemoteShardPeer peer(kPrimary, server_->address());
  meta::ShardRequest put = Request(meta::ShardRequest::Op::kPut, "a/two", kEpoch);
  put.shard = kShards + 5;
  auto bad = peer.Lead(put);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("primary node 2"), std::string::npos);

  auto missing = peer.Lead(Request(meta::ShardRequest::Op::kGet, "a/none", kEpoch));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  EXPECT_EQ(store_->Get("ns", "a/two").status().code(), StatusCode::kNotFound);
}

// No connection means the write was never sent: Unavailable, safe to retry
// elsewhere.
TEST(RemoteShardPeerReachTest, ANodeNotListeningIsUnavailableEvenForAWrite) {
  RemoteShardPeer peer(kPrimary, ClosedAddress());
  auto put = peer.Lead(Request(meta::ShardRequest::Op::kPut, "a/b", 1));
  EXPECT_EQ(put.status().code(), StatusCode::kUnavailable) << put.status().ToString();
  auto promise = peer.Promise(0, 1);
  EXPECT_EQ(promise.status().code(), StatusCode::kUnavailable) << promise.status().ToString();
}

// A write whose call timed out may have committed on the primary:
// Indeterminate. A read that timed out changed nothing: Unavailable.
TEST(RemoteShardPeerReachTest, ATimedOutWriteIsIndeterminateAndATimedOutReadUnavailable) {
  SilentPeer silent;
  RemoteShardPeerOptions options;
  options.lead_deadline = 300ms;
  options.promise_deadline = 300ms;
  RemoteShardPeer peer(kPrimary, silent.address(), options);
  auto start = std::chrono::steady_clock::now();
  auto put = peer.Lead(Request(meta::ShardRequest::Op::kPut, "a/b", 1));
  EXPECT_EQ(put.status().code(), StatusCode::kIndeterminate) << put.status().ToString();
  auto del = peer.Lead(Request(meta::ShardRequest::Op::kDelete, "a/b", 1));
  EXPECT_EQ(del.status().code(), StatusCode::kIndeterminate) << del.status().ToString();
  auto get = peer.Lead(Request(meta::ShardRequest::Op::kGet, "a/b", 1));
  EXPECT_EQ(get.status().code(), StatusCode::kUnavailable) << get.status().ToString();
  auto promise = peer.Promise(0, 1);
  EXPECT_EQ(promise.status().code(), StatusCode::kUnavailable) << promise.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace tessera::rpc
