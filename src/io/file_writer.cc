#include "io/file_writer.h"

#include <algorithm>
#include <cstring>

#include "common/crc32c.h"
#include "common/units.h"
#include "io/codecs.h"
#include "io/piece_map.h"
#include "layout/placement.h"

namespace tessera::io {

FileWriter::FileWriter(PieceStore& store, const layout::ProtectionPolicy& policy,
                       uint64_t object_id)
    : store_(store), policy_(policy), object_id_(object_id) {}

Status FileWriter::Write(std::span<const uint8_t> bytes) {
  size_ += bytes.size();
  crc_ = Crc32cExtend(crc_, bytes.data(), bytes.size());
  sha_.Update(bytes.data(), bytes.size());
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  if (mode_ == Mode::kUndecided && Buffered() >= kStripeUnitSize) {
    RETURN_IF_ERROR(Decide(size_, /*final=*/false));
  }
  return FlushFullUnits();
}

Status FileWriter::Decide(uint64_t size_so_far, bool final) {
  // Below one stripe unit the file is mirrored; at or past it, the geometry
  // depends only on the topology, so any size >= one unit plans the same.
  uint64_t planning_size = final ? size_so_far : std::max<uint64_t>(size_so_far, kStripeUnitSize);
  layout::Topology topology = store_.WritableTopology();
  ASSIGN_OR_RETURN(geometry_, layout::PlanGeometry(policy_, planning_size, topology));
  ASSIGN_OR_RETURN(std::vector<layout::DriveSlot> slots,
                   layout::PlaceUnits(policy_, geometry_, topology, object_id_));
  for (const layout::DriveSlot& slot : slots) drives_.push_back({slot.node, slot.lnum});
  if (geometry_.kind == layout::Geometry::Kind::kStripe) {
    ASSIGN_OR_RETURN(codec_, SharedCodec(geometry_.data_units, geometry_.parity_units));
    parity_.assign(geometry_.parity_units, std::vector<uint8_t>(geometry_.unit_size));
    mode_ = Mode::kStripe;
  } else {
    mode_ = Mode::kMirror;
  }
  return Status::Ok();
}

Status FileWriter::FlushFullUnits() {
  if (mode_ == Mode::kStripe) {
    size_t stripe_bytes = geometry_.data_units * geometry_.unit_size;
    // Keep the last full stripe buffered until more arrives: it may be the
    // file's last, whose geometry Finish() records.
    while (Buffered() > stripe_bytes) {
      RETURN_IF_ERROR(WriteStripe({buffer_.data() + buffer_start_, stripe_bytes}, false));
      ConsumeBuffer(stripe_bytes);
    }
  } else if (mode_ == Mode::kMirror) {
    while (Buffered() > kStripeUnitSize) {
      RETURN_IF_ERROR(WriteMirrorUnit({buffer_.data() + buffer_start_, kStripeUnitSize}));
      ConsumeBuffer(kStripeUnitSize);
    }
  }
  return Status::Ok();
}

void FileWriter::ConsumeBuffer(size_t n) {
  buffer_start_ += n;
  if (buffer_start_ == buffer_.size()) {
    buffer_.clear();
    buffer_start_ = 0;
  } else if (buffer_start_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(buffer_start_));
    buffer_start_ = 0;
  }
}

Status FileWriter::AppendPiece(const meta::DriveRef& drive, const store::PieceId& id,
                               std::span<const uint8_t> bytes) {
  Status s = store_.Append(drive, id, bytes);
  if (s.ok()) written_.push_back({drive, id});
  return s;
}

Status FileWriter::WriteMirrorUnit(std::span<const uint8_t> data) {
  for (int copy = 0; copy < geometry_.copies; ++copy) {
    RETURN_IF_ERROR(
        AppendPiece(drives_[copy], {object_id_, static_cast<uint32_t>(next_unit_)}, data));
  }
  ++next_unit_;
  return Status::Ok();
}

Status FileWriter::WriteStripe(std::span<const uint8_t> data, bool last) {
  const int k = geometry_.data_units;
  const int m = geometry_.parity_units;
  const int width = k + m;
  uint64_t unit_length = geometry_.unit_size;
  std::vector<uint8_t> padded;
  if (last) {
    unit_length = layout::StripeUnitLength(geometry_, size_, next_unit_);
    padded.assign(unit_length * k, 0);
    std::memcpy(padded.data(), data.data(), data.size());
    data = padded;
  }
  std::vector<const uint8_t*> data_units(k);
  for (int j = 0; j < k; ++j) data_units[j] = data.data() + j * unit_length;
  std::vector<uint8_t*> parity_units(m);
  for (int j = 0; j < m; ++j) parity_units[j] = parity_[j].data();
  codec_->Encode(unit_length, data_units, parity_units);
  uint64_t stripe = next_unit_;
  for (int unit = 0; unit < width; ++unit) {
    const uint8_t* bytes = unit < k ? data_units[unit] : parity_units[unit - k];
    store::PieceId id{object_id_, static_cast<uint32_t>(stripe * width + unit)};
    RETURN_IF_ERROR(AppendPiece(drives_[layout::DriveIndexForUnit(width, stripe, unit)], id,
                                {bytes, unit_length}));
  }
  ++next_unit_;
  return Status::Ok();
}

Result<WrittenFile> FileWriter::Finish() {
  if (mode_ == Mode::kUndecided) RETURN_IF_ERROR(Decide(size_, /*final=*/true));
  if (mode_ == Mode::kStripe) {
    if (Buffered() > 0) {
      RETURN_IF_ERROR(WriteStripe({buffer_.data() + buffer_start_, Buffered()}, true));
    }
    geometry_.stripe_count = next_unit_;
  } else {
    RETURN_IF_ERROR(FlushFullUnits());
    if (Buffered() > 0)
      RETURN_IF_ERROR(WriteMirrorUnit({buffer_.data() + buffer_start_, Buffered()}));
  }
  buffer_.clear();
  buffer_start_ = 0;
  RETURN_IF_ERROR(store_.Sync(drives_));

  WrittenFile file;
  file.size = size_;
  file.crc32c = crc_;
  file.sha256 = sha_.HexDigest();
  file.geometry = geometry_;
  file.drives = drives_;
  return file;
}

void FileWriter::Abort() {
  for (const auto& [drive, id] : written_) (void)store_.Delete(drive, id);
  written_.clear();
}

meta::FileRecord WrittenFile::Record(std::string ns, std::string path, uint64_t object_id,
                                     std::string protection, int64_t now_ns) const {
  meta::FileRecord record;
  record.ns = std::move(ns);
  record.path = std::move(path);
  record.object_id = object_id;
  record.size = size;
  record.created_ns = record.modified_ns = now_ns;
  record.crc32c = crc32c;
  record.sha256 = sha256;
  record.protection = std::move(protection);
  record.geometry = geometry;
  record.drives = drives;
  return record;
}

void DeleteFilePieces(PieceStore& store, const meta::FileRecord& record) {
  for (const PieceInfo& piece : PiecesOf(record)) (void)store.Delete(piece.drive, piece.id);
}

}  // namespace tessera::io
