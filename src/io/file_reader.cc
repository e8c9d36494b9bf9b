#include "io/file_reader.h"

#include <algorithm>

#include "common/units.h"
#include "io/codecs.h"
#include "io/piece_map.h"

namespace tessera::io {
namespace {

// Reads one piece and checks it has the length the record promises.
Result<std::vector<uint8_t>> ReadPiece(PieceStore& store, const PieceInfo& piece) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, store.Read(piece.drive, piece.id));
  if (bytes.size() != piece.length) {
    return Status::Corruption(DescribePiece(piece) + " holds " + std::to_string(bytes.size()) +
                              " bytes, expected " + std::to_string(piece.length));
  }
  return bytes;
}

}  // namespace

FileReader::FileReader(PieceStore& store, const meta::FileRecord& record)
    : store_(store), record_(record) {}

void FileReader::NoteRepair(const PieceInfo& piece, const Status& why,
                            const std::vector<uint8_t>& bytes) {
  // Only bad bytes: a missing piece may be a down drive or a delete racing this read.
  if (why.code() != StatusCode::kCorruption || repairs_.size() >= kMaxRepairs) return;
  repairs_.push_back({piece, bytes});
}

Result<std::vector<uint8_t>> FileReader::ReadMirrorUnit(uint64_t unit) {
  Status last_error;
  std::vector<PieceInfo> copies = PiecesOfStripe(record_, unit);
  std::stable_partition(copies.begin(), copies.end(),
                        [this](const PieceInfo& c) { return store_.IsLocal(c.drive); });
  std::vector<std::pair<PieceInfo, Status>> failed;
  for (const PieceInfo& copy : copies) {
    Result<std::vector<uint8_t>> bytes = ReadPiece(store_, copy);
    if (bytes.ok()) {
      if (!failed.empty()) ++degraded_units_;
      for (const auto& [bad, why] : failed) NoteRepair(bad, why, *bytes);
      return bytes;
    }
    failed.emplace_back(copy, bytes.status());
    last_error = bytes.status().WithContext(DescribePiece(copy));
  }
  return Status(last_error.code(), "every copy of unit " + std::to_string(unit) + " of " +
                                       record_.ns + "/" + record_.path +
                                       " is unreadable; last: " + last_error.message());
}

Result<std::vector<uint8_t>> FileReader::ReadStripeData(uint64_t stripe) {
  const int k = record_.geometry.data_units;
  const int width = record_.geometry.width();
  std::vector<PieceInfo> pieces = PiecesOfStripe(record_, stripe);
  const uint64_t unit_length = pieces.front().length;
  std::vector<std::vector<uint8_t>> units(width);
  std::vector<bool> present(width, false);
  int have = 0;
  Status last_error;
  std::vector<Status> failures(width);
  // Data units first; parity only as needed to replace the ones that failed.
  for (int unit = 0; unit < width && have < k; ++unit) {
    if (unit >= k && have + (width - unit) < k) break;
    Result<std::vector<uint8_t>> bytes = ReadPiece(store_, pieces[unit]);
    if (bytes.ok()) {
      units[unit] = std::move(bytes).value();
      present[unit] = true;
      ++have;
    } else {
      failures[unit] = bytes.status();
      last_error = bytes.status().WithContext(DescribePiece(pieces[unit]));
    }
  }
  bool all_data = std::all_of(present.begin(), present.begin() + k, [](bool p) { return p; });
  if (!all_data) {
    if (have < k) {
      return Status::Unavailable("stripe " + std::to_string(stripe) + " of " + record_.ns + "/" +
                                 record_.path + " has " + std::to_string(have) + " of " +
                                 std::to_string(width) + " units readable, needs " +
                                 std::to_string(k) + "; last error: " + last_error.message());
    }
    ASSIGN_OR_RETURN(const ec::ReedSolomon* codec, SharedCodec(k, record_.geometry.parity_units));
    std::vector<uint8_t*> pointers(width);
    for (int unit = 0; unit < width; ++unit) {
      units[unit].resize(unit_length);
      pointers[unit] = units[unit].data();
    }
    RETURN_IF_ERROR(codec->Reconstruct(unit_length, pointers, present));
    degraded_units_ +=
        static_cast<uint64_t>(std::count(present.begin(), present.begin() + k, false));
    for (int unit = 0; unit < k; ++unit) NoteRepair(pieces[unit], failures[unit], units[unit]);
  }
  std::vector<uint8_t> data;
  data.reserve(unit_length * k);
  for (int unit = 0; unit < k; ++unit)
    data.insert(data.end(), units[unit].begin(), units[unit].end());
  return data;
}

Result<std::vector<uint8_t>> FileReader::ReadStripeRange(uint64_t stripe, uint64_t from,
                                                         uint64_t to) {
  const int k = record_.geometry.data_units;
  std::vector<PieceInfo> pieces = PiecesOfStripe(record_, stripe);
  const uint64_t unit_length = pieces.front().length;
  if (unit_length == 0 || to > unit_length * k) {
    return Status::Corruption("stripe " + std::to_string(stripe) + " of " + record_.path +
                              " is shorter than the file record says");
  }
  const int first = static_cast<int>(from / unit_length);
  const int last = static_cast<int>((to - 1) / unit_length);
  std::vector<uint8_t> out;
  out.reserve(to - from);
  for (int unit = first; unit <= last; ++unit) {
    Result<std::vector<uint8_t>> bytes = ReadPiece(store_, pieces[unit]);
    if (!bytes.ok()) {
      // Rebuild: the whole stripe, from any k units.
      ASSIGN_OR_RETURN(std::vector<uint8_t> data, ReadStripeData(stripe));
      return std::vector<uint8_t>(data.begin() + static_cast<ptrdiff_t>(from),
                                  data.begin() + static_cast<ptrdiff_t>(to));
    }
    const uint64_t base = unit * unit_length;
    const uint64_t a = std::max(from, base) - base;
    const uint64_t b = std::min(to, base + unit_length) - base;
    out.insert(out.end(), bytes->begin() + static_cast<ptrdiff_t>(a),
               bytes->begin() + static_cast<ptrdiff_t>(b));
  }
  return out;
}

Status FileReader::Read(uint64_t offset, uint64_t length, const ByteSink& sink) {
  if (offset > record_.size || length > record_.size - offset) {
    return Status::InvalidArgument("range " + std::to_string(offset) + "+" +
                                   std::to_string(length) + " passes the end of a " +
                                   std::to_string(record_.size) + "-byte file");
  }
  if (length == 0) return Status::Ok();
  const bool striped = record_.geometry.kind == layout::Geometry::Kind::kStripe;
  // Bytes of file content each stripe (or mirror unit) covers.
  const uint64_t span =
      striped ? record_.geometry.data_units * record_.geometry.unit_size : kStripeUnitSize;
  const uint64_t end = offset + length;
  for (uint64_t index = offset / span; index * span < end; ++index) {
    uint64_t start = index * span;
    uint64_t from = std::max(offset, start) - start;
    uint64_t to = std::min({end, start + span, record_.size}) - start;
    if (striped) {
      ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadStripeRange(index, from, to));
      RETURN_IF_ERROR(sink(bytes));
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadMirrorUnit(index));
    if (to > bytes.size()) {
      return Status::Corruption("unit " + std::to_string(index) + " of " + record_.path +
                                " is shorter than the file record says");
    }
    RETURN_IF_ERROR(sink({bytes.data() + from, to - from}));
  }
  return Status::Ok();
}

}  // namespace tessera::io
