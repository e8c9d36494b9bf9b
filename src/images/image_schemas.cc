#include "images/image_schemas.h"

namespace tessera::images {
namespace {

using json = nlohmann::json;

constexpr const char* kUuidPattern =
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

json BuildImageSchema() {
  json nullable_string = json::array({"null", "string"});
  json p = json::object();
  p["id"] = {{"type", "string"},
             {"pattern", kUuidPattern},
             {"description", "An identifier for the image"}};
  p["name"] = {{"type", nullable_string},
               {"maxLength", 255},
               {"description", "Descriptive name for the image"}};
  p["status"] = {{"type", "string"},
                 {"readOnly", true},
                 {"enum",
                  {"queued", "saving", "active", "killed", "deleted", "uploading", "importing",
                   "pending_delete", "deactivated"}},
                 {"description", "Status of the image"}};
  p["visibility"] = {{"type", "string"},
                     {"enum", {"community", "public", "private", "shared"}},
                     {"description", "Scope of image accessibility"}};
  p["protected"] = {{"type", "boolean"}, {"description", "If true, image will not be deletable."}};
  p["os_hidden"] = {
      {"type", "boolean"},
      {"description", "If true, image will not appear in default image list response."}};
  p["checksum"] = {{"type", nullable_string},
                   {"readOnly", true},
                   {"maxLength", 32},
                   {"description", "md5 hash of image contents."}};
  p["os_hash_algo"] = {{"type", nullable_string},
                       {"readOnly", true},
                       {"maxLength", 64},
                       {"description", "Algorithm to calculate the os_hash_value"}};
  p["os_hash_value"] = {
      {"type", nullable_string},
      {"readOnly", true},
      {"maxLength", 128},
      {"description",
       "Hexdigest of the image contents using the algorithm specified by the os_hash_algo"}};
  p["owner"] = {
      {"type", nullable_string}, {"maxLength", 255}, {"description", "Owner of the image"}};
  p["size"] = {{"type", json::array({"null", "integer"})},
               {"readOnly", true},
               {"description", "Size of image file in bytes"}};
  p["virtual_size"] = {{"type", json::array({"null", "integer"})},
                       {"readOnly", true},
                       {"description", "Virtual size of image in bytes"}};
  p["container_format"] = {
      {"type", nullable_string},
      {"enum", {nullptr, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}},
      {"description", "Format of the container"}};
  p["disk_format"] = {{"type", nullable_string},
                      {"enum",
                       {nullptr, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi",
                        "iso", "ploop"}},
                      {"description", "Format of the disk"}};
  p["created_at"] = {{"type", "string"},
                     {"readOnly", true},
                     {"description", "Date and time of image registration"}};
  p["updated_at"] = {{"type", "string"},
                     {"readOnly", true},
                     {"description", "Date and time of the last image modification"}};
  p["tags"] = {{"type", "array"},
               {"items", {{"type", "string"}, {"maxLength", 255}}},
               {"description", "List of strings related to the image"}};
  p["direct_url"] = {{"type", "string"},
                     {"readOnly", true},
                     {"description", "URL to access the image file kept in external store"}};
  p["min_ram"] = {{"type", "integer"},
                  {"description", "Amount of ram (in MB) required to boot image."}};
  p["min_disk"] = {{"type", "integer"},
                   {"description", "Amount of disk space (in GB) required to boot image."}};
  p["self"] = {{"type", "string"}, {"readOnly", true}, {"description", "An image self url"}};
  p["file"] = {{"type", "string"}, {"readOnly", true}, {"description", "An image file url"}};
  p["schema"] = {{"type", "string"}, {"readOnly", true}, {"description", "An image schema url"}};
  p["locations"] = {
      {"type", "array"},
      {"items",
       {{"type", "object"},
        {"properties",
         {{"url", {{"type", "string"}, {"maxLength", 255}}}, {"metadata", {{"type", "object"}}}}},
        {"required", {"url", "metadata"}}}},
      {"description", "A set of URLs to access the image file kept in external store"}};
  for (const char* id : {"kernel_id", "ramdisk_id"}) {
    p[id] = {{"type", nullable_string},
             {"pattern", kUuidPattern},
             {"is_base", false},
             {"description",
              std::string("ID of image stored in Glance that should be used as the ") +
                  (id[0] == 'k' ? "kernel" : "ramdisk") + " when booting an AMI-style image."}};
  }
  for (const char* name : {"architecture", "os_distro", "os_version", "instance_uuid"}) {
    p[name] = {{"type", "string"},
               {"is_base", false},
               {"description", std::string("Image property ") + name}};
  }
  return {{"name", "image"},
          {"properties", p},
          {"additionalProperties", {{"type", "string"}}},
          {"links", json::array({{{"rel", "self"}, {"href", "{self}"}},
                                 {{"rel", "enclosure"}, {"href", "{file}"}},
                                 {{"rel", "describedby"}, {"href", "{schema}"}}})}};
}

}  // namespace

const json& ImageSchema() {
  static const json schema = BuildImageSchema();
  return schema;
}

const json& ImagesSchema() {
  static const json schema = {
      {"name", "images"},
      {"properties",
       {{"images", {{"type", "array"}, {"items", ImageSchema()}}},
        {"schema", {{"type", "string"}}},
        {"first", {{"type", "string"}}},
        {"next", {{"type", "string"}}}}},
      {"links", json::array({{{"rel", "first"}, {"href", "{first}"}},
                             {{"rel", "next"}, {"href", "{next}"}},
                             {{"rel", "describedby"}, {"href", "{schema}"}}})}};
  return schema;
}

const json& MetadefsNamespaceSchema() {
  static const json schema = {
      {"name", "namespace"},
      {"required", {"namespace"}},
      {"additionalProperties", false},
      {"properties",
       {{"namespace", {{"type", "string"}, {"maxLength", 80}}},
        {"display_name", {{"type", "string"}, {"maxLength", 80}}},
        {"description", {{"type", "string"}, {"maxLength", 500}}},
        {"visibility", {{"type", "string"}, {"enum", {"public", "private"}}}},
        {"protected", {{"type", "boolean"}}},
        {"owner", {{"type", "string"}, {"maxLength", 255}}},
        {"created_at", {{"type", "string"}, {"readOnly", true}}},
        {"updated_at", {{"type", "string"}, {"readOnly", true}}},
        {"schema", {{"type", "string"}, {"readOnly", true}}},
        {"self", {{"type", "string"}, {"readOnly", true}}}}}};
  return schema;
}

const json& MetadefsResourceTypeSchema() {
  static const json schema = {{"name", "resource_type_association"},
                              {"required", {"name"}},
                              {"additionalProperties", false},
                              {"properties",
                               {{"name", {{"type", "string"}, {"maxLength", 80}}},
                                {"prefix", {{"type", "string"}, {"maxLength", 80}}},
                                {"properties_target", {{"type", "string"}, {"maxLength", 80}}},
                                {"created_at", {{"type", "string"}, {"readOnly", true}}},
                                {"updated_at", {{"type", "string"}, {"readOnly", true}}}}}};
  return schema;
}

json VersionsDocument(const std::string& base_url) {
  json versions = json::array();
  // Newest first, as Glance lists them; only the newest is CURRENT.
  const char* ids[] = {"v2.9", "v2.8", "v2.7", "v2.6", "v2.5",
                       "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"};
  for (const char* id : ids) {
    versions.push_back({{"id", id},
                        {"status", std::string(id) == "v2.9" ? "CURRENT" : "SUPPORTED"},
                        {"links", json::array({{{"rel", "self"}, {"href", base_url + "/v2/"}}})}});
  }
  return {{"versions", versions}};
}

}  // namespace tessera::images
