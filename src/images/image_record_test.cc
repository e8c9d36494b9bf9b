#include "images/image_record.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/support/json_variants.h"

namespace tessera::images {
namespace {

constexpr int64_t kT0 = 1'795'000'000'000;  // 2026-11-18T...
const std::string kId = "0b2e3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d";

json Created(const json& body = json::object()) {
  json record;
  ApiStatus s = NewImageRecord(body, kId, nullptr, kT0, &record);
  EXPECT_TRUE(s.ok()) << s.message;
  return record;
}

TEST(ImageRecordTest, NewImageHasEverySchemaFieldAndIsQueued) {
  json r = Created({{"name", "cirros"},
                    {"disk_format", "qcow2"},
                    {"container_format", "bare"},
                    {"min_disk", 1},
                    {"os_distro", "cirros"}});
  for (const char* key :
       {"id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo",
        "os_hash_value", "size", "virtual_size", "min_disk", "min_ram", "disk_format",
        "container_format", "owner", "created_at", "updated_at", "tags"}) {
    EXPECT_TRUE(r.contains(key)) << key;
  }
  EXPECT_EQ(r["status"], "queued");
  EXPECT_EQ(r["visibility"], "shared");
  EXPECT_EQ(r["id"], kId);
  EXPECT_EQ(r["os_distro"], "cirros");
  EXPECT_EQ(r["created_at"], IsoTime(kT0));
  EXPECT_TRUE(r["size"].is_null());
  json api = ToApiImage(r);
  EXPECT_EQ(api["self"], "/v2/images/" + kId);
  EXPECT_EQ(api["file"], "/v2/images/" + kId + "/file");
  EXPECT_EQ(api["schema"], "/v2/schemas/image");
}

TEST(ImageRecordTest, IsoTimeIsUtcSeconds) {
  EXPECT_EQ(IsoTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(IsoTime(1'000'000'000'999), "2001-09-09T01:46:40Z");
}

TEST(ImageRecordTest, ClientSuppliedIdIsKeptLowercase) {
  json r;
  ASSERT_TRUE(
      NewImageRecord({{"id", "0B2E3C4D-5E6F-4A0B-8C1D-2E3F4A5B6C7D"}}, "x", nullptr, kT0, &r).ok());
  EXPECT_EQ(r["id"], kId);
}

TEST(ImageRecordTest, ReadOnlyAndReservedFieldsAre403) {
  for (const char* key :
       {"status", "checksum", "size", "virtual_size", "created_at", "updated_at", "os_hash_value",
        "os_hash_algo", "self", "file", "schema", "locations", "direct_url", "deleted",
        "deleted_at", "os_glance_importing", "_tessera"}) {
    json r;
    ApiStatus s = NewImageRecord({{key, "x"}}, kId, nullptr, kT0, &r);
    EXPECT_EQ(s.http, 403) << key << ": " << s.message;
  }
}

TEST(ImageRecordTest, SchemaViolationsAre400) {
  std::vector<json> bad = {
      {{"name", 5}},
      {{"name", std::string(256, 'n')}},
      {{"visibility", "everyone"}},
      {{"visibility", nullptr}},
      {{"disk_format", "exe"}},
      {{"container_format", "zip"}},
      {{"protected", "yes"}},
      {{"os_hidden", 1}},
      {{"min_ram", -1}},
      {{"min_disk", "1"}},
      {{"min_disk", 1.5}},
      {{"tags", "a"}},
      {{"tags", {1}}},
      {{"tags", {""}}},
      {{"id", "not-a-uuid"}},
      {{"kernel_id", "nope"}},
      {{"custom", 3}},
      {{"custom", {{"nested", true}}}},
      {{std::string(256, 'k'), "v"}},
  };
  for (const json& body : bad) {
    json r;
    EXPECT_EQ(NewImageRecord(body, kId, nullptr, kT0, &r).http, 400) << body.dump();
  }
  for (const json& body : {json::array(), json("x"), json(nullptr), json(3)}) {
    json r;
    EXPECT_EQ(NewImageRecord(body, kId, nullptr, kT0, &r).http, 400) << body.dump();
  }
}

TEST(ImageRecordTest, TooManyTagsIs413AndDuplicatesCollapse) {
  json tags = json::array();
  for (int i = 0; i <= 128; ++i) tags.push_back("t" + std::to_string(i));
  json r;
  EXPECT_EQ(NewImageRecord({{"tags", tags}}, kId, nullptr, kT0, &r).http, 413);
  r = Created({{"tags", {"a", "b", "a"}}});
  EXPECT_EQ(r["tags"], json({"a", "b"}));
}

TEST(ImageRecordTest, PatchV21AddsReplacesAndRemoves) {
  json r = Created({{"name", "a"}});
  json patch = json::array({{{"op", "replace"}, {"path", "/name"}, {"value", "b"}},
                            {{"op", "add"}, {"path", "/os_distro"}, {"value", "debian"}},
                            {{"op", "add"}, {"path", "/a~1b"}, {"value", "slash"}},
                            {{"op", "replace"}, {"path", "/tags"}, {"value", {"x", "y"}}},
                            {{"op", "replace"}, {"path", "/protected"}, {"value", true}}});
  ASSERT_TRUE(ApplyPatch(r, patch, true, kT0 + 5000).ok());
  EXPECT_EQ(r["name"], "b");
  EXPECT_EQ(r["os_distro"], "debian");
  EXPECT_EQ(r["a/b"], "slash");
  EXPECT_EQ(r["tags"], json({"x", "y"}));
  EXPECT_EQ(r["protected"], true);
  EXPECT_EQ(r["updated_at"], IsoTime(kT0 + 5000));
  ASSERT_TRUE(
      ApplyPatch(r, json::array({{{"op", "remove"}, {"path", "/os_distro"}}}), true, kT0).ok());
  EXPECT_FALSE(r.contains("os_distro"));
}

TEST(ImageRecordTest, PatchV20Form) {
  json r = Created();
  json patch = json::array(
      {{{"replace", "/name"}, {"value", "old-style"}}, {{"add", "/k"}, {"value", "v"}}});
  ASSERT_TRUE(ApplyPatch(r, patch, false, kT0).ok());
  EXPECT_EQ(r["name"], "old-style");
  EXPECT_EQ(r["k"], "v");
  EXPECT_EQ(ApplyPatch(r, json::array({{{"replace", "/name"}, {"add", "/x"}, {"value", "v"}}}),
                       false, kT0)
                .http,
            400);
}

TEST(ImageRecordTest, PatchErrorsLeaveTheRecordUntouched) {
  json r = Created({{"name", "keep"}});
  const json before = r;
  struct Case {
    json patch;
    int http;
  };
  std::vector<Case> cases = {
      {json::object(), 400},
      {json::array({"x"}), 400},
      {json::array({{{"op", "test"}, {"path", "/name"}, {"value", "keep"}}}), 400},
      {json::array({{{"op", "move"}, {"path", "/name"}, {"from", "/x"}}}), 400},
      {json::array({{{"op", "replace"}, {"path", "name"}, {"value", "x"}}}), 400},
      {json::array({{{"op", "replace"}, {"path", "/a/b"}, {"value", "x"}}}), 400},
      {json::array({{{"op", "replace"}, {"path", "/"}, {"value", "x"}}}), 400},
      {json::array({{{"op", "replace"}, {"path", "/name"}}}), 400},
      {json::array({{{"path", "/name"}, {"value", "x"}}}), 400},
      {json::array({{{"op", "replace"}, {"path", "/status"}, {"value", "active"}}}), 403},
      {json::array({{{"op", "replace"}, {"path", "/size"}, {"value", 1}}}), 403},
      {json::array({{{"op", "replace"}, {"path", "/id"}, {"value", kId}}}), 403},
      {json::array({{{"op", "add"}, {"path", "/os_glance_x"}, {"value", "1"}}}), 403},
      {json::array({{{"op", "remove"}, {"path", "/name"}}}), 403},
      {json::array({{{"op", "remove"}, {"path", "/checksum"}}}), 403},
      {json::array({{{"op", "replace"}, {"path", "/missing"}, {"value", "v"}}}), 409},
      {json::array({{{"op", "remove"}, {"path", "/missing"}}}), 409},
      {json::array({{{"op", "add"}, {"path", "/k"}, {"value", 1}}}), 400},
      {json::array({{{"op", "replace"}, {"path", "/visibility"}, {"value", "x"}}}), 400},
      // The first operation is valid; the second fails: nothing is applied.
      {json::array({{{"op", "replace"}, {"path", "/name"}, {"value", "new"}},
                    {{"op", "replace"}, {"path", "/status"}, {"value", "active"}}}),
       403},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ApplyPatch(r, c.patch, true, kT0 + 1).http, c.http) << c.patch.dump();
    EXPECT_EQ(r, before);
  }
}

TEST(ImageRecordTest, FormatsChangeOnlyWhileQueued) {
  json r = Created({{"disk_format", "raw"}});
  r["status"] = "active";
  json patch = json::array({{{"op", "replace"}, {"path", "/disk_format"}, {"value", "qcow2"}}});
  EXPECT_EQ(ApplyPatch(r, patch, true, kT0).http, 403);
  r["status"] = "queued";
  EXPECT_TRUE(ApplyPatch(r, patch, true, kT0).ok());
}

TEST(ImageRecordTest, Tags) {
  json r = Created();
  ASSERT_TRUE(AddTag(r, "a", kT0).ok());
  ASSERT_TRUE(AddTag(r, "a", kT0).ok());
  EXPECT_EQ(r["tags"], json({"a"}));
  EXPECT_EQ(AddTag(r, "", kT0).http, 400);
  EXPECT_EQ(AddTag(r, std::string(256, 't'), kT0).http, 400);
  EXPECT_EQ(RemoveTag(r, "b", kT0).http, 404);
  ASSERT_TRUE(RemoveTag(r, "a", kT0).ok());
  EXPECT_TRUE(r["tags"].empty());
  for (size_t i = 0; i < kMaxTags; ++i) ASSERT_TRUE(AddTag(r, "t" + std::to_string(i), kT0).ok());
  EXPECT_EQ(AddTag(r, "one-more", kT0).http, 413);
}

TEST(ImageRecordTest, LeaseExpiresOnlyForHeldImages) {
  json r = Created();
  EXPECT_FALSE(LeaseExpired(r, kT0 + 1'000'000));
  r["status"] = "saving";
  EXPECT_FALSE(LeaseExpired(r, kT0));  // no lease token: staged data, not an upload
  Internal(r)["lease_token"] = "t";
  Internal(r)["lease_expires_ms"] = kT0 + 10;
  EXPECT_FALSE(LeaseExpired(r, kT0 + 10));
  EXPECT_TRUE(LeaseExpired(r, kT0 + 11));
  r["status"] = "active";
  EXPECT_FALSE(LeaseExpired(r, kT0 + 11));
  EXPECT_FALSE(ToApiImage(r).contains(kInternalKey));
  EXPECT_EQ(DataPath(r), "");
  Internal(r)["data"] = "data/x/y";
  EXPECT_EQ(DataPath(r), "data/x/y");
}

// Stored records are files in the cluster that anything could have written:
// a record that passes CheckStoredRecord never makes reading it throw, and
// one that fails says why.
TEST(ImageRecordTest, AnyStoredRecordIsCheckedBeforeUse) {
  json held = Created({{"name", "vm"}, {"tags", {"a"}}, {"extra", "x"}});
  held["status"] = "active";
  held["size"] = 5;
  held["checksum"] = "abc";
  Internal(held)["lease_token"] = "t";
  Internal(held)["lease_expires_ms"] = kT0 + 10;
  Internal(held)["data"] = "data/x/y";
  ASSERT_TRUE(CheckStoredRecord(held).ok()) << CheckStoredRecord(held).message;
  size_t variants = 0, accepted = 0;
  for (const json& stored : testing::OneValueChanged(held)) {
    ++variants;
    ApiStatus checked = CheckStoredRecord(stored);
    if (!checked.ok()) {
      EXPECT_EQ(checked.http, 500);
      EXPECT_NE(checked.message.find("stored image record"), std::string::npos);
      continue;
    }
    ++accepted;
    json record = stored;
    EXPECT_NO_THROW(ToApiImage(record)) << stored.dump();
    EXPECT_NO_THROW(LeaseExpired(record, kT0 + 11)) << stored.dump();
    EXPECT_NO_THROW(DataPath(record)) << stored.dump();
    if (record["status"] == "active") {  // a download reads its size
      EXPECT_NO_THROW((void)record.value("size", uint64_t{0})) << stored.dump();
    }
  }
  EXPECT_GT(variants, 300u);
  EXPECT_GT(accepted, 20u);  // harmless changes (a name, a tag) still pass
  EXPECT_FALSE(CheckStoredRecord(json::array()).ok());
  EXPECT_EQ(CheckStoredRecord(json::object()).message, "stored image record has no id");
}

TEST(ImageRecordTest, UuidShape) {
  EXPECT_TRUE(IsUuid(kId));
  EXPECT_TRUE(IsUuid("0B2E3C4D-5E6F-4A0B-8C1D-2E3F4A5B6C7D"));
  for (const char* bad :
       {"", "0b2e3c4d5e6f4a0b8c1d2e3f4a5b6c7d", "0b2e3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7",
        "0b2e3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7g", "0b2e3c4d_5e6f-4a0b-8c1d-2e3f4a5b6c7d",
        "../../../../etc/passwd-xxxxxxxxxxxxxxx"}) {
    EXPECT_FALSE(IsUuid(bad)) << bad;
  }
}

// Garbage in: arbitrary JSON bodies and patches never crash and never
// produce a record that breaks the schema's basic types.
TEST(ImageRecordTest, RandomBodiesAndPatches) {
  std::mt19937 rng(6);
  std::vector<std::string> keys = {"name",       "status",      "tags", "min_ram", "protected",
                                   "visibility", "disk_format", "id",   "x",       "/",
                                   "",           "os_hidden",   "owner"};
  std::vector<json> values = {
      nullptr, 1,        -1, "s", true, json::array(), json::object(), 1.5, json::array({"t"}),
      "raw",   "public", kId};
  for (int i = 0; i < 5000; ++i) {
    json body = json::object();
    for (int k = rng() % 4; k > 0; --k)
      body[keys[rng() % keys.size()]] = values[rng() % values.size()];
    json r;
    if (!NewImageRecord(body, kId, nullptr, kT0, &r).ok()) continue;
    json patch = json::array();
    for (int k = rng() % 3; k > 0; --k) {
      const char* ops[] = {"add", "replace", "remove", "copy"};
      patch.push_back({{"op", ops[rng() % 4]},
                       {"path", "/" + keys[rng() % keys.size()]},
                       {"value", values[rng() % values.size()]}});
    }
    (void)ApplyPatch(r, patch, rng() % 2 == 0, kT0);
    EXPECT_TRUE(r["tags"].is_array());
    EXPECT_TRUE(r["protected"].is_boolean());
    EXPECT_TRUE(r["visibility"].is_string());
    EXPECT_TRUE(r["status"] == "queued");
  }
}

}  // namespace
}  // namespace tessera::images
