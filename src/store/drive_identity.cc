#include "store/drive_identity.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "common/fs_util.h"

namespace tessera::store {

namespace {

constexpr char kFormatName[] = "tessera-drive";

uint64_t RandomBits() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) | rd();
}

std::string FormatTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Owner(const std::string& cluster, uint64_t node) {
  return "cluster " + cluster + " node " + std::to_string(node);
}

}  // namespace

std::string GenerateDriveSerial() {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "TSR-%010" PRIX64,
                static_cast<uint64_t>(RandomBits() & 0xFFFFFFFFFFu));
  return buf;
}

std::string GenerateDriveWwn() {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x5000c500%08" PRIx64,
                static_cast<uint64_t>(RandomBits() & 0xFFFFFFFFu));
  return buf;
}

std::string EncodeDriveIdentity(const DriveIdentity& identity, std::time_t created) {
  nlohmann::ordered_json j;
  j["format"] = kFormatName;
  j["format_version"] = kDriveFormatVersion;
  j["cluster_guid"] = identity.cluster_guid;
  j["array_id"] = identity.array_id;
  j["lnum"] = identity.lnum;
  j["serial"] = identity.serial;
  j["wwn"] = identity.wwn;
  j["created"] = FormatTime(created);
  return j.dump(2) + "\n";
}

Result<DriveIdentity> DecodeDriveIdentity(std::string_view json, const std::string& path) {
  const std::string where = "drive " + path + ": " + kIdentityFileName;
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption(where + " is not valid JSON");
  // Missing fields read as null, so each type check below also covers absence.
  static const nlohmann::json kNull;
  auto field = [&](const char* name) -> const nlohmann::json& {
    auto it = j.find(name);
    return it == j.end() ? kNull : *it;
  };
  if (field("format") != kFormatName) {
    return Status::Corruption(where + " does not describe a Tessera drive");
  }
  const auto& version = field("format_version");
  if (!version.is_number_integer()) return Status::Corruption(where + " has no format_version");
  if (version.get<int64_t>() != kDriveFormatVersion) {
    return Status::FailedPrecondition(
        where + " has format version " + std::to_string(version.get<int64_t>()) +
        "; this build reads version " + std::to_string(kDriveFormatVersion));
  }
  DriveIdentity id;
  const auto& guid = field("cluster_guid");
  const auto& array = field("array_id");
  const auto& lnum = field("lnum");
  const auto& serial = field("serial");
  const auto& wwn = field("wwn");
  if (!guid.is_string() || !array.is_number_unsigned() || !lnum.is_number_unsigned() ||
      !serial.is_string() || !wwn.is_string() || lnum.get<uint64_t>() > UINT32_MAX) {
    return Status::Corruption(where + " lacks a valid cluster_guid, array_id, lnum, serial or wwn");
  }
  id.cluster_guid = guid.get<std::string>();
  id.array_id = array.get<uint64_t>();
  id.lnum = static_cast<uint32_t>(lnum.get<uint64_t>());
  id.serial = serial.get<std::string>();
  id.wwn = wwn.get<std::string>();
  return id;
}

Result<DriveIdentity> LoadOrFormatDriveIdentity(const std::string& path,
                                                const std::string& cluster_guid, uint64_t array_id,
                                                const DriveIdentity& identity_if_new) {
  if (cluster_guid.empty())
    return Status::InvalidArgument("opening drive " + path + ": no cluster");
  const std::string file = path + "/" + kIdentityFileName;
  RETURN_IF_ERROR(CreateDirDurably(path));

  Result<std::string> text = ReadWholeFile(file);
  if (text.ok()) {
    ASSIGN_OR_RETURN(DriveIdentity found, DecodeDriveIdentity(*text, path));
    if (found.cluster_guid != cluster_guid || found.array_id != array_id) {
      return Status::FailedPrecondition("drive " + path + " belongs to " +
                                        Owner(found.cluster_guid, found.array_id) + " (lnum " +
                                        std::to_string(found.lnum) + "), not to this node (" +
                                        Owner(cluster_guid, array_id) + ")");
    }
    return found;
  }
  if (text.status().code() != StatusCode::kNotFound) return text.status();

  // Format only what is provably ours to take: an empty directory. lost+found
  // is what mkfs leaves at a mount point; identity.json.tmp is a format that
  // crashed before its rename.
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(path));
  for (const std::string& name : names) {
    if (name == "lost+found") continue;
    if (name == std::string(kIdentityFileName) + ".tmp") continue;
    return Status::FailedPrecondition("drive " + path +
                                      ": not a Tessera drive, refusing to format a non-empty "
                                      "directory (it holds '" +
                                      name + "')");
  }
  if (!identity_if_new.cluster_guid.empty() && identity_if_new.cluster_guid != cluster_guid) {
    return Status::InvalidArgument("formatting drive " + path + ": identity names cluster " +
                                   identity_if_new.cluster_guid + ", opening for " + cluster_guid);
  }
  if (identity_if_new.array_id != 0 && identity_if_new.array_id != array_id) {
    return Status::InvalidArgument("formatting drive " + path + ": identity names node " +
                                   std::to_string(identity_if_new.array_id) + ", opening for " +
                                   std::to_string(array_id));
  }
  DriveIdentity id = identity_if_new;
  id.cluster_guid = cluster_guid;
  id.array_id = array_id;
  if (id.serial.empty()) id.serial = GenerateDriveSerial();
  if (id.wwn.empty()) id.wwn = GenerateDriveWwn();
  RETURN_IF_ERROR(WriteFileAtomically(file, EncodeDriveIdentity(id, std::time(nullptr)))
                      .WithContext("formatting drive " + path));
  return id;
}

}  // namespace tessera::store
