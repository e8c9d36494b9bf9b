// How a file of a given size is laid out under a protection policy on a
// given topology: mirrored (copies) or striped (k data + m parity units of
// 128 KiB). Pure, no I/O.
//
// Rules: a file smaller than one stripe unit (128 KiB), or any file under an
// Nx policy, is mirrored. Otherwise the stripe is as wide as the fault domains
// allow: width k+m is bounded by one unit per drive, max_units_per_node() per
// node (when the topology has one node, drives are the fault domain), and
// 16+4. Where that leaves k < 2, erasure coding cannot pay and the file is
// mirrored m+1 times instead.
//
// Mirror copies go on distinct nodes. When a topology of several nodes has
// fewer nodes than copies but enough drives, the copies still go on distinct
// drives, spread over the nodes as evenly as possible, and the geometry says
// meets_node_tolerance = false: a degraded cluster keeps accepting writes with
// reduced protection rather than refusing them. (The flag is conservative:
// e.g. 3 copies on 2 nodes do survive the 1 node failure of +2d:1n, but it
// still reads false.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "layout/protection_policy.h"

namespace tessera::layout {

// The widest stripe the erasure code supports: 16 data + 4 parity units.
inline constexpr int kMaxDataUnits = 16;
inline constexpr int kMaxParityUnits = 4;
inline constexpr int kMaxStripeWidth = 20;

// One drive that can take data.
struct DriveSlot {
  uint32_t node = 0;        // node array id
  uint32_t lnum = 0;        // drive number within its node
  uint64_t free_bytes = 0;  // space the drive still has
  friend bool operator==(const DriveSlot&, const DriveSlot&) = default;
};

// The healthy, writable drives of the cluster (or of one node).
struct Topology {
  std::vector<DriveSlot> drives;  // each (node, lnum) at most once
  int node_count() const;         // distinct nodes among `drives`
};

struct Geometry {
  enum class Kind { kMirror, kStripe };
  Kind kind = Kind::kMirror;
  int copies = 0;             // kMirror: number of copies
  int data_units = 0;         // kStripe: k
  int parity_units = 0;       // kStripe: m
  uint64_t unit_size = 0;     // kStripe: bytes per unit in a full stripe (128 KiB)
  uint64_t stripe_count = 0;  // kStripe: ceil(size / (k * unit_size))
  // Whether the placement meets the policy's node tolerance. Always false on
  // a single node (drives stand in for nodes) and for mirrors with fewer
  // nodes than copies (see above).
  bool meets_node_tolerance = true;

  int width() const { return kind == Kind::kMirror ? copies : data_units + parity_units; }
  std::string ToString() const;  // "3x mirror", "2+2 stripe, 4 stripes of 128.0k units"
  friend bool operator==(const Geometry&, const Geometry&) = default;
};

// Unavailable when the topology has too few drives for the policy (e.g. +2
// needs at least 3 drives: "protection +2 needs 3 drives, 2 are writable";
// a drive on a read-only or soft-failed node is not writable).
// InvalidArgument for a policy Parse would not return or a topology that
// lists a drive twice. Free space is not considered here; PlaceUnits avoids
// full drives.
Result<Geometry> PlanGeometry(const ProtectionPolicy& policy, uint64_t file_size,
                              const Topology& topology);

// Whether a geometry read back from a stored or received file record is one
// a reader can use: a mirror of 1 to kMaxStripeWidth copies, or a stripe of
// 1 to kMaxDataUnits data and 0 to kMaxParityUnits parity units, at most
// kMaxStripeWidth wide, whose units are 8 to kStripeUnitSize bytes, a
// multiple of 8. Corruption naming what is wrong otherwise: such a record
// would have a reader divide by zero or index past its drives.
Status CheckGeometry(const Geometry& geometry);

// Size of the units of stripe `stripe` (0-based) of a striped file of
// `file_size` bytes: unit_size for full stripes; the last stripe's units are
// ceil(remaining / k) rounded up to 8 bytes (ISA-L and CRC alignment), never
// more than unit_size. 0 for a stripe past the end of the file or a mirror
// geometry (a mirror copy is the whole file).
uint64_t StripeUnitLength(const Geometry& geometry, uint64_t file_size, uint64_t stripe);

}  // namespace tessera::layout
