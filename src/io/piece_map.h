// Every piece a file record names: which stripe and unit it is, its role,
// the drive that holds it, its id and length. Pure.
//
// Mirrored files are cut in 128 KiB units; unit u of every copy c is piece
// {object, u} on drives[c]. Striped files: unit j of stripe s is piece
// {object, s * width + j} on drives[DriveIndexForUnit(width, s, j)]; units
// 0..k-1 are data, k..k+m-1 parity.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "meta/file_record.h"
#include "store/piece_id.h"

namespace tessera::io {

enum class PieceRole { kCopy, kData, kParity };
std::string_view PieceRoleName(PieceRole role);

struct PieceInfo {
  uint64_t stripe = 0;  // mirror: the unit number
  int unit = 0;         // mirror: the copy number
  PieceRole role = PieceRole::kCopy;
  meta::DriveRef drive;
  store::PieceId id;
  uint64_t length = 0;
};

// Units (mirror) or stripes (striped) of the file; 0 for a packed file,
// which has no pieces of its own.
uint64_t StripeCount(const meta::FileRecord& record);
// The pieces of one stripe (or, for a mirror, the copies of one unit).
std::vector<PieceInfo> PiecesOfStripe(const meta::FileRecord& record, uint64_t stripe);
// All pieces, stripe by stripe.
std::vector<PieceInfo> PiecesOf(const meta::FileRecord& record);
// Bytes the file's pieces take on the drives, piece headers and block
// checksums included (store/piece_record.h); 0 for a packed file.
uint64_t PhysicalBytes(const meta::FileRecord& record);
// "piece <id> on drive <node>:<lnum>", for messages and logs.
std::string DescribePiece(const PieceInfo& piece);

}  // namespace tessera::io
