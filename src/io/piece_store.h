// Where the io layer puts and finds pieces: drives named by (node, lnum).
// Today the only implementation holds this node's own drives; the
// distributed data path adds one that reaches other nodes. Implementations
// are safe for concurrent use.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "layout/geometry.h"
#include "meta/file_record.h"
#include "store/piece_id.h"

namespace tessera::io {

class PieceStore {
 public:
  virtual ~PieceStore() = default;

  // The drives that can take new pieces now, with their free space.
  virtual layout::Topology WritableTopology() = 0;
  // Stores a piece (not yet durable). Unavailable if the drive is down.
  virtual Status Append(const meta::DriveRef& drive, const store::PieceId& id,
                        std::span<const uint8_t> bytes) = 0;
  // Makes every piece appended so far to these drives durable.
  virtual Status Sync(const std::vector<meta::DriveRef>& drives) = 0;
  // The piece's bytes, checksums verified. NotFound, Corruption, Unavailable.
  virtual Result<std::vector<uint8_t>> Read(const meta::DriveRef& drive,
                                            const store::PieceId& id) = 0;
  // Forgets a piece. Missing pieces and down drives are not errors here.
  virtual Status Delete(const meta::DriveRef& drive, const store::PieceId& id) = 0;
  // Gives up a piece that cannot be deleted now (its node is not a live
  // member) and will not be asked for again: a store that counts pieces it
  // failed to send as lost stops counting it, so the drive's later syncs
  // are not failed by it. The piece itself may stay on the drive.
  virtual void Forget(const meta::DriveRef& drive, const store::PieceId& id) {
    (void)drive;
    (void)id;
  }
  // Whether `drive` is on this node: a reader picks such a copy first.
  virtual bool IsLocal(const meta::DriveRef& drive) const {
    (void)drive;
    return true;
  }
};

}  // namespace tessera::io
