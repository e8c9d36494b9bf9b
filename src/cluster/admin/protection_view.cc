#include "cluster/admin/protection_view.h"

#include <nlohmann/json.hpp>

#include "cluster/admin/node_view.h"
#include "common/units.h"

namespace tessera::cluster::admin {

using json = nlohmann::json;

namespace {
// "0B", "512B", "1.5M".
std::string Size(uint64_t bytes) {
  return bytes < 1024 ? std::to_string(bytes) + "B" : FormatSize(bytes);
}
}  // namespace

Result<ProtectionView> ParseProtectionView(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Corruption("protection view: not a JSON object");
  try {
    ProtectionView v;
    v.array_id = j.at("array_id").get<uint32_t>();
    v.below_protection = j.at("below_protection").get<bool>();
    v.files = j.at("files").get<uint64_t>();
    v.bytes = j.at("bytes").get<uint64_t>();
    v.files_at_risk = j.at("files_at_risk").get<uint64_t>();
    v.bytes_at_risk = j.at("bytes_at_risk").get<uint64_t>();
    v.units_at_risk = j.at("units_at_risk").get<uint64_t>();
    v.files_unavailable = j.at("files_unavailable").get<uint64_t>();
    v.bytes_unavailable = j.at("bytes_unavailable").get<uint64_t>();
    v.failed_devices = j.at("failed_devices").get<std::vector<std::string>>();
    return v;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("protection view: ") + e.what());
  }
}

std::string DescribeProtectionView(const ProtectionView& v) {
  std::string out;
  if (!v.below_protection) {
    out = "at full protection: " + std::to_string(v.files) + " files, " + Size(v.bytes);
  } else {
    out = "BELOW PROTECTION: " + std::to_string(v.files_at_risk) + " of " +
          std::to_string(v.files) + " files (" + Size(v.bytes_at_risk) + " of " + Size(v.bytes) +
          ", " + std::to_string(v.units_at_risk) + " units) have units on failed devices; " +
          std::to_string(v.files_unavailable) + " files (" + Size(v.bytes_unavailable) +
          ") unavailable";
  }
  if (!v.failed_devices.empty()) {
    out += "; failed devices:";
    for (const std::string& d : v.failed_devices) out += " " + d;
  }
  return out + " (as node " + std::to_string(v.array_id) + " sees it)";
}

Result<ProtectionView> FetchProtectionView(const std::string& address,
                                           std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::string body, GetNodeBody(address, "/v1/cluster/protection",
                                                 std::chrono::milliseconds(1000), timeout));
  return ParseProtectionView(body);
}

}  // namespace tessera::cluster::admin
