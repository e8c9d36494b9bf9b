// Test-only hooks into the Drive's internals: named points in compaction and
// recovery where a test can act (delete a piece, copy the drive directory as
// a crash at that point would leave it). Process-wide and unset in
// production, where a point costs one relaxed atomic load.
//
// The hook runs on the thread that reaches the point, with no Drive lock
// held, so it may call back into the Drive.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace tessera::store::test_hooks {

// Points (segment is 0 where none applies):
//   "compact.listed"    the live entries of every candidate segment were listed
//   "compact.chunk_written"  a chunk of copies is written, its watermark not
//                       yet committed
//   "compact.copied"    a segment's live records are copied and fdatasynced;
//                       nothing points at the copies yet
//   "compact.switched"  the synced switch batch of a segment is committed; its
//                       file still exists
//   "compact.removed"   the segment's file is unlinked and its marks deleted
//   "index.synced"      a synced index write returned
using DriveHook = std::function<void(std::string_view point, uint32_t segment)>;

// Installs `hook` for every Drive in the process; an empty one removes it.
void SetDriveHook(DriveHook hook);

}  // namespace tessera::store::test_hooks
