#include "jobs/container_inventory.h"

#include <algorithm>

#include "io/piece_map.h"

namespace tessera::jobs {

double ChunkUsage::efficiency() const {
  return physical_bytes ? static_cast<double>(live_bytes) / static_cast<double>(physical_bytes)
                        : 0.0;
}

double ChunkUsage::max_efficiency() const {
  const layout::Geometry& g = record.geometry;
  if (g.kind == layout::Geometry::Kind::kStripe) {
    return static_cast<double>(g.data_units) / static_cast<double>(g.width());
  }
  return g.copies ? 1.0 / g.copies : 0.0;
}

double ChunkUsage::fragmentation() const {
  if (record.size == 0) return 0.0;
  const layout::Geometry& g = record.geometry;
  const uint64_t stripe_bytes = g.kind == layout::Geometry::Kind::kStripe
                                    ? g.unit_size * static_cast<uint64_t>(g.data_units)
                                    : record.size;
  uint64_t holes = 0;
  size_t next = 0;  // first extent that may reach into the current stripe
  for (uint64_t start = 0; start < record.size; start += stripe_bytes) {
    const uint64_t end = std::min(record.size, start + stripe_bytes);
    uint64_t live = 0;
    while (next < extents.size() && extents[next].first + extents[next].second <= start) ++next;
    for (size_t i = next; i < extents.size() && extents[i].first < end; ++i) {
      uint64_t from = std::max(start, extents[i].first);
      uint64_t to = std::min(end, extents[i].first + extents[i].second);
      if (to > from) live += to - from;
    }
    if (live > 0) holes += (end - start) - std::min(live, end - start);
  }
  return static_cast<double>(holes) / static_cast<double>(record.size);
}

bool ChunkUsage::NeedsDefrag(double target) const {
  return !clone() && !freed() && live_bytes > 0 && efficiency() < target * max_efficiency();
}

double ContainerUsage::efficiency() const {
  return psize ? static_cast<double>(lsize) / static_cast<double>(psize) : 0.0;
}

double ContainerUsage::fragmentation() const {
  double holes = 0;
  for (const auto& [n, c] : chunks) holes += c.fragmentation() * static_cast<double>(c.record.size);
  return filesize ? holes / static_cast<double>(filesize) : 0.0;
}

Result<ContainerInventory> ContainerInventory::Take(
    meta::MetadataStore& metadata, const std::function<void(const meta::FileRecord&)>& visit) {
  ContainerInventory inventory;
  RETURN_IF_ERROR(metadata.ForEach([&](const meta::FileRecord& record) {
    inventory.Add(record);
    if (visit && record.ns != io::kShadowStoreNamespace) visit(record);
    return true;
  }));
  inventory.Finish();
  return inventory;
}

void ContainerInventory::Add(const meta::FileRecord& record) {
  if (record.ns == io::kShadowStoreNamespace) {
    Result<io::ChunkName> name = io::ParseChunkPath(record.path);
    if (!name.ok()) return;  // not a chunk: nothing else is written there
    ContainerUsage& container = containers_[name->sin];
    container.sin = name->sin;
    container.clone = name->clone;
    ChunkUsage& chunk = container.chunks[name->chunk];
    chunk.name = *name;
    chunk.record = record;
    chunk.physical_bytes = io::PhysicalBytes(record);
    return;
  }
  if (record.packed) {
    refs_[record.packed->sin].push_back({*record.packed, record.size});
  } else {
    native_objects_.insert(record.object_id);
  }
}

void ContainerInventory::Finish() {
  for (auto& [sin, refs] : refs_) {
    auto container = containers_.find(sin);
    for (const Ref& ref : refs) {
      if (container == containers_.end()) {
        ++dangling_refs_;
        continue;
      }
      const io::ChunkName name = io::StoredFileOf(ref.extent);
      auto chunk = container->second.chunks.find(name.chunk);
      if (chunk == container->second.chunks.end() || chunk->second.freed() ||
          chunk->second.clone() != ref.extent.clone) {
        ++dangling_refs_;
        continue;
      }
      ++chunk->second.refs;
      chunk->second.extents.emplace_back(io::OffsetInStoredFile(ref.extent), ref.length);
    }
  }
  refs_.clear();
  for (auto& [sin, container] : containers_) {
    for (auto& [n, chunk] : container.chunks) {
      std::sort(chunk.extents.begin(), chunk.extents.end());
      // Live bytes: the union of the extents (clones share theirs).
      uint64_t covered_to = 0;
      for (const auto& [offset, length] : chunk.extents) {
        const uint64_t end = offset + length;
        if (end > covered_to) {
          chunk.live_bytes += end - std::max(offset, covered_to);
          covered_to = end;
        }
      }
      container.lsize += chunk.live_bytes;
      container.psize += chunk.physical_bytes;
      container.refs += chunk.refs;
      container.filesize += chunk.record.size;
      if (container.created_ns == 0 || chunk.record.created_ns < container.created_ns) {
        container.created_ns = chunk.record.created_ns;
      }
      if (!chunk.freed()) container.protection = chunk.record.protection;
    }
  }
}

}  // namespace tessera::jobs
