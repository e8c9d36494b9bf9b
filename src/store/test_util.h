// Helpers shared by the store tests: deterministic piece bytes, drives
// opened with test options, and direct access to segment files for damage
// injection. Temporary directories are tests/support/temp_dir.h's TempDir.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/drive.h"
#include "store/piece_id.h"
#include "store/segment_file.h"
#include "tests/support/temp_dir.h"

namespace tessera::store::testutil {

inline constexpr char kCluster[] = "5e0c7a1e-0000-4000-8000-00000000c1a5";
inline constexpr uint64_t kNode = 7;

// Bytes that are a function of the id and the length (xorshift), so any
// piece found on a drive can be checked without remembering what was written.
inline std::vector<uint8_t> PieceBytes(const PieceId& id, size_t length) {
  std::vector<uint8_t> out(length);
  uint64_t x = (id.object * 0x9E3779B97F4A7C15ull) ^ (uint64_t{id.index} << 32) ^ length ^ 1;
  for (size_t i = 0; i < length; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<uint8_t>(x);
  }
  return out;
}

inline DriveOptions TestOptions(uint64_t segment_size = 64ull << 20) {
  DriveOptions o;
  o.segment_size = segment_size;
  o.reserved_bytes = 0;
  return o;
}

inline DriveIdentity NewIdentity(uint32_t lnum = 3) {
  DriveIdentity id;
  id.lnum = lnum;
  return id;
}

inline std::unique_ptr<Drive> OpenOrDie(const std::string& path,
                                        const DriveOptions& options = TestOptions()) {
  auto drive = Drive::Open(path, kCluster, kNode, NewIdentity(), options);
  EXPECT_TRUE(drive.ok()) << drive.status().ToString();
  if (!drive.ok()) return nullptr;
  return std::move(drive).value();
}

// Segment files of the drive at `path`, by id, with their sizes.
inline std::map<uint32_t, uint64_t> SegmentSizes(const std::string& path) {
  std::map<uint32_t, uint64_t> sizes;
  for (const auto& e : std::filesystem::directory_iterator(path + "/segments")) {
    if (auto id = SegmentFile::ParseFileName(e.path().filename().string())) {
      sizes[*id] = std::filesystem::file_size(e.path());
    }
  }
  return sizes;
}

inline std::string SegmentPath(const std::string& path, uint32_t id) {
  return path + "/segments/" + SegmentFile::FileName(id);
}

// Allocated bytes (what du counts) of the drive's segment files.
inline uint64_t SegmentAllocatedBytes(const std::string& path) {
  uint64_t total = 0;
  for (const auto& [id, size] : SegmentSizes(path)) {
    struct stat sb;
    if (::stat(SegmentPath(path, id).c_str(), &sb) == 0) total += uint64_t(sb.st_blocks) * 512;
  }
  return total;
}

inline void XorByteAt(const std::string& file, uint64_t offset, uint8_t mask = 0x5a) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << file;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  ASSERT_TRUE(f.good()) << file << " offset " << offset;
  c = static_cast<char>(c ^ mask);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

inline void AppendToFile(const std::string& file, const std::vector<uint8_t>& bytes) {
  std::ofstream f(file, std::ios::binary | std::ios::app);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace tessera::store::testutil
