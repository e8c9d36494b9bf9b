#include "jobs/media_scan.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "common/crc32c.h"
#include "common/parallel.h"
#include "common/units.h"
#include "io/codecs.h"
#include "io/piece_map.h"
#include "io/piece_repair.h"
#include "jobs/pacer.h"

namespace tessera::jobs {
namespace {

std::string Name(const meta::FileRecord& r) { return r.ns + "/" + r.path; }

// A piece that failed this way is damage on a drive that works.
bool Repairable(StatusCode code) {
  return code == StatusCode::kCorruption || code == StatusCode::kIOError ||
         code == StatusCode::kNotFound;
}

// A piece that failed this way could not be reached (a down drive or node,
// a deadline, a stale epoch): not this job's to judge. Anything else (a
// bug, no thread to read it on) is a problem the job reports.
bool Unreachable(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kFailedPrecondition;
}

// Whether the file's pieces are still live (errors count as yes: a
// problem is not dropped on a guess).
bool StillLive(meta::MetadataStore& metadata, const meta::FileRecord& record) {
  Result<bool> live = io::PiecesStillLive(metadata, record);
  return !live.ok() || *live;
}

// One stripe (or a mirror's copies of one unit) as read, then rebuilt.
struct StripeScan {
  std::vector<io::PieceInfo> pieces;
  std::vector<std::vector<uint8_t>> units;
  std::vector<bool> good;
  std::vector<std::pair<size_t, Status>> bad;  // repairable failures
  size_t unavailable = 0;
  Status error;  // a read that failed otherwise (the last one)
};

StripeScan ReadStripe(io::PieceStore& store, const meta::FileRecord& record, uint64_t stripe,
                      MediaScanResult& out) {
  StripeScan s;
  s.pieces = io::PiecesOfStripe(record, stripe);
  s.units.resize(s.pieces.size());
  s.good.assign(s.pieces.size(), false);
  // The pieces are on different nodes: read them all at once.
  std::vector<Result<std::vector<uint8_t>>> reads(s.pieces.size(),
                                                  Status::Internal("the read did not run"));
  std::vector<std::function<Status()>> calls;
  for (size_t i = 0; i < s.pieces.size(); ++i) {
    calls.push_back([&, i] {
      reads[i] = store.Read(s.pieces[i].drive, s.pieces[i].id);
      return Status::Ok();
    });
  }
  (void)RunInParallel(std::move(calls));
  for (size_t i = 0; i < s.pieces.size(); ++i) {
    const io::PieceInfo& piece = s.pieces[i];
    Result<std::vector<uint8_t>>& bytes = reads[i];
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
    } else if (Unreachable(why.code())) {
      ++s.unavailable;
    } else {
      s.error = why.WithContext(io::DescribePiece(piece));
    }
  }
  return s;
}

// How many pieces of a stripe may be lost with the rest still rebuilding it.
size_t Tolerance(const meta::FileRecord& record) {
  return record.geometry.kind == layout::Geometry::Kind::kMirror
             ? static_cast<size_t>(record.geometry.copies - 1)
             : static_cast<size_t>(record.geometry.parity_units);
}

// Fills every unit that is not good from the good ones; requires enough
// of them (a copy, or k units).
Status Rebuild(const meta::FileRecord& record, StripeScan& s) {
  if (record.geometry.kind == layout::Geometry::Kind::kMirror) {
    const auto source = std::find(s.good.begin(), s.good.end(), true);
    if (source == s.good.end()) return Status::Internal("no good copy to rebuild from");
    const std::vector<uint8_t>& good = s.units[source - s.good.begin()];
    for (size_t i = 0; i < s.units.size(); ++i) {
      if (!s.good[i]) s.units[i] = good;
    }
    return Status::Ok();
  }
  if (std::find(s.good.begin(), s.good.end(), false) == s.good.end()) return Status::Ok();
  ASSIGN_OR_RETURN(const ec::ReedSolomon* codec,
                   io::SharedCodec(record.geometry.data_units, record.geometry.parity_units));
  const uint64_t length = s.pieces.front().length;
  std::vector<uint8_t*> pointers(s.units.size());
  for (size_t i = 0; i < s.units.size(); ++i) {
    s.units[i].resize(length);
    pointers[i] = s.units[i].data();
  }
  return codec->Reconstruct(length, pointers, s.good);
}

// Extends `crc` over the file content the (rebuilt) stripe holds.
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

// Reads a stripe and sorts it: nullopt when it can be rebuilt (then it is),
// else why not. A stripe short of good pieces only because some are
// unavailable is not damage: `unchecked` is set instead.
std::optional<std::string> ReadAndRebuild(io::PieceStore& store, const meta::FileRecord& record,
                                          uint64_t stripe, MediaScanResult& out, StripeScan& s,
                                          bool& unchecked) {
  s = ReadStripe(store, record, stripe, out);
  if (!s.error.ok()) return "stripe " + std::to_string(stripe) + ": " + s.error.ToString();
  const size_t good = static_cast<size_t>(std::count(s.good.begin(), s.good.end(), true));
  if (s.bad.size() > Tolerance(record)) {
    return "stripe " + std::to_string(stripe) + " cannot be rebuilt: " + std::to_string(good) +
           " of " + std::to_string(s.pieces.size()) + " units are readable, " +
           std::to_string(s.pieces.size() - Tolerance(record)) + " are needed";
  }
  if (good + Tolerance(record) < s.pieces.size()) {
    unchecked = true;
    return std::nullopt;
  }
  if (Status rebuilt = Rebuild(record, s); !rebuilt.ok()) {
    return "stripe " + std::to_string(stripe) + ": " + rebuilt.ToString();
  }
  return std::nullopt;
}

}  // namespace

MediaScanResult ScanFile(io::PieceStore& store, meta::MetadataStore& metadata,
                         const meta::FileRecord& record, const std::function<Status()>& pace) {
  MediaScanResult out;
  // First pass: read everything and check the content before anything is
  // written, so that bad bytes a rebuild would draw on are not spread.
  uint32_t crc = 0;
  bool content_read = true;
  std::vector<uint64_t> damaged;
  const uint64_t stripes = io::StripeCount(record);
  for (uint64_t stripe = 0; stripe < stripes; ++stripe) {
    StripeScan s;
    bool unchecked = false;
    if (auto problem = ReadAndRebuild(store, record, stripe, out, s, unchecked)) {
      out.problems.push_back(Name(record) + ": " + *problem);
      content_read = false;
    } else if (unchecked) {
      out.unchecked = true;
      content_read = false;
    } else {
      if (content_read) crc = ExtendContentCrc(crc, record, stripe, s);
      if (!s.bad.empty()) damaged.push_back(stripe);
    }
    out.pieces_unavailable += s.unavailable;
    if (pace) out.stopped = pace();
    if (!out.stopped.ok()) return out;
  }
  if (content_read && crc != record.crc32c) {
    out.problems.push_back(Name(record) + ": its content's CRC32C " + std::to_string(crc) +
                           " does not match the record's " + std::to_string(record.crc32c) +
                           "; nothing was written to it");
    damaged.clear();
  }
  // Second pass: the damaged stripes again, as they are now, and their bad
  // pieces written.
  for (uint64_t stripe : damaged) {
    MediaScanResult again;  // counted in the first pass
    StripeScan s;
    bool unchecked = false;
    if (auto problem = ReadAndRebuild(store, record, stripe, again, s, unchecked)) {
      out.problems.push_back(Name(record) + ": " + *problem);
      continue;
    }
    if (unchecked) continue;
    for (const auto& [index, why] : s.bad) {
      const io::PieceInfo& piece = s.pieces[index];
      Result<bool> repaired = io::RewritePiece(store, metadata, record, piece, s.units[index]);
      if (repaired.status().code() == StatusCode::kUnavailable) {
        ++out.pieces_unavailable;  // its drive or node went away: FlexProtect's
        continue;
      }
      if (!repaired.ok()) {
        out.problems.push_back(Name(record) + ": " + io::DescribePiece(piece) + " (" +
                               why.ToString() +
                               ") could not be written again: " + repaired.status().ToString());
        continue;
      }
      if (!*repaired) {
        out.moved = true;
        out.problems.clear();
        return out;
      }
      ++out.pieces_repaired;
      out.repairs.push_back(Name(record) + ": " + io::DescribePiece(piece) + " (" + why.ToString() +
                            ") rebuilt and written again");
    }
    if (pace) out.stopped = pace();
    if (!out.stopped.ok()) return out;
  }
  // Damage seen in pieces a client's rewrite or delete freed meanwhile is
  // no damage.
  if (!out.problems.empty() && !StillLive(metadata, record)) {
    out.moved = true;
    out.problems.clear();
  }
  return out;
}

Status MediaScanJob::Run(JobContext& context) {
  ASSIGN_OR_RETURN(double duty, ImpactDutyCycle(impact_ ? impact_() : "low"));

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
  // What a run finds wrong is its own: a rerun starts these from 0 (job.h).
  for (const char* measured :
       {"files_damaged", "files_failed", "files_unchecked", "pieces_unavailable"}) {
    context.SetCounter(measured, 0);
  }
  Pacer pacer(duty);
  const std::function<Status()> pace = [&] { return pacer.Work(context); };
  uint64_t damaged = 0, unreadable = 0;
  Status scanned = metadata_.ForEach([&](const meta::FileRecord& listed) {
    context.Advance();
    stopped = context.Checkpoint();
    if (!stopped.ok()) return false;
    if (listed.is_packed()) return true;  // scanned through its container
    // The record as it is now: the listing's page may be minutes old.
    Result<meta::FileRecord> record = metadata_.Get(listed.ns, listed.path);
    if (record.status().code() == StatusCode::kNotFound) return true;
    if (!record.ok()) {
      ++unreadable;
      context.Measure("files_failed");
      context.Detail(Name(listed) + ": " + record.status().ToString());
      return true;
    }
    if (record->is_packed()) return true;
    MediaScanResult r = ScanFile(store_, metadata_, *record, pace);
    context.Measure("pieces_scanned", r.pieces_scanned);
    context.Measure("bytes_scanned", r.bytes_scanned);
    context.Measure("pieces_unavailable", r.pieces_unavailable);
    if (r.pieces_repaired > 0) context.Count("pieces_repaired", r.pieces_repaired);
    for (std::string& line : r.repairs) {
      spdlog::warn("MediaScan: {}", line);
      context.Detail(std::move(line));
    }
    stopped = r.stopped;
    if (!stopped.ok()) return false;
    if (r.moved) return true;  // the client's new content is another scan's
    context.Measure("files_scanned");
    if (r.unchecked) context.Measure("files_unchecked");
    if (!r.problems.empty()) {
      ++damaged;
      context.Measure("files_damaged");
      for (std::string& line : r.problems) {
        spdlog::error("MediaScan: {}", line);
        context.Detail(std::move(line));
      }
    }
    return true;
  });
  context.Count("paced_ms", static_cast<uint64_t>(pacer.paused_ms()));
  RETURN_IF_ERROR(scanned);
  RETURN_IF_ERROR(stopped);
  if (damaged + unreadable > 0) {
    return Status::Unavailable(
        std::to_string(damaged) + " file(s) damaged beyond what MediaScan can repair, " +
        std::to_string(unreadable) + " whose record could not be read; see the report's details");
  }
  return Status::Ok();
}

}  // namespace tessera::jobs
