#include "io/deferred_delete_piece_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/fs_util.h"
#include "io/io_test_util.h"
#include "tests/support/temp_dir.h"

namespace tessera::io {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kNode = 1;

std::string Slurp(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  return text.ok() ? *text : std::string();
}

class DeferredDeletePieceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    drives_ = test_util::OpenTestDrives(dir_.path(), 2, kNode);
    ASSERT_NE(drives_, nullptr);
  }

  // Stores `count` pieces of object `object` on drive 0, durably.
  void StorePieces(uint64_t object, uint32_t count) {
    std::vector<uint8_t> bytes(4096, static_cast<uint8_t>(object));
    for (uint32_t index = 0; index < count; ++index) {
      ASSERT_TRUE(drives_->Append({kNode, 0}, {object, index}, bytes).ok());
    }
    ASSERT_TRUE(drives_->Sync({{kNode, 0}}).ok());
  }

  bool Present(uint64_t object, uint32_t index) {
    return drives_->Read({kNode, 0}, {object, index}).ok();
  }

  testing::TempDir dir_;
  std::unique_ptr<LocalPieceStore> drives_;
};

TEST_F(DeferredDeletePieceStoreTest, APieceStaysReadableForTheGraceThenGoes) {
  constexpr auto kGrace = 300ms;
  DeferredDeletePieceStore store(drives_.get(), kGrace);
  StorePieces(7, 1);
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(store.Delete({kNode, 0}, {7, 0}).ok());
  EXPECT_TRUE(Present(7, 0)) << "a reader holding the old record still finds the piece";
  EXPECT_TRUE(store.Read({kNode, 0}, {7, 0}).ok());
  EXPECT_EQ(store.pending(), 1u);
  while (Present(7, 0) && std::chrono::steady_clock::now() - asked < 10s) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(Present(7, 0)) << "deleted once the grace is over";
  EXPECT_GE(std::chrono::steady_clock::now() - asked, kGrace);
  EXPECT_EQ(store.pending(), 0u);
}

TEST_F(DeferredDeletePieceStoreTest, ManyPiecesAllGoAndOthersStay) {
  DeferredDeletePieceStore store(drives_.get(), 50ms);
  StorePieces(1, 50);
  StorePieces(2, 5);
  for (uint32_t index = 0; index < 50; ++index) {
    ASSERT_TRUE(store.Delete({kNode, 0}, {1, index}).ok());
  }
  ASSERT_TRUE(store.Delete({kNode, 0}, {3, 0}).ok()) << "a missing piece is not an error";
  for (int waited = 0; store.pending() > 0 && waited < 1000; ++waited) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(store.pending(), 0u);
  for (uint32_t index = 0; index < 50; ++index) EXPECT_FALSE(Present(1, index)) << index;
  for (uint32_t index = 0; index < 5; ++index) EXPECT_TRUE(Present(2, index)) << index;
}

TEST_F(DeferredDeletePieceStoreTest, WhatIsStillQueuedIsDeletedOnDestruction) {
  StorePieces(4, 3);
  {
    DeferredDeletePieceStore store(drives_.get(), std::chrono::hours(1));
    for (uint32_t index = 0; index < 3; ++index) {
      ASSERT_TRUE(store.Delete({kNode, 0}, {4, index}).ok());
    }
    EXPECT_TRUE(Present(4, 0));
  }
  for (uint32_t index = 0; index < 3; ++index) EXPECT_FALSE(Present(4, index)) << index;
}

// With a journal the queue survives the process: a clean stop keeps it (the
// peers may be stopping too), a crash loses at most the last second, and the
// next store on the journal deletes what it lists once its grace is over.
TEST_F(DeferredDeletePieceStoreTest, AJournalCarriesTheQueueAcrossARestart) {
  const std::string journal = dir_.Sub("pending-deletes");
  StorePieces(6, 3);
  StorePieces(7, 1);
  {
    DeferredDeletePieceStore store(drives_.get(), std::chrono::hours(1), journal);
    for (uint32_t index = 0; index < 3; ++index) {
      ASSERT_TRUE(store.Delete({kNode, 0}, {6, index}).ok());
    }
    // Written within a second, without a stop: what a kill -9 would leave.
    std::string written;
    for (int waited = 0; waited < 300 && written.find("1 0 6 2") == std::string::npos; ++waited) {
      std::this_thread::sleep_for(10ms);
      written = Slurp(journal);
    }
    EXPECT_NE(written.find("1 0 6 0\n1 0 6 1\n1 0 6 2\n"), std::string::npos) << written;
    ASSERT_TRUE(store.Delete({kNode, 0}, {7, 0}).ok());
  }
  for (uint32_t index = 0; index < 3; ++index) EXPECT_TRUE(Present(6, index)) << index;
  EXPECT_TRUE(Present(7, 0)) << "queued just before the stop, and kept by the journal";

  DeferredDeletePieceStore resumed(drives_.get(), 100ms, journal);
  EXPECT_EQ(resumed.pending(), 4u);
  EXPECT_TRUE(Present(6, 0)) << "the grace starts again: a reader may be under way";
  for (int waited = 0; resumed.pending() > 0 && waited < 500; ++waited) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(resumed.pending(), 0u);
  for (uint32_t index = 0; index < 3; ++index) EXPECT_FALSE(Present(6, index)) << index;
  EXPECT_FALSE(Present(7, 0));
  std::string after;
  for (int waited = 0; waited < 300; ++waited) {
    after = Slurp(journal);
    if (after.find(" 6 ") == std::string::npos && after.find(" 7 ") == std::string::npos) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(after.find(" 7 0"), std::string::npos) << "done deletes leave the journal: " << after;
}

TEST_F(DeferredDeletePieceStoreTest, AJournalThatIsNotOneIsLeftAlone) {
  const std::string journal = dir_.Sub("pending-deletes");
  ASSERT_TRUE(WriteFileAtomically(journal, "1 0 5 0\n").ok());
  StorePieces(5, 1);
  DeferredDeletePieceStore store(drives_.get(), 10ms, journal);
  EXPECT_EQ(store.pending(), 0u);
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(Present(5, 0)) << "a file without the header deletes nothing";
}

TEST_F(DeferredDeletePieceStoreTest, NoGraceDeletesAtOnce) {
  DeferredDeletePieceStore store(drives_.get(), 0ms);
  StorePieces(5, 1);
  ASSERT_TRUE(store.Delete({kNode, 0}, {5, 0}).ok());
  EXPECT_FALSE(Present(5, 0));
  EXPECT_EQ(store.pending(), 0u);
}

}  // namespace
}  // namespace tessera::io
