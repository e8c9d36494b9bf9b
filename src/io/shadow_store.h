// Shadow stores: where packed and cloned files' bytes live.
//
// A container is named by its SIN (a cluster-unique 64-bit id) and is
// stored as a series of chunk files in the reserved namespace `_sstore`:
// chunk c of container s is the file "<s as 16 hex digits>/<c as 4 digits>".
// Each chunk is an ordinary file of at most kContainerChunkSize bytes, so it
// is erasure-coded across nodes like any file of its size, FlexProtect
// rebuilds it like any other. The defragmenter frees a chunk by deleting its
// pieces and leaving an empty record in its place (a tombstone), so that a
// chunk number is never used twice: a reader holding an old record then
// finds nothing rather than other files' bytes.
//
// Offsets: the container's address space gives chunk c the range starting
// at c * kContainerChunkSize. A packed file's extent lies inside one chunk,
// so reading it costs one extra metadata lookup (the chunk's record).
//
// A clone store holds the content of one file that several files share
// (clones, snapshots: io/clone_store.h): the single file
// "<s as 16 hex digits>/full", of any size; its referring files' extents
// are offsets into it.
//
// Pure naming helpers plus ReadPackedFile; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/units.h"
#include "io/file_reader.h"
#include "io/piece_store.h"
#include "meta/file_record.h"
#include "meta/metadata_store.h"

namespace tessera::io {

inline constexpr std::string_view kShadowStoreNamespace = "_sstore";
inline constexpr uint64_t kContainerChunkSize = 32 * kMiB;
// A container holds at most this many chunks (1 GiB of address space).
inline constexpr uint32_t kMaxContainerChunks = 32;

// "0001:0000:0000:002a": the SIN as operators see it.
std::string FormatSin(uint64_t sin);

// A stored file of a shadow store: chunk `chunk` of a container, or the
// one file of a clone store (chunk 0).
struct ChunkName {
  uint64_t sin = 0;
  uint32_t chunk = 0;
  bool clone = false;
  friend bool operator==(const ChunkName&, const ChunkName&) = default;
};
// "000100000000002a/0003", or "000100000000002a/full" for a clone store.
std::string ChunkPath(const ChunkName& name);
// InvalidArgument for a path ChunkPath would not produce.
Result<ChunkName> ParseChunkPath(std::string_view path);
// The prefix every chunk of container `sin` starts with: "<16 hex>/".
std::string ContainerPrefix(uint64_t sin);

inline uint64_t ChunkBase(uint32_t chunk) { return chunk * kContainerChunkSize; }
inline uint32_t ChunkOf(uint64_t container_offset) {
  return static_cast<uint32_t>(container_offset / kContainerChunkSize);
}
// "container 0001:0000:0000:002a chunk 3" or "clone store 0001:...".
std::string DescribeStoredFile(const ChunkName& name);
// The stored file an extent lies in, and where in it the extent starts.
ChunkName StoredFileOf(const meta::ContainerExtent& extent);
uint64_t OffsetInStoredFile(const meta::ContainerExtent& extent);

// Marks the chunk or clone store `extent` lies in as just given a new
// reference: its record's modified_ns moves forward (its pieces and object
// id stay). Clones and snapshots call it once they have written the
// reference, before they answer. ShadowStoreDelete frees a store only by a
// compare-and-swap on the version it saw before its scan, so a store that
// gained a reference during the scan is never freed; and a store freed
// first makes this fail (NotFound), so the clone or snapshot is undone.
Status TouchStoredFile(meta::MetadataStore& metadata, const meta::ContainerExtent& extent,
                       int64_t now_ns);

// Reads [offset, offset + length) of packed or cloned file `record` from
// its container chunk or clone store. NotFound naming the chunk when the chunk record is gone
// or freed (the file was moved meanwhile: the caller may fetch the record
// again);
// InvalidArgument when the range passes the end of the file.
Status ReadPackedFile(PieceStore& pieces, meta::MetadataStore& metadata,
                      const meta::FileRecord& record, uint64_t offset, uint64_t length,
                      const ByteSink& sink);

// Reads [offset, offset + length) of any file: native from its pieces,
// packed from its chunk. A packed file that a job moved after the caller
// fetched its record (NotFound from its old chunk) is read from its new
// place when the current record holds the same content.
Status ReadFileContent(PieceStore& pieces, meta::MetadataStore& metadata,
                       const meta::FileRecord& record, uint64_t offset, uint64_t length,
                       const ByteSink& sink);

}  // namespace tessera::io
