#include "images/image_schemas.h"

#include <gtest/gtest.h>

#include "images/image_record.h"

namespace tessera::images {
namespace {

// Every field a created image carries is described by the schema with a type
// its value has: the glance client validates what it receives against it.
TEST(ImageSchemasTest, SchemaDescribesEveryReturnedField) {
  json record;
  ASSERT_TRUE(
      NewImageRecord({{"name", "n"}}, "0b2e3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d", nullptr, 0, &record)
          .ok());
  record["status"] = "active";
  record["size"] = 5;
  record["checksum"] = std::string(32, 'a');
  record["os_hash_algo"] = "sha512";
  record["os_hash_value"] = std::string(128, 'b');
  const json& props = ImageSchema()["properties"];
  const json image = ToApiImage(record);
  for (const auto& [key, value] : image.items()) {
    ASSERT_TRUE(props.contains(key)) << key;
    json types =
        props[key]["type"].is_array() ? props[key]["type"] : json::array({props[key]["type"]});
    std::string type = value.is_null()             ? "null"
                       : value.is_boolean()        ? "boolean"
                       : value.is_number_integer() ? "integer"
                       : value.is_string()         ? "string"
                       : value.is_array()          ? "array"
                                                   : "object";
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << key << " " << type;
    if (props[key].contains("maxLength") && value.is_string()) {
      EXPECT_LE(value.get<std::string>().size(), props[key]["maxLength"].get<size_t>()) << key;
    }
  }
  // glanceclient 4.1 breaks on a cached schema with a `stores` property.
  EXPECT_FALSE(props.contains("stores"));
  EXPECT_EQ(ImageSchema()["additionalProperties"]["type"], "string");
  EXPECT_EQ(ImagesSchema()["properties"]["images"]["items"], ImageSchema());
}

TEST(ImageSchemasTest, VersionsHaveOneCurrentV2) {
  json doc = VersionsDocument("http://h:1");
  int current = 0;
  for (const json& v : doc["versions"]) {
    EXPECT_EQ(v["id"].get<std::string>().rfind("v2.", 0), 0u);
    current += v["status"] == "CURRENT";
    EXPECT_EQ(v["links"][0]["href"], "http://h:1/v2/");
  }
  EXPECT_EQ(current, 1);
}

}  // namespace
}  // namespace tessera::images
