// The metadata of one stored file: its name, size, times, checksums and
// where its pieces live. A value type; JSON is its stored and wire form.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
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

// Where a packed or cloned file's bytes are: [offset, offset + size) of the
// shadow store `sin`: a container of packed small files, or (clone) a clone
// store holding one file's content that several files share. See
// io/shadow_store.h for how offsets map to stored files.
struct ContainerExtent {
  uint64_t sin = 0;
  uint64_t offset = 0;
  bool clone = false;
  friend bool operator==(const ContainerExtent&, const ContainerExtent&) = default;
};

// Whether a file should live natively or in a container, as the SmartPools
// job last decided it:
//   packing_policy  container when the file pool policy that matches the
//                   file enables packing, else native;
//   packing_target  container when, in addition, the file is eligible now
//                   (packing enabled, small enough, old enough).
// packing_complete is derived: the file is where its target says.
enum class PackingPlace { kNative, kContainer };
std::string_view PackingPlaceName(PackingPlace place);  // "native", "container"

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
  // Empty for a packed file, whose bytes are in a container instead.
  std::vector<DriveRef> drives;
  std::optional<ContainerExtent> packed;
  PackingPlace packing_policy = PackingPlace::kNative;
  PackingPlace packing_target = PackingPlace::kNative;

  // Packed or cloned: the bytes are in a shadow store, not pieces of its own.
  bool is_packed() const { return packed.has_value(); }
  bool is_cloned() const { return packed.has_value() && packed->clone; }
  bool packing_complete() const {
    return is_packed() == (packing_target == PackingPlace::kContainer);
  }

  friend bool operator==(const FileRecord&, const FileRecord&) = default;
};

nlohmann::json ToJson(const FileRecord& record);
// Corruption if the JSON does not describe a consistent record.
Result<FileRecord> FileRecordFromJson(const nlohmann::json& json);

std::string EncodeFileRecord(const FileRecord& record);
Result<FileRecord> DecodeFileRecord(std::string_view bytes);

}  // namespace tessera::meta
