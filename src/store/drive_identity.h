// identity.json: which cluster, node and slot a drive belongs to.
//
// Written once, when an empty directory is formatted, atomically (tmp file,
// fsync, rename, fsync dir), so a crash leaves a drive either unformatted or
// fully formatted. Checked at every open so a drive moved to the wrong node is
// refused rather than silently mixed into another cluster's data.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/drive.h"

namespace tessera::store {

inline constexpr int kDriveFormatVersion = 1;
inline constexpr char kIdentityFileName[] = "identity.json";

// Reads the identity of the drive at `path` and checks that it belongs to
// `cluster_guid` / `array_id`, or formats a missing or empty directory with
// `identity_if_new` (cluster and node taken from the arguments; serial and WWN
// generated when empty). A non-empty directory without identity.json is
// refused: it may hold someone's data.
Result<DriveIdentity> LoadOrFormatDriveIdentity(const std::string& path,
                                                const std::string& cluster_guid, uint64_t array_id,
                                                const DriveIdentity& identity_if_new);

std::string EncodeDriveIdentity(const DriveIdentity& identity, std::time_t created);
// `path` names the drive in error messages.
Result<DriveIdentity> DecodeDriveIdentity(std::string_view json, const std::string& path);

// Random synthetic hardware names: "TSR-3F9A0C21B7" and "0x5000c5003f9a0c21".
std::string GenerateDriveSerial();
std::string GenerateDriveWwn();

}  // namespace tessera::store
