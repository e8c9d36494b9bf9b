// MediaScan: finds and repairs damage in stored pieces before it is needed.
// A read looks at one copy of a mirror and the data units of a stripe, so
// a bad sector under another copy or a parity unit stays hidden until a
// drive fails and that piece is the one left. MediaScan reads every piece
// of every file, and writes each one that is bad again while the file's
// redundancy can still rebuild it.
//
// Phases:
//   count  the file records, for progress;
//   scan   file by file (MetadataStore::ForEach): every piece (each copy,
//          each data and parity unit) is read and checked against its
//          block checksums and the length the record gives. A piece that
//          fails (Corruption, IOError) or is missing from its drive
//          (NotFound) is rebuilt from its stripe's good pieces (a good
//          copy, or any k units) and written in place with RewritePiece
//          (io/piece_repair.h), only while the file keeps that placement.
//          The content the good pieces give is checked against the
//          record's CRC32C before anything is written.
// Pieces on a down drive or node (Unavailable) are FlexProtect's: counted,
// left alone; a stripe that too many of them leave uncheckable counts the
// file `files_unchecked`. Packed files and clones have no pieces of their
// own; their containers are files and are scanned as such.
//
// The job fails, with details, when a stripe has more bad pieces than its
// parity (or copies) can rebuild, a file's content does not match its
// CRC32C, a repair could not be written, or a record could not be read;
// everything it could repair it has. A rerun starts over. Impact
// (mediascan_impact, read when a run starts): low works a quarter of the
// time (the default), medium half, high all of it, paced stripe by stripe.
//
// Threading: run by the job engine's thread; the stores are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "io/piece_store.h"
#include "jobs/job.h"
#include "meta/file_record.h"
#include "meta/metadata_store.h"

namespace tessera::jobs {

struct MediaScanResult {
  uint64_t pieces_scanned = 0;
  uint64_t bytes_scanned = 0;       // piece bytes read
  uint64_t pieces_repaired = 0;     // written again with the bytes they should hold
  uint64_t pieces_unavailable = 0;  // on a down drive or node
  bool moved = false;               // rewritten or deleted by a client meanwhile
  // A stripe could not be checked whole: too many of its pieces are
  // unavailable (not damaged) to rebuild or check it now.
  bool unchecked = false;
  Status stopped;  // what `pace` said when it stopped the scan
  // What went wrong with the file, for the report: a stripe that cannot
  // be rebuilt, a content checksum mismatch, a repair that failed.
  std::vector<std::string> problems;
  std::vector<std::string> repairs;  // one line per piece repaired
};

// Scans one file's pieces and repairs them (above): it reads every stripe
// and checks the content first, then reads the damaged stripes again and
// writes their bad pieces, so nothing is written to a file whose content
// does not match its CRC32C. `pace`, if set, is called after each stripe;
// a non-OK answer stops the scan (`stopped`). Never fails as such: what
// went wrong is in the result's problems. A file that changed under the
// scan is `moved`, with no problems (its old pieces may be gone).
MediaScanResult ScanFile(io::PieceStore& store, meta::MetadataStore& metadata,
                         const meta::FileRecord& record, const std::function<Status()>& pace = {});

class MediaScanJob final : public Job {
 public:
  using ImpactFn = std::function<std::string()>;  // mediascan_impact
  // Both stores borrowed; they outlive the job.
  MediaScanJob(io::PieceStore& store, meta::MetadataStore& metadata, ImpactFn impact)
      : store_(store), metadata_(metadata), impact_(std::move(impact)) {}

  Status Run(JobContext& context) override;

 private:
  io::PieceStore& store_;
  meta::MetadataStore& metadata_;
  ImpactFn impact_;
};

}  // namespace tessera::jobs
