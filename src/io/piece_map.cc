#include "io/piece_map.h"

#include <algorithm>

#include "common/units.h"
#include "layout/placement.h"
#include "store/piece_record.h"

namespace tessera::io {

using layout::Geometry;

std::string_view PieceRoleName(PieceRole role) {
  switch (role) {
    case PieceRole::kCopy:
      return "copy";
    case PieceRole::kData:
      return "data";
    case PieceRole::kParity:
      return "parity";
  }
  return "?";
}

uint64_t StripeCount(const meta::FileRecord& record) {
  if (record.is_packed()) return 0;
  if (record.geometry.kind == Geometry::Kind::kStripe) return record.geometry.stripe_count;
  return (record.size + kStripeUnitSize - 1) / kStripeUnitSize;
}

std::vector<PieceInfo> PiecesOfStripe(const meta::FileRecord& record, uint64_t stripe) {
  const Geometry& g = record.geometry;
  std::vector<PieceInfo> pieces;
  if (g.kind == Geometry::Kind::kMirror) {
    uint64_t length = std::min(kStripeUnitSize, record.size - stripe * kStripeUnitSize);
    for (int copy = 0; copy < g.copies; ++copy) {
      pieces.push_back({stripe,
                        copy,
                        PieceRole::kCopy,
                        record.drives[copy],
                        {record.object_id, static_cast<uint32_t>(stripe)},
                        length});
    }
    return pieces;
  }
  int width = g.width();
  uint64_t length = layout::StripeUnitLength(g, record.size, stripe);
  for (int unit = 0; unit < width; ++unit) {
    pieces.push_back({stripe,
                      unit,
                      unit < g.data_units ? PieceRole::kData : PieceRole::kParity,
                      record.drives[layout::DriveIndexForUnit(width, stripe, unit)],
                      {record.object_id, static_cast<uint32_t>(stripe * width + unit)},
                      length});
  }
  return pieces;
}

std::vector<PieceInfo> PiecesOf(const meta::FileRecord& record) {
  std::vector<PieceInfo> all;
  uint64_t stripes = StripeCount(record);
  for (uint64_t s = 0; s < stripes; ++s) {
    std::vector<PieceInfo> pieces = PiecesOfStripe(record, s);
    all.insert(all.end(), pieces.begin(), pieces.end());
  }
  return all;
}

uint64_t PhysicalBytes(const meta::FileRecord& record) {
  uint64_t total = 0;
  for (const PieceInfo& piece : PiecesOf(record)) {
    total += store::RecordPrefixSize(piece.length) + piece.length;
  }
  return total;
}

std::string DescribePiece(const PieceInfo& piece) {
  return "piece " + piece.id.ToString() + " on drive " + std::to_string(piece.drive.node) + ":" +
         std::to_string(piece.drive.lnum);
}

}  // namespace tessera::io
