#include "meta/file_record.h"

#include <nlohmann/json.hpp>

namespace tessera::meta {

using nlohmann::json;

std::string_view PackingPlaceName(PackingPlace place) {
  return place == PackingPlace::kContainer ? "container" : "native";
}

namespace {

Result<PackingPlace> ParsePackingPlace(const std::string& text) {
  if (text == "native") return PackingPlace::kNative;
  if (text == "container") return PackingPlace::kContainer;
  return Status::Corruption("file record has unknown packing place '" + text + "'");
}

}  // namespace

json ToJson(const FileRecord& r) {
  json drives = json::array();
  for (const DriveRef& d : r.drives) drives.push_back({{"node", d.node}, {"lnum", d.lnum}});
  const layout::Geometry& g = r.geometry;
  json geometry = {{"kind", g.kind == layout::Geometry::Kind::kMirror ? "mirror" : "stripe"},
                   {"meets_node_tolerance", g.meets_node_tolerance}};
  if (g.kind == layout::Geometry::Kind::kMirror) {
    geometry["copies"] = g.copies;
  } else {
    geometry["data_units"] = g.data_units;
    geometry["parity_units"] = g.parity_units;
    geometry["unit_size"] = g.unit_size;
    geometry["stripe_count"] = g.stripe_count;
  }
  json j = {{"namespace", r.ns},          {"path", r.path},
            {"object_id", r.object_id},   {"size", r.size},
            {"created_ns", r.created_ns}, {"modified_ns", r.modified_ns},
            {"crc32c", r.crc32c},         {"sha256", r.sha256},
            {"protection", r.protection}};
  if (r.packed) {
    j["container"] = {{"sin", r.packed->sin}, {"offset", r.packed->offset}};
    if (r.packed->clone) j["container"]["clone"] = true;
  } else {
    j["geometry"] = geometry;
    j["drives"] = drives;
  }
  j["packing_policy"] = PackingPlaceName(r.packing_policy);
  j["packing_target"] = PackingPlaceName(r.packing_target);
  return j;
}

Result<FileRecord> FileRecordFromJson(const json& j) {
  try {
    FileRecord r;
    r.ns = j.at("namespace").get<std::string>();
    r.path = j.at("path").get<std::string>();
    r.object_id = j.at("object_id").get<uint64_t>();
    r.size = j.at("size").get<uint64_t>();
    r.created_ns = j.at("created_ns").get<int64_t>();
    r.modified_ns = j.at("modified_ns").get<int64_t>();
    r.crc32c = j.at("crc32c").get<uint32_t>();
    r.sha256 = j.at("sha256").get<std::string>();
    r.protection = j.at("protection").get<std::string>();
    // Records written before packing existed have neither field: native.
    ASSIGN_OR_RETURN(r.packing_policy, ParsePackingPlace(j.value("packing_policy", "native")));
    ASSIGN_OR_RETURN(r.packing_target, ParsePackingPlace(j.value("packing_target", "native")));
    if (j.contains("container")) {
      const json& c = j.at("container");
      r.packed = ContainerExtent{c.at("sin").get<uint64_t>(), c.at("offset").get<uint64_t>(),
                                 c.value("clone", false)};
      return r;
    }
    const json& g = j.at("geometry");
    std::string kind = g.at("kind").get<std::string>();
    r.geometry.meets_node_tolerance = g.value("meets_node_tolerance", true);
    if (kind == "mirror") {
      r.geometry.kind = layout::Geometry::Kind::kMirror;
      r.geometry.copies = g.at("copies").get<int>();
    } else if (kind == "stripe") {
      r.geometry.kind = layout::Geometry::Kind::kStripe;
      r.geometry.data_units = g.at("data_units").get<int>();
      r.geometry.parity_units = g.at("parity_units").get<int>();
      r.geometry.unit_size = g.at("unit_size").get<uint64_t>();
      r.geometry.stripe_count = g.at("stripe_count").get<uint64_t>();
    } else {
      return Status::Corruption("file record has unknown geometry kind '" + kind + "'");
    }
    if (Status st = layout::CheckGeometry(r.geometry); !st.ok()) {
      return Status::Corruption("file record for '" + r.path + "' has " + st.message());
    }
    for (const json& d : j.at("drives")) {
      r.drives.push_back({d.at("node").get<uint32_t>(), d.at("lnum").get<uint32_t>()});
    }
    if (static_cast<int>(r.drives.size()) != r.geometry.width() || r.drives.empty()) {
      return Status::Corruption("file record for '" + r.path + "' lists " +
                                std::to_string(r.drives.size()) + " drives for a geometry " +
                                std::to_string(r.geometry.width()) + " wide");
    }
    return r;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("malformed file record: ") + e.what());
  }
}

std::string EncodeFileRecord(const FileRecord& record) { return ToJson(record).dump(); }

Result<FileRecord> DecodeFileRecord(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("file record is not valid JSON");
  return FileRecordFromJson(j);
}

}  // namespace tessera::meta
