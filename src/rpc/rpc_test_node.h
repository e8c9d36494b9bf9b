// Test-only: one storage node on loopback — temp-dir drives in a real
// LocalPieceStore served by a real PieceServer on 127.0.0.1:<free port>.
// Stop() shuts the server and closes the drives; Start() reopens them from
// disk, as a restarted node would.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "io/local_piece_store.h"
#include "rpc/piece_server.h"
#include "rpc/rpc_server.h"
#include "tests/support/temp_dir.h"

namespace tessera::rpc::testing {

class TestNode {
 public:
  TestNode(uint32_t node, int drive_count) : node_(node), drive_count_(drive_count) { Start(); }
  ~TestNode() { Stop(); }

  void Start() {
    store_ = std::make_unique<io::LocalPieceStore>(node_);
    for (uint32_t lnum = 0; lnum < static_cast<uint32_t>(drive_count_); ++lnum) {
      store::DriveIdentity id;
      id.cluster_guid = "test-cluster";
      id.array_id = node_;
      id.lnum = lnum;
      auto drive = store::Drive::Open(DrivePath(lnum), "test-cluster", node_, id);
      ASSERT_TRUE(drive.ok()) << drive.status().ToString();
      store_->AddDrive(std::move(drive).value());
    }
    service_ = std::make_unique<PieceServer>(node_, store_.get(), [this] { return epoch.load(); });
    auto server = RpcServer::Start("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  // Server first: no call may reach the drives once they close.
  void Stop() {
    server_.reset();
    service_.reset();
    store_.reset();
  }

  std::string DrivePath(uint32_t lnum) const {
    return dir_.Sub("n" + std::to_string(node_) + "d" + std::to_string(lnum));
  }
  std::string address() const { return server_->address(); }
  uint32_t node() const { return node_; }
  io::LocalPieceStore& store() { return *store_; }
  RpcServer& server() { return *server_; }

  std::atomic<int64_t> epoch{7};

 private:
  const uint32_t node_;
  const int drive_count_;
  tessera::testing::TempDir dir_;
  std::unique_ptr<io::LocalPieceStore> store_;
  std::unique_ptr<PieceServer> service_;
  std::unique_ptr<RpcServer> server_;
};

}  // namespace tessera::rpc::testing
