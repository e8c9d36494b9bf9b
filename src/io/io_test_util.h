// Helpers for tests that write and read files through a PieceStore.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/file_reader.h"
#include "io/file_writer.h"
#include "io/local_piece_store.h"
#include "meta/file_record.h"

namespace tessera::io::test_util {

// `n` bytes from a seeded PRNG: the same seed gives the same bytes.
inline std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937_64 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// A node's store over `count` fresh drives, "<dir>/d0".. (cluster
// "test-cluster", node `node`).
inline std::unique_ptr<LocalPieceStore> OpenTestDrives(const std::string& dir, int count,
                                                       uint32_t node = 1) {
  auto store = std::make_unique<LocalPieceStore>(node);
  for (uint32_t lnum = 0; lnum < static_cast<uint32_t>(count); ++lnum) {
    store::DriveIdentity id;
    id.cluster_guid = "test-cluster";
    id.array_id = node;
    id.lnum = lnum;
    auto drive = store::Drive::Open(dir + "/d" + std::to_string(lnum), "test-cluster", node, id);
    if (!drive.ok()) return nullptr;
    store->AddDrive(std::move(drive).value());
  }
  return store;
}

// The record a node would commit for `written` (as ns/f).
inline meta::FileRecord RecordFor(const WrittenFile& written, const std::string& protection,
                                  uint64_t object_id) {
  return written.Record("ns", "f", object_id, protection, 0);
}

// The whole file; `degraded`, if given, counts units rebuilt on the way.
inline Result<std::vector<uint8_t>> ReadAll(PieceStore& store, const meta::FileRecord& record,
                                            uint64_t* degraded = nullptr) {
  std::vector<uint8_t> out;
  FileReader reader(store, record);
  Status s = reader.Read(0, record.size, [&](std::span<const uint8_t> b) {
    out.insert(out.end(), b.begin(), b.end());
    return Status::Ok();
  });
  if (degraded) *degraded = reader.degraded_units();
  if (!s.ok()) return s;
  return out;
}

}  // namespace tessera::io::test_util
