#include "images/image_record.h"

#include <algorithm>
#include <ctime>
#include <set>

namespace tessera::images {
namespace {

// The schema's own fields. Read-only ones are computed by the service;
// `deleted`/`deleted_at` and the os_glance_ prefix are reserved by Glance,
// the tessera_ prefix by this service.
const std::set<std::string, std::less<>> kReadOnly = {
    "checksum", "created_at", "direct_url", "file",   "locations",  "os_hash_algo", "os_hash_value",
    "schema",   "self",       "size",       "status", "updated_at", "virtual_size"};
const std::set<std::string, std::less<>> kReserved = {"deleted", "deleted_at", kInternalKey};
const std::set<std::string, std::less<>> kBase = {
    "container_format", "disk_format", "id",        "min_disk", "min_ram",   "name",
    "os_hidden",        "owner",       "protected", "tags",     "visibility"};

const std::set<std::string, std::less<>> kDiskFormats = {
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"};
const std::set<std::string, std::less<>> kContainerFormats = {"ami", "ari", "aki",    "bare",
                                                              "ovf", "ova", "docker", "compressed"};
const std::set<std::string, std::less<>> kVisibilities = {"public", "private", "community",
                                                          "shared"};
const std::set<std::string, std::less<>> kStatuses = {"queued",      "saving",         "uploading",
                                                      "importing",   "active",         "killed",
                                                      "deactivated", "pending_delete", "deleted"};

ApiStatus BadValue(const std::string& key, const std::string& why) {
  return ApiStatus::Error(400, "Invalid value for '" + key + "': " + why);
}

// os_glance_ is Glance's; tessera_ properties are set by the service alone
// (provenance of a clone, progress and errors of an import).
bool IsReserved(std::string_view key) {
  return kReserved.count(key) > 0 || key.rfind("os_glance", 0) == 0 ||
         key.rfind("tessera_", 0) == 0;
}

// Checks one settable attribute against the image schema.
ApiStatus CheckValue(const std::string& key, const json& value) {
  auto string_or_null = [&](size_t max_len) -> ApiStatus {
    if (value.is_null()) return ApiStatus::Ok();
    if (!value.is_string()) return BadValue(key, value.dump() + " is not a string or null");
    if (value.get_ref<const std::string&>().size() > max_len) {
      return BadValue(key, "longer than " + std::to_string(max_len) + " characters");
    }
    return ApiStatus::Ok();
  };
  auto one_of = [&](const std::set<std::string, std::less<>>& allowed) -> ApiStatus {
    if (value.is_null()) return ApiStatus::Ok();
    if (!value.is_string() || allowed.count(value.get_ref<const std::string&>()) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return BadValue(key, value.dump() + " is not one of " + list);
    }
    return ApiStatus::Ok();
  };
  if (key == "name" || key == "owner") return string_or_null(255);
  if (key == "id") {
    if (!value.is_string() || !IsUuid(value.get_ref<const std::string&>())) {
      return BadValue(key, value.dump() + " is not a UUID");
    }
    return ApiStatus::Ok();
  }
  if (key == "visibility") {
    if (value.is_null())
      return BadValue(key, "null is not one of public, private, community, shared");
    return one_of(kVisibilities);
  }
  if (key == "disk_format") return one_of(kDiskFormats);
  if (key == "container_format") return one_of(kContainerFormats);
  if (key == "protected" || key == "os_hidden") {
    return value.is_boolean() ? ApiStatus::Ok() : BadValue(key, value.dump() + " is not a boolean");
  }
  if (key == "min_disk" || key == "min_ram") {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
        value.get<int64_t>() > INT32_MAX) {
      return BadValue(key, value.dump() + " is not a non-negative 32-bit integer");
    }
    return ApiStatus::Ok();
  }
  if (key == "tags") {
    if (!value.is_array()) return BadValue(key, value.dump() + " is not an array");
    if (value.size() > kMaxTags) {
      return ApiStatus::Error(413, "Maximum number of tags exceeded: " + std::to_string(kMaxTags));
    }
    for (const json& tag : value) {
      if (!tag.is_string() || tag.get_ref<const std::string&>().empty() ||
          tag.get_ref<const std::string&>().size() > 255) {
        return BadValue(key, tag.dump() + " is not a string of 1-255 characters");
      }
    }
    return ApiStatus::Ok();
  }
  if ((key == "kernel_id" || key == "ramdisk_id") && value.is_string() &&
      !IsUuid(value.get_ref<const std::string&>())) {
    return BadValue(key, value.dump() + " is not a UUID");
  }
  if ((key == "kernel_id" || key == "ramdisk_id") && value.is_null()) return ApiStatus::Ok();
  // Extra properties: the schema's additionalProperties is {"type": "string"}.
  if (key.empty() || key.size() > 255) {
    return ApiStatus::Error(400, "Property names must be 1-255 characters");
  }
  if (!value.is_string()) return BadValue(key, value.dump() + " is not a string");
  if (value.get_ref<const std::string&>().size() > 65535) {
    return BadValue(key, "longer than 65535 characters");
  }
  return ApiStatus::Ok();
}

// May a client set `key` at all? 403 for read-only and reserved attributes.
ApiStatus CheckSettable(const std::string& key) {
  if (kReadOnly.count(key)) return ApiStatus::Error(403, "Attribute '" + key + "' is read-only.");
  if (IsReserved(key)) return ApiStatus::Error(403, "Attribute '" + key + "' is reserved.");
  return ApiStatus::Ok();
}

json Deduplicated(const json& tags) {
  json out = json::array();
  std::set<std::string> seen;
  for (const json& t : tags) {
    if (seen.insert(t.get<std::string>()).second) out.push_back(t);
  }
  return out;
}

// Sets a checked attribute, with the rules that depend on the image's state.
ApiStatus SetAttribute(json& record, const std::string& key, const json& value) {
  if (ApiStatus s = CheckSettable(key); !s.ok()) return s;
  if (key == "id") return ApiStatus::Error(403, "Attribute 'id' is read-only.");
  if (ApiStatus s = CheckValue(key, value); !s.ok()) return s;
  if ((key == "disk_format" || key == "container_format") && record["status"] != "queued" &&
      record[key] != value) {
    return ApiStatus::Error(403, "Attribute " + key + " can be only replaced for a queued image.");
  }
  record[key] = key == "tags" ? Deduplicated(value) : value;
  return ApiStatus::Ok();
}

// "/name" → "name" (JSON pointer, one level; ~1 and ~0 unescaped).
bool PatchPath(const json& path, std::string* key) {
  if (!path.is_string()) return false;
  const std::string& p = path.get_ref<const std::string&>();
  if (p.size() < 2 || p[0] != '/' || p.find('/', 1) != std::string::npos) return false;
  key->clear();
  for (size_t i = 1; i < p.size(); ++i) {
    if (p[i] == '~' && i + 1 < p.size() && (p[i + 1] == '0' || p[i + 1] == '1')) {
      *key += p[i + 1] == '0' ? '~' : '/';
      ++i;
    } else if (p[i] == '~') {
      return false;
    } else {
      *key += p[i];
    }
  }
  return true;
}

ApiStatus ApplyOne(json& record, const json& op_json, bool v21) {
  if (!op_json.is_object()) return ApiStatus::Error(400, "A patch operation must be an object");
  std::string op;
  json path;
  if (v21 || op_json.contains("op")) {
    if (!op_json.contains("op") || !op_json["op"].is_string() || !op_json.contains("path")) {
      return ApiStatus::Error(400, "A patch operation needs 'op' and 'path': " + op_json.dump());
    }
    op = op_json["op"];
    path = op_json["path"];
  } else {
    for (const char* name : {"add", "replace", "remove"}) {
      if (op_json.contains(name)) {
        if (!op.empty())
          return ApiStatus::Error(400, "Operation objects must contain exactly one operation");
        op = name;
        path = op_json[name];
      }
    }
    if (op.empty()) return ApiStatus::Error(400, "Unknown patch operation: " + op_json.dump());
  }
  if (op != "add" && op != "replace" && op != "remove") {
    return ApiStatus::Error(400, "Invalid operation: '" + op + "'");
  }
  std::string key;
  if (!PatchPath(path, &key)) {
    return ApiStatus::Error(400, "Invalid JSON pointer for this resource: " + path.dump());
  }
  if (op == "remove") {
    if (ApiStatus s = CheckSettable(key); !s.ok()) return s;
    if (kBase.count(key) || key == "kernel_id" || key == "ramdisk_id") {
      if (key == "kernel_id" || key == "ramdisk_id") {
        record.erase(key);
        return ApiStatus::Ok();
      }
      return ApiStatus::Error(403, "Attribute '" + key + "' cannot be removed.");
    }
    if (!record.contains(key)) {
      return ApiStatus::Error(409, "Property " + key + " does not exist.");
    }
    record.erase(key);
    return ApiStatus::Ok();
  }
  if (!op_json.contains("value")) {
    return ApiStatus::Error(400, "Operation '" + op + "' needs a 'value'");
  }
  if (op == "replace" && !kBase.count(key) && !kReadOnly.count(key) && !IsReserved(key) &&
      !record.contains(key)) {
    return ApiStatus::Error(409, "Property " + key + " does not exist.");
  }
  return SetAttribute(record, key, op_json["value"]);
}

}  // namespace

std::string IsoTime(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

ApiStatus NewImageRecord(const json& body, const std::string& generated_id, const json& owner,
                         int64_t unix_ms, json* record) {
  if (!body.is_object()) return ApiStatus::Error(400, "The request body must be a JSON object");
  json r = {{"id", generated_id},
            {"name", nullptr},
            {"status", "queued"},
            {"visibility", "shared"},
            {"protected", false},
            {"os_hidden", false},
            {"checksum", nullptr},
            {"os_hash_algo", nullptr},
            {"os_hash_value", nullptr},
            {"size", nullptr},
            {"virtual_size", nullptr},
            {"min_disk", 0},
            {"min_ram", 0},
            {"disk_format", nullptr},
            {"container_format", nullptr},
            {"owner", owner},
            {"tags", json::array()},
            {"created_at", IsoTime(unix_ms)},
            {"updated_at", IsoTime(unix_ms)}};
  for (const auto& [key, value] : body.items()) {
    if (ApiStatus s = CheckSettable(key); !s.ok()) return s;
    if (ApiStatus s = CheckValue(key, value); !s.ok()) return s;
    r[key] = key == "tags" ? Deduplicated(value) : value;
  }
  if (r["id"].is_string()) {
    std::string id = r["id"];
    std::transform(id.begin(), id.end(), id.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    r["id"] = id;
  }
  *record = std::move(r);
  return ApiStatus::Ok();
}

ApiStatus CheckStoredRecord(const json& record) {
  auto bad = [](const std::string& key, const json& value) {
    return ApiStatus::Error(500, "stored image record has '" + key + "': " + value.dump());
  };
  auto byte_count = [](const json& value) {
    return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
  };
  if (!record.is_object()) return ApiStatus::Error(500, "stored image record is not an object");
  if (!record.contains("id")) return ApiStatus::Error(500, "stored image record has no id");
  if (!record.contains("status")) return ApiStatus::Error(500, "stored image record has no status");
  for (const auto& [key, value] : record.items()) {
    if (key == kInternalKey) {
      if (!value.is_object()) return bad(key, value);
      for (const auto& [name, field] : value.items()) {
        const bool ok = name == "lease_expires_ms" ? field.is_number_integer() : field.is_string();
        if (!ok) return bad(key + "." + name, field);
      }
    } else if (key == "status") {
      if (!value.is_string() || !kStatuses.count(value.get_ref<const std::string&>())) {
        return bad(key, value);
      }
    } else if (key == "size" || key == "virtual_size") {
      if (!value.is_null() && !byte_count(value)) return bad(key, value);
    } else if (key == "checksum" || key == "os_hash_algo" || key == "os_hash_value") {
      if (!value.is_null() && !value.is_string()) return bad(key, value);
    } else if (key == "created_at" || key == "updated_at") {
      if (!value.is_string()) return bad(key, value);
    } else if (!kReadOnly.count(key) && !IsReserved(key)) {
      if (ApiStatus s = CheckValue(key, value); !s.ok()) {
        return ApiStatus::Error(500, "stored image record: " + s.message);
      }
    }
  }
  if (record["status"] == "active" && !byte_count(record.value("size", json()))) {
    return ApiStatus::Error(500, "stored image record is active without a size");
  }
  return ApiStatus::Ok();
}

json ToApiImage(const json& record) {
  json image = record;
  image.erase(kInternalKey);
  std::string id = record.value("id", "");
  image["self"] = "/v2/images/" + id;
  image["file"] = "/v2/images/" + id + "/file";
  image["schema"] = "/v2/schemas/image";
  return image;
}

ApiStatus ApplyPatch(json& record, const json& patch, bool v21, int64_t unix_ms) {
  if (!patch.is_array()) {
    return ApiStatus::Error(400, "Request body must be a JSON array of operation objects.");
  }
  json updated = record;
  for (const json& op : patch) {
    if (ApiStatus s = ApplyOne(updated, op, v21); !s.ok()) return s;
  }
  updated["updated_at"] = IsoTime(unix_ms);
  record = std::move(updated);
  return ApiStatus::Ok();
}

ApiStatus AddTag(json& record, const std::string& tag, int64_t unix_ms) {
  if (tag.empty() || tag.size() > 255) {
    return ApiStatus::Error(400, "A tag must be 1-255 characters");
  }
  json& tags = record["tags"];
  if (!tags.is_array()) tags = json::array();
  if (std::find(tags.begin(), tags.end(), tag) == tags.end()) {
    if (tags.size() >= kMaxTags) {
      return ApiStatus::Error(413, "Maximum number of tags exceeded: " + std::to_string(kMaxTags));
    }
    tags.push_back(tag);
    record["updated_at"] = IsoTime(unix_ms);
  }
  return ApiStatus::Ok();
}

ApiStatus RemoveTag(json& record, const std::string& tag, int64_t unix_ms) {
  json& tags = record["tags"];
  auto it = tags.is_array() ? std::find(tags.begin(), tags.end(), tag) : tags.end();
  if (!tags.is_array() || it == tags.end()) {
    return ApiStatus::Error(404, "Tag " + tag + " not found");
  }
  tags.erase(it);
  record["updated_at"] = IsoTime(unix_ms);
  return ApiStatus::Ok();
}

json& Internal(json& record) {
  json& internal = record[kInternalKey];
  if (!internal.is_object()) internal = json::object();
  return internal;
}

std::string DataPath(const json& record) {
  auto it = record.find(kInternalKey);
  if (it == record.end() || !it->is_object()) return "";
  auto data = it->find("data");
  return data != it->end() && data->is_string() ? data->get<std::string>() : "";
}

bool LeaseExpired(const json& record, int64_t unix_ms) {
  std::string status = record.value("status", "");
  if (status != "saving" && status != "uploading" && status != "importing") return false;
  auto it = record.find(kInternalKey);
  if (it == record.end() || !it->is_object() || !it->contains("lease_token")) return false;
  auto expires = it->find("lease_expires_ms");
  return expires == it->end() || !expires->is_number_integer() || expires->get<int64_t>() < unix_ms;
}

}  // namespace tessera::images
