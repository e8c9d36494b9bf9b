#include "jobs/media_scan.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/crc32c.h"
#include "common/units.h"
#include "io/codecs.h"
#include "io/piece_map.h"
#include "io/piece_repair.h"
#include "jobs/pacer.h"

namespace tessera::jobs {
namespace {

std::string Name(const meta::FileRecord& r) { return r.ns + "/" + r.path; }

std::string Describe(const io::PieceInfo& p) {
  return "piece " + p.id.ToString() + " on drive " + std::to_string(p.drive.node) + ":" +
         std::to_string(p.drive.lnum);
}

// A piece that failed this way is damage on a drive that works; anything
// else (a down drive or node, a timeout) is not this job's to fix.
bool Repairable(StatusCode code) {
  return code == StatusCode::kCorruption || code == StatusCode::kIOError ||
         code == StatusCode::kNotFound;
}

// Whether the file still has `record`'s placement (errors count as yes:
// a problem is not dropped on a guess).
bool StillPlaced(meta::MetadataStore& metadata, const meta::FileRecord& record) {
  Result<meta::FileRecord> current = metadata.Get(record.ns, record.path);
  if (current.status().code() == StatusCode::kNotFound) return false;
  return !current.ok() || io::SamePlacement(*current, record);
}

// One stripe (or a mirror's copies of one unit) as read, then rebuilt.
struct StripeScan {
  std::vector<io::PieceInfo> pieces;
  std::vector<std::vector<uint8_t>> units;
  std::vector<bool> good;
  std::vector<std::pair<size_t, Status>> bad;  // repairable failures
};

StripeScan ReadStripe(io::PieceStore& store, const meta::FileRecord& record, uint64_t stripe,
                      MediaScanResult& out) {
  StripeScan s;
  s.pieces = io::PiecesOfStripe(record, stripe);
  s.units.resize(s.pieces.size());
  s.good.assign(s.pieces.size(), false);
  for (size_t i = 0; i < s.pieces.size(); ++i) {
    const io::PieceInfo& piece = s.pieces[i];
    Result<std::vector<uint8_t>> bytes = store.Read(piece.drive, piece.id);
    ++out.pieces_scanned;
    Status why = bytes.status();
    if (bytes.ok()) {
      out.bytes_scanned += bytes->size();
      if (bytes->size() != piece.length) {
        why = Status::Corruption("holds " + std::to_string(bytes->size()) + " bytes, expected " +
                                 std::to_string(piece.length));
      }
    }
    if (why.ok()) {
      s.units[i] = std::move(bytes).value();
      s.good[i] = true;
    } else if (Repairable(why.code())) {
      s.bad.emplace_back(i, why);
    } else {
      ++out.pieces_unavailable;
    }
  }
  return s;
}

// Fills every unit that is not good from the good ones. Unavailable when
// too few are good.
Status Rebuild(const meta::FileRecord& record, StripeScan& s) {
  const size_t have = static_cast<size_t>(std::count(s.good.begin(), s.good.end(), true));
  if (record.geometry.kind == layout::Geometry::Kind::kMirror) {
    if (have == 0) return Status::Unavailable("no copy is readable");
    const size_t source =
        static_cast<size_t>(std::find(s.good.begin(), s.good.end(), true) - s.good.begin());
    for (size_t i = 0; i < s.units.size(); ++i) {
      if (!s.good[i]) s.units[i] = s.units[source];
    }
    return Status::Ok();
  }
  const int k = record.geometry.data_units;
  if (have < static_cast<size_t>(k)) {
    return Status::Unavailable(std::to_string(have) + " of " + std::to_string(s.units.size()) +
                               " units are readable, " + std::to_string(k) + " are needed");
  }
  if (have == s.units.size()) return Status::Ok();
  ASSIGN_OR_RETURN(const ec::ReedSolomon* codec, io::SharedCodec(k, record.geometry.parity_units));
  const uint64_t length = s.pieces.front().length;
  std::vector<uint8_t*> pointers(s.units.size());
  for (size_t i = 0; i < s.units.size(); ++i) {
    s.units[i].resize(length);
    pointers[i] = s.units[i].data();
  }
  return codec->Reconstruct(length, pointers, s.good);
}

// Extends `crc` over the file content the stripe holds.
uint32_t ExtendContentCrc(uint32_t crc, const meta::FileRecord& record, uint64_t stripe,
                          const StripeScan& s) {
  if (record.geometry.kind == layout::Geometry::Kind::kMirror) {
    return Crc32cExtend(crc, s.units[0].data(), s.units[0].size());
  }
  const uint64_t span = record.geometry.data_units * record.geometry.unit_size;
  uint64_t left = std::min(span, record.size - stripe * span);
  for (int unit = 0; unit < record.geometry.data_units && left > 0; ++unit) {
    const uint64_t n = std::min<uint64_t>(left, s.units[unit].size());
    crc = Crc32cExtend(crc, s.units[unit].data(), n);
    left -= n;
  }
  return crc;
}

}  // namespace

MediaScanResult ScanFile(io::PieceStore& store, meta::MetadataStore& metadata,
                         const meta::FileRecord& record) {
  MediaScanResult out;
  uint32_t crc = 0;
  bool content_read = true;
  const uint64_t stripes = io::StripeCount(record);
  for (uint64_t stripe = 0; stripe < stripes; ++stripe) {
    StripeScan s = ReadStripe(store, record, stripe, out);
    if (Status rebuilt = Rebuild(record, s); !rebuilt.ok()) {
      out.problems.push_back(Name(record) + ": stripe " + std::to_string(stripe) +
                             " cannot be rebuilt: " + rebuilt.message());
      content_read = false;
      continue;
    }
    if (content_read) crc = ExtendContentCrc(crc, record, stripe, s);
    for (const auto& [index, why] : s.bad) {
      const io::PieceInfo& piece = s.pieces[index];
      Result<bool> repaired = io::RewritePiece(store, metadata, record, piece, s.units[index]);
      if (!repaired.ok()) {
        out.problems.push_back(Name(record) + ": " + Describe(piece) + " (" + why.ToString() +
                               ") could not be written again: " + repaired.status().ToString());
        continue;
      }
      if (!*repaired) {
        out.moved = true;
        out.problems.clear();
        return out;
      }
      ++out.pieces_repaired;
      out.repairs.push_back(Name(record) + ": " + Describe(piece) + " (" + why.ToString() +
                            ") rebuilt and written again");
    }
  }
  if (content_read && crc != record.crc32c) {
    out.problems.push_back(Name(record) + ": its content's CRC32C " + std::to_string(crc) +
                           " does not match the record's " + std::to_string(record.crc32c));
  }
  // Damage seen in pieces a client's rewrite or delete freed meanwhile is
  // no damage.
  if (!out.problems.empty() && !StillPlaced(metadata, record)) {
    out.moved = true;
    out.problems.clear();
  }
  return out;
}

Status MediaScanJob::Run(JobContext& context) {
  ASSIGN_OR_RETURN(double duty, ImpactDutyCycle(impact_ ? impact_() : "low"));
  Pacer pacer(duty);

  RETURN_IF_ERROR(context.BeginPhase("count", 0));
  uint64_t files = 0;
  Status stopped;
  RETURN_IF_ERROR(metadata_.ForEach([&](const meta::FileRecord&) {
    ++files;
    context.Advance();
    stopped = context.Checkpoint();
    return stopped.ok();
  }));
  RETURN_IF_ERROR(stopped);

  RETURN_IF_ERROR(context.BeginPhase("scan", files));
  uint64_t damaged = 0;
  RETURN_IF_ERROR(metadata_.ForEach([&](const meta::FileRecord& listed) {
    context.Advance();
    stopped = pacer.Work(context);
    if (!stopped.ok()) return false;
    if (listed.is_packed()) return true;  // scanned through its container
    // The record as it is now: the listing's page may be minutes old.
    Result<meta::FileRecord> record = metadata_.Get(listed.ns, listed.path);
    if (record.status().code() == StatusCode::kNotFound) return true;
    if (!record.ok()) {
      ++damaged;
      context.Measure("files_failed");
      context.Detail(Name(listed) + ": " + record.status().ToString());
      return true;
    }
    if (record->is_packed()) return true;
    MediaScanResult r = ScanFile(store_, metadata_, *record);
    context.Measure("files_scanned");
    context.Measure("pieces_scanned", r.pieces_scanned);
    context.Measure("bytes_scanned", r.bytes_scanned);
    if (r.pieces_unavailable > 0) context.Measure("pieces_unavailable", r.pieces_unavailable);
    if (r.pieces_repaired > 0) context.Count("pieces_repaired", r.pieces_repaired);
    for (std::string& line : r.repairs) {
      spdlog::warn("MediaScan: {}", line);
      context.Detail(std::move(line));
    }
    if (!r.problems.empty()) {
      ++damaged;
      context.Measure("files_damaged");
      for (std::string& line : r.problems) {
        spdlog::error("MediaScan: {}", line);
        context.Detail(std::move(line));
      }
    }
    return true;
  }));
  RETURN_IF_ERROR(stopped);
  context.Count("paced_ms", static_cast<uint64_t>(pacer.paused_ms()));
  if (damaged > 0) {
    return Status::Unavailable(std::to_string(damaged) +
                               " file(s) have damage MediaScan could not repair; see the "
                               "report's details");
  }
  return Status::Ok();
}

}  // namespace tessera::jobs
