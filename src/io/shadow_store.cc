#include "io/shadow_store.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace tessera::io {

std::string FormatSin(uint64_t sin) {
  char text[20];
  std::snprintf(text, sizeof text, "%04x:%04x:%04x:%04x", static_cast<unsigned>(sin >> 48),
                static_cast<unsigned>((sin >> 32) & 0xffff),
                static_cast<unsigned>((sin >> 16) & 0xffff), static_cast<unsigned>(sin & 0xffff));
  return text;
}

std::string ContainerPrefix(uint64_t sin) {
  char text[18];
  std::snprintf(text, sizeof text, "%016llx/", static_cast<unsigned long long>(sin));
  return text;
}

std::string ChunkPath(const ChunkName& name) {
  if (name.clone) return ContainerPrefix(name.sin) + "full";
  char chunk[8];
  std::snprintf(chunk, sizeof chunk, "%04u", name.chunk);
  return ContainerPrefix(name.sin) + chunk;
}

Result<ChunkName> ParseChunkPath(std::string_view path) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(path) +
                                   "' is not a container chunk path (16 hex digits/4 digits)");
  };
  if (path.size() != 21 || path[16] != '/') return bad();
  ChunkName name;
  name.clone = path.substr(17) == "full";
  auto [hex_end, hex_error] = std::from_chars(path.data(), path.data() + 16, name.sin, 16);
  if (hex_error != std::errc() || hex_end != path.data() + 16) return bad();
  if (!name.clone) {
    auto [dec_end, dec_error] = std::from_chars(path.data() + 17, path.data() + 21, name.chunk);
    if (dec_error != std::errc() || dec_end != path.data() + 21 ||
        name.chunk >= kMaxContainerChunks) {
      return bad();
    }
  }
  for (char c : path.substr(0, 16)) {
    if (c >= 'A' && c <= 'F') return bad();  // ChunkPath writes lower case only
  }
  return name;
}

std::string DescribeStoredFile(const ChunkName& name) {
  if (name.clone) return "clone store " + FormatSin(name.sin);
  return "container " + FormatSin(name.sin) + " chunk " + std::to_string(name.chunk);
}

ChunkName StoredFileOf(const meta::ContainerExtent& extent) {
  if (extent.clone) return {extent.sin, 0, true};
  return {extent.sin, ChunkOf(extent.offset), false};
}

uint64_t OffsetInStoredFile(const meta::ContainerExtent& extent) {
  return extent.clone ? extent.offset : extent.offset - ChunkBase(ChunkOf(extent.offset));
}

Status TouchStoredFile(meta::MetadataStore& metadata, const meta::ContainerExtent& extent,
                       int64_t now_ns) {
  const ChunkName name = StoredFileOf(extent);
  const std::string ns(kShadowStoreNamespace), path = ChunkPath(name);
  // Retried while another touch or SmartPools changes the record meanwhile;
  // one ShadowStoreDelete freed is a tombstone, which the re-read finds.
  for (int attempt = 0; attempt < 5; ++attempt) {
    Result<meta::FileRecord> stored = metadata.Get(ns, path);
    if (!stored.ok() || stored->size == 0) {
      return Status::NotFound(DescribeStoredFile(name) + " is gone");
    }
    meta::FileRecord touched = *stored;
    touched.modified_ns = std::max(now_ns, stored->modified_ns + 1);
    ASSIGN_OR_RETURN(bool replaced,
                     metadata.ReplacePlacement(touched, stored->object_id, stored->modified_ns));
    if (replaced) return Status::Ok();
  }
  return Status::Unavailable(DescribeStoredFile(name) + " kept changing; try again");
}

Status ReadPackedFile(PieceStore& pieces, meta::MetadataStore& metadata,
                      const meta::FileRecord& record, uint64_t offset, uint64_t length,
                      const ByteSink& sink) {
  if (!record.packed) return Status::Internal("ReadPackedFile on a file that is not packed");
  if (offset > record.size || length > record.size - offset) {
    return Status::InvalidArgument("range passes the end of the file");
  }
  const meta::ContainerExtent& extent = *record.packed;
  const ChunkName chunk = StoredFileOf(extent);
  Result<meta::FileRecord> chunk_record =
      metadata.Get(std::string(kShadowStoreNamespace), ChunkPath(chunk));
  if (!chunk_record.ok()) {
    if (chunk_record.status().code() != StatusCode::kNotFound) return chunk_record.status();
    return Status::NotFound(DescribeStoredFile(chunk) + " holding " + record.ns + "/" +
                            record.path + " is gone");
  }
  if (chunk_record->size == 0) {  // freed by the defragmenter; its files moved on
    return Status::NotFound(DescribeStoredFile(chunk) + " holding " + record.ns + "/" +
                            record.path + " was freed");
  }
  const uint64_t within = OffsetInStoredFile(extent);
  if (within + record.size > chunk_record->size) {
    return Status::Corruption("extent of " + record.ns + "/" + record.path + " passes the end of " +
                              DescribeStoredFile(chunk));
  }
  FileReader reader(pieces, *chunk_record);
  return reader.Read(within + offset, length, sink);
}

Status ReadFileContent(PieceStore& pieces, meta::MetadataStore& metadata,
                       const meta::FileRecord& record, uint64_t offset, uint64_t length,
                       const ByteSink& sink) {
  if (!record.is_packed()) return FileReader(pieces, record).Read(offset, length, sink);
  Status s = ReadPackedFile(pieces, metadata, record, offset, length, sink);
  if (s.code() != StatusCode::kNotFound) return s;
  Result<meta::FileRecord> moved = metadata.Get(record.ns, record.path);
  if (!moved.ok() || moved->object_id == record.object_id || moved->size != record.size ||
      moved->sha256 != record.sha256) {
    return s;
  }
  return ReadFileContent(pieces, metadata, *moved, offset, length, sink);
}

}  // namespace tessera::io
