// The metadata of one stored file: its name, size, times, checksums and
// where its pieces live. A value type; JSON is its stored and wire form.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "layout/geometry.h"

namespace tessera::meta {

// One drive of a file's placement.
struct DriveRef {
  uint32_t node = 0;  // node array id
  uint32_t lnum = 0;  // drive number within the node
  friend bool operator==(const DriveRef&, const DriveRef&) = default;
};

struct FileRecord {
  std::string ns;
  std::string path;
  uint64_t object_id = 0;  // names the file's pieces; a rewrite gets a new one
  uint64_t size = 0;
  int64_t created_ns = 0;   // first write of this path, ns since the epoch
  int64_t modified_ns = 0;  // last write
  uint32_t crc32c = 0;      // of the whole content
  std::string sha256;       // hex, of the whole content
  std::string protection;   // the policy it was written under, e.g. "+2"
  layout::Geometry geometry;
  // geometry.width() drives. Mirror copy c is on drives[c]; unit u of stripe
  // s is on drives[layout::DriveIndexForUnit(width, s, u)].
  std::vector<DriveRef> drives;

  friend bool operator==(const FileRecord&, const FileRecord&) = default;
};

nlohmann::json ToJson(const FileRecord& record);
// Corruption if the JSON does not describe a consistent record.
Result<FileRecord> FileRecordFromJson(const nlohmann::json& json);

std::string EncodeFileRecord(const FileRecord& record);
Result<FileRecord> DecodeFileRecord(std::string_view bytes);

}  // namespace tessera::meta
