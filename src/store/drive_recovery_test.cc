// Crash recovery: what Open() makes of a drive that was not shut down cleanly.
//
// Two ways to crash a drive. A copy of the directory taken while the drive is
// open and idle is what a process crash leaves (every completed write is in
// the page cache); damaging the copy's segment tail then models a power loss
// that took unsynced segment bytes but kept the index's WAL. And a real writer
// process is SIGKILLed mid-stream.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "common/coding.h"
#include "store/drive.h"
#include "store/piece_record.h"
#include "store/test_util.h"

extern char** environ;

namespace tessera::store {
namespace {

using tessera::testing::TempDir;
using testutil::OpenOrDie;
using testutil::PieceBytes;
using testutil::TestOptions;

namespace fs = std::filesystem;

constexpr char kCrashChildEnv[] = "TESSERA_STORE_CRASH_CHILD";
constexpr uint64_t kCrashSegmentSize = 256 * 1024;
constexpr size_t kAckedBeforeKill = 600;

size_t CrashPieceLength(const PieceId& id) {
  return 1 + (id.object * 131 + id.index * 7919) % 70000;
}

// The writer the KilledWriter test runs in a child process and SIGKILLs: four
// threads append pieces, Sync after every third, and only then report those
// three ids as acknowledged on the pipe. Never returns.
[[noreturn]] void RunCrashChild(const std::string& spec) {
  const size_t colon = spec.find(':');
  const int fd = std::stoi(spec.substr(0, colon));
  const std::string path = spec.substr(colon + 1);
  auto drive = Drive::Open(path, testutil::kCluster, testutil::kNode, testutil::NewIdentity(),
                           TestOptions(kCrashSegmentSize));
  if (!drive.ok()) _exit(2);
  std::vector<std::thread> threads;
  for (uint64_t t = 1; t <= 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t i = 0;; i += 3) {
        uint64_t acked[6];
        for (uint32_t k = 0; k < 3; ++k) {
          PieceId id{t, i + k};
          if (!(*drive)->Append(id, PieceBytes(id, CrashPieceLength(id))).ok()) _exit(3);
          acked[2 * k] = id.object;
          acked[2 * k + 1] = id.index;
        }
        if (!(*drive)->Sync().ok()) _exit(4);
        // 48 bytes, below PIPE_BUF: the four threads' reports never interleave.
        if (::write(fd, acked, sizeof(acked)) != static_cast<ssize_t>(sizeof(acked))) _exit(5);
      }
    });
  }
  for (auto& t : threads) t.join();
  _exit(0);
}

// In the re-executed test binary the child takes over once main() has run
// every static initializer (RocksDB's included) and before any test: it starts
// with no state inherited from other tests, which a bare fork() would not
// give (it would copy RocksDB's thread pools without their threads).
class CrashChildEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (const char* spec = std::getenv(kCrashChildEnv)) RunCrashChild(spec);
  }
};
[[maybe_unused]] ::testing::Environment* const kCrashChildEnvironment =
    ::testing::AddGlobalTestEnvironment(new CrashChildEnvironment);

void CopyDrive(const std::string& from, const std::string& to) {
  fs::copy(from, to, fs::copy_options::recursive);
}

void ExpectPiece(Drive& drive, const PieceId& id, const std::vector<uint8_t>& bytes) {
  auto got = drive.Read(id);
  ASSERT_TRUE(got.ok()) << id.ToString() << ": " << got.status().ToString();
  EXPECT_EQ(*got, bytes) << id.ToString();
}

// Writes `synced` pieces and Syncs, then `unsynced` more without, and leaves
// a process-crash snapshot of the live drive in `crashed`. Returns the offset
// where the unsynced records start.
uint64_t WriteAndSnapshot(const TempDir& dir, int synced, int unsynced) {
  auto drive = OpenOrDie(dir.Sub("live"));
  uint64_t offset = 0;
  for (int i = 0; i < synced; ++i) {
    PieceId id{1, static_cast<uint32_t>(i)};
    EXPECT_TRUE(drive->Append(id, PieceBytes(id, 5000 + 100 * i)).ok());
    offset += RecordSize(5000 + 100 * i);
  }
  EXPECT_TRUE(drive->Sync().ok());
  for (int i = synced; i < synced + unsynced; ++i) {
    PieceId id{1, static_cast<uint32_t>(i)};
    EXPECT_TRUE(drive->Append(id, PieceBytes(id, 30000)).ok());
  }
  CopyDrive(dir.Sub("live"), dir.Sub("crashed"));
  return offset;
}

TEST(DriveRecoveryTest, TornTailDropsOnlyTheTornPiece) {
  TempDir dir;
  const uint64_t synced_end = WriteAndSnapshot(dir, 20, 3);
  const std::string crashed = dir.Sub("crashed");
  const std::string seg = testutil::SegmentPath(crashed, 1);
  const uint64_t last = synced_end + 2 * RecordSize(30000);
  fs::resize_file(seg, last + 1000);

  auto drive = OpenOrDie(crashed);
  for (uint32_t i = 0; i < 20; ++i) ExpectPiece(*drive, {1, i}, PieceBytes({1, i}, 5000 + 100 * i));
  ExpectPiece(*drive, {1, 20}, PieceBytes({1, 20}, 30000));
  ExpectPiece(*drive, {1, 21}, PieceBytes({1, 21}, 30000));
  EXPECT_EQ(drive->Read({1, 22}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(drive->ListPieces().size(), 22u);
  EXPECT_EQ(fs::file_size(seg), last);

  // The drive goes on from the cut.
  ASSERT_TRUE(drive->Append({1, 22}, PieceBytes({1, 22}, 77)).ok());
  ASSERT_TRUE(drive->Sync().ok());
  drive.reset();
  drive = OpenOrDie(crashed);
  ExpectPiece(*drive, {1, 22}, PieceBytes({1, 22}, 77));
  EXPECT_EQ(fs::file_size(seg), last + RecordSize(77));
}

TEST(DriveRecoveryTest, LostUnsyncedTailDropsItsIndexEntries) {
  TempDir dir;
  const uint64_t synced_end = WriteAndSnapshot(dir, 20, 3);
  const std::string crashed = dir.Sub("crashed");
  const std::string seg = testutil::SegmentPath(crashed, 1);
  // As after a power loss on a filesystem that had grown the file but not yet
  // written its blocks: the index (WAL) knows the records, the bytes are zeros.
  const uint64_t size = fs::file_size(seg);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(synced_end));
    std::string zeros(size - synced_end, '\0');
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  auto drive = OpenOrDie(crashed);
  for (uint32_t i = 0; i < 20; ++i) ExpectPiece(*drive, {1, i}, PieceBytes({1, i}, 5000 + 100 * i));
  for (uint32_t i = 20; i < 23; ++i) {
    EXPECT_EQ(drive->Read({1, i}).status().code(), StatusCode::kNotFound) << i;
  }
  EXPECT_EQ(drive->ListPieces().size(), 20u);
  EXPECT_EQ(fs::file_size(seg), synced_end);
  // An upper layer retrying a lost piece may write it again.
  ASSERT_TRUE(drive->Append({1, 21}, PieceBytes({1, 21}, 30000)).ok());
  ExpectPiece(*drive, {1, 21}, PieceBytes({1, 21}, 30000));
}

TEST(DriveRecoveryTest, GarbageTailIsTruncatedAndAppendsContinue) {
  TempDir dir;
  const std::string path = dir.Sub("drive");
  uint64_t end = 0;
  {
    auto drive = OpenOrDie(path);
    for (uint32_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(drive->Append({2, i}, PieceBytes({2, i}, 3000 * i)).ok());
      end += RecordSize(3000 * i);
    }
  }
  std::mt19937_64 rng(7);
  std::vector<uint8_t> garbage(5000);
  for (auto& b : garbage) b = static_cast<uint8_t>(rng());
  testutil::AppendToFile(testutil::SegmentPath(path, 1), garbage);

  auto drive = OpenOrDie(path);
  EXPECT_EQ(fs::file_size(testutil::SegmentPath(path, 1)), end);
  for (uint32_t i = 0; i < 10; ++i) ExpectPiece(*drive, {2, i}, PieceBytes({2, i}, 3000 * i));
  ASSERT_TRUE(drive->Append({2, 10}, PieceBytes({2, 10}, 12345)).ok());
  drive.reset();
  drive = OpenOrDie(path);
  for (uint32_t i = 0; i <= 10; ++i) {
    ExpectPiece(*drive, {2, i}, PieceBytes({2, i}, i == 10 ? 12345 : 3000 * i));
  }
}

TEST(DriveRecoveryTest, LostIndexIsRebuiltFromTheSegments) {
  TempDir dir;
  const std::string path = dir.Sub("drive");
  const DriveOptions options = TestOptions(64 * 1024);
  {
    auto drive = OpenOrDie(path, options);
    for (uint32_t i = 0; i < 60; ++i) {
      ASSERT_TRUE(drive->Append({3, i}, PieceBytes({3, i}, 10000 + i)).ok());
    }
    for (uint32_t i = 0; i < 60; i += 6) ASSERT_TRUE(drive->Delete({3, i}).ok());
    ASSERT_TRUE(drive->Sync().ok());
  }
  ASSERT_GT(testutil::SegmentSizes(path).size(), 5u);
  fs::remove_all(path + "/index");

  auto drive = OpenOrDie(path, options);
  // Deletes were in the lost index, so deleted pieces come back: that costs
  // space, never correctness (the metadata above says what is live).
  EXPECT_EQ(drive->ListPieces().size(), 60u);
  for (uint32_t i = 0; i < 60; ++i) ExpectPiece(*drive, {3, i}, PieceBytes({3, i}, 10000 + i));
  EXPECT_EQ(drive->Usage().piece_count, 60u);
  ASSERT_TRUE(drive->Append({3, 60}, PieceBytes({3, 60}, 100)).ok());
  drive.reset();
  drive = OpenOrDie(path, options);
  EXPECT_EQ(drive->ListPieces().size(), 61u);
  ExpectPiece(*drive, {3, 60}, PieceBytes({3, 60}, 100));
}

TEST(DriveRecoveryTest, RebuildSkipsACorruptRecordButKeepsTheOnesAfterIt) {
  TempDir dir;
  const std::string path = dir.Sub("drive");
  uint64_t offset_of_2 = 0;
  {
    auto drive = OpenOrDie(path);
    for (uint32_t i = 0; i < 5; ++i) {
      if (i == 2) offset_of_2 = drive->Usage().segment_bytes;
      ASSERT_TRUE(drive->Append({4, i}, PieceBytes({4, i}, 20000)).ok());
    }
  }
  testutil::XorByteAt(testutil::SegmentPath(path, 1), offset_of_2 + RecordPrefixSize(20000) + 9000);
  fs::remove_all(path + "/index");
  auto drive = OpenOrDie(path);
  EXPECT_EQ(drive->Read({4, 2}).status().code(), StatusCode::kNotFound);
  for (uint32_t i : {0u, 1u, 3u, 4u}) ExpectPiece(*drive, {4, i}, PieceBytes({4, i}, 20000));
}

TEST(DriveRecoveryTest, MissingSegmentLosesOnlyItsPieces) {
  TempDir dir;
  const std::string path = dir.Sub("drive");
  const DriveOptions options = TestOptions(64 * 1024);
  {
    auto drive = OpenOrDie(path, options);
    for (uint32_t i = 0; i < 20; ++i) {
      ASSERT_TRUE(drive->Append({5, i}, PieceBytes({5, i}, 30000)).ok());
    }
  }
  // Three 30 KiB records per 64 KiB segment: segment 2 holds pieces 3, 4, 5.
  fs::remove(testutil::SegmentPath(path, 2));
  auto drive = OpenOrDie(path, options);
  for (uint32_t i = 0; i < 20; ++i) {
    if (i >= 3 && i <= 5) {
      EXPECT_EQ(drive->Read({5, i}).status().code(), StatusCode::kNotFound) << i;
    } else {
      ExpectPiece(*drive, {5, i}, PieceBytes({5, i}, 30000));
    }
  }
  EXPECT_EQ(drive->ListPieces().size(), 17u);
  EXPECT_EQ(drive->Usage().piece_count, 17u);
  ASSERT_TRUE(drive->Append({5, 20}, PieceBytes({5, 20}, 30000)).ok());
  drive.reset();
  drive = OpenOrDie(path, options);
  EXPECT_EQ(drive->ListPieces().size(), 18u);
}

TEST(DriveRecoveryTest, KilledWriterLosesNoSyncedPiece) {
  TempDir dir;
  const std::string path = dir.Sub("drive");
  OpenOrDie(path, TestOptions(kCrashSegmentSize));  // format

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(kCrashChildEnv) + "=" + std::to_string(fds[1]) + ":" + path);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  // gtest sets environments up only when some test is selected; select one
  // cheap test, which the child never reaches.
  std::string exe = "/proc/self/exe",
              filter = "--gtest_filter=PieceRecordTest.SizesFollowTheBlockCount";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ASSERT_EQ(spawned, 0);
  ::close(fds[1]);

  std::set<std::pair<uint64_t, uint32_t>> acked;
  std::vector<uint8_t> buf;
  auto drain = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    uint8_t chunk[4096];
    ssize_t n = ::read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) return false;
    buf.insert(buf.end(), chunk, chunk + n);
    size_t whole = buf.size() / 16 * 16;
    for (size_t i = 0; i < whole; i += 16) {
      uint64_t v[2];
      std::memcpy(v, buf.data() + i, 16);
      acked.emplace(v[0], static_cast<uint32_t>(v[1]));
    }
    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(whole));
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (acked.size() < kAckedBeforeKill && std::chrono::steady_clock::now() < deadline) drain(100);
  ::kill(pid, SIGKILL);
  while (drain(1000)) {
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  ASSERT_GE(acked.size(), kAckedBeforeKill);
  EXPECT_TRUE(buf.empty());

  auto drive = OpenOrDie(path, TestOptions(kCrashSegmentSize));
  for (const auto& [object, index] : acked) {
    PieceId id{object, index};
    ExpectPiece(*drive, id, PieceBytes(id, CrashPieceLength(id)));
  }
  // Pieces that were appended but never acknowledged may be there, intact.
  std::vector<PieceId> listed = drive->ListPieces();
  EXPECT_GE(listed.size(), acked.size());
  for (const PieceId& id : listed) ExpectPiece(*drive, id, PieceBytes(id, CrashPieceLength(id)));
  std::printf("killed writer: %zu acknowledged, %zu recovered, %zu segments\n", acked.size(),
              listed.size(), testutil::SegmentSizes(path).size());

  ASSERT_TRUE(drive->Append({99, 0}, PieceBytes({99, 0}, 1000)).ok());
  ASSERT_TRUE(drive->Sync().ok());
}

// Whatever bytes sit in segments/, Open() must not crash, and no read may
// return bytes other than those written.
TEST(DriveRecoveryTest, RandomSegmentContentNeverCrashesOpenOrReadsBadBytes) {
  std::mt19937_64 rng(20261121);
  for (int round = 0; round < 16; ++round) {
    TempDir dir;
    const std::string path = dir.Sub("drive");
    const DriveOptions options = TestOptions(64 * 1024);
    std::map<PieceId, size_t> written;
    {
      auto drive = OpenOrDie(path, options);
      const int pieces = static_cast<int>(rng() % 12);
      for (int i = 0; i < pieces; ++i) {
        PieceId id{static_cast<uint64_t>(round), static_cast<uint32_t>(i)};
        size_t length = rng() % 40000;
        ASSERT_TRUE(drive->Append(id, PieceBytes(id, length)).ok());
        written[id] = length;
      }
    }
    auto segments = testutil::SegmentSizes(path);
    const uint32_t next = segments.empty() ? 1 : segments.rbegin()->first + 1;
    switch (round % 4) {
      case 0:  // whole files of garbage
        for (uint32_t id = next; id < next + 3; ++id) {
          std::vector<uint8_t> junk(rng() % 100000);
          for (auto& b : junk) b = static_cast<uint8_t>(rng());
          testutil::AppendToFile(testutil::SegmentPath(path, id), junk);
        }
        break;
      case 1:  // garbage that starts like a record
        for (uint32_t id = next; id < next + 2; ++id) {
          std::vector<uint8_t> junk(32 + rng() % 30000);
          for (auto& b : junk) b = static_cast<uint8_t>(rng());
          std::memcpy(junk.data(), "TSP1", 4);
          PutLE32(junk.data() + 20, 0);                    // flags
          PutLE64(junk.data() + 24, rng() % junk.size());  // a length that fits
          testutil::AppendToFile(testutil::SegmentPath(path, id), junk);
        }
        break;
      default:  // random byte flips in the real segments, index kept or lost
        for (const auto& [id, size] : segments) {
          for (int k = 0; size > 0 && k < 5; ++k) {
            testutil::XorByteAt(testutil::SegmentPath(path, id), rng() % size,
                                static_cast<uint8_t>(1 + rng() % 255));
          }
        }
        if (round % 4 == 3) fs::remove_all(path + "/index");
        break;
    }
    auto drive = OpenOrDie(path, options);
    ASSERT_NE(drive, nullptr) << "round " << round;
    if (round % 4 <= 1) {
      // Pure garbage holds no record: truncated to nothing.
      for (const auto& [id, size] : testutil::SegmentSizes(path)) {
        if (id >= next) {
          EXPECT_EQ(size, 0u) << "round " << round << " segment " << id;
        }
      }
    }
    for (const PieceId& id : drive->ListPieces()) {
      ASSERT_TRUE(written.count(id)) << id.ToString();
      auto got = drive->Read(id);
      if (got.ok()) {
        EXPECT_EQ(*got, PieceBytes(id, written[id])) << "round " << round;
      } else {
        EXPECT_EQ(got.status().code(), StatusCode::kCorruption) << got.status().ToString();
      }
    }
    PieceId fresh{1000 + static_cast<uint64_t>(round), 0};
    ASSERT_TRUE(drive->Append(fresh, PieceBytes(fresh, 5000)).ok());
    drive.reset();
    drive = OpenOrDie(path, options);
    ExpectPiece(*drive, fresh, PieceBytes(fresh, 5000));
  }
}

}  // namespace
}  // namespace tessera::store
