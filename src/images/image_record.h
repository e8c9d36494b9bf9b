// Image records: what an image is, as the Image API v2 shows it and as the
// image service stores it (one JSON document per image in the cluster).
//
// A stored record is the image's API fields (without the computed `self`,
// `file` and `schema`) plus one internal object under "_tessera" that the
// API never shows: where the image's bytes are ("data"), and the lease of an
// upload or import in progress ("lease_token", "lease_expires_ms").
//
// Everything here is pure (no I/O, no clock: callers pass the time) and
// thread-compatible. Errors are ApiStatus values carrying the HTTP status the
// Image API specifies: a read-only or reserved attribute 403, a value the
// schema rejects 400, a patch on a missing property 409.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "images/api_status.h"

namespace tessera::images {

using json = nlohmann::json;

inline constexpr const char* kInternalKey = "_tessera";
inline constexpr size_t kMaxTags = 128;

// "2026-11-22T00:38:36Z" for a time in milliseconds since the epoch.
std::string IsoTime(int64_t unix_ms);
// True for a canonical 8-4-4-4-12 hex UUID.
bool IsUuid(std::string_view text);

// Validates a create request body and builds the stored record: status
// `queued`, every schema field present (nulls where unknown), the given id
// if the body has none, timestamps `unix_ms`; `owner` is a string or null.
ApiStatus NewImageRecord(const json& body, const std::string& generated_id, const json& owner,
                         int64_t unix_ms, json* record);

// Whether a record read from the cluster has the shape this file and the
// service rely on: an object with an id and a status, whose settable
// attributes pass the schema and whose computed ones have their types
// (status one of Glance's; size and virtual_size null or a non-negative
// integer; checksum, os_hash_algo and os_hash_value null or strings;
// created_at and updated_at strings; an active image's size set), with an
// internal object, if any, of strings ("data", "staged", "lease_token") and
// an integer ("lease_expires_ms"). Records are files anything could have
// written: a 500 naming what is wrong for one that fails.
ApiStatus CheckStoredRecord(const json& record);

// The image as the API returns it: stored fields plus self/file/schema,
// without the internal object.
json ToApiImage(const json& record);

// Applies a JSON patch (`v21`: application/openstack-images-v2.1-json-patch
// with {"op","path","value"}; otherwise the v2.0 form {"replace": "/name",
// "value": ...}) to a copy of `record`; on success replaces it and bumps
// updated_at. All-or-nothing.
ApiStatus ApplyPatch(json& record, const json& patch, bool v21, int64_t unix_ms);

// PUT/DELETE /v2/images/{id}/tags/{tag}.
ApiStatus AddTag(json& record, const std::string& tag, int64_t unix_ms);
ApiStatus RemoveTag(json& record, const std::string& tag, int64_t unix_ms);

// The internal object (created if absent).
json& Internal(json& record);
std::string DataPath(const json& record);  // "" when the image has no bytes

// True when an upload or import holds the image (saving, uploading,
// importing, with a lease token) and its lease ran out before `unix_ms`: the
// service that held it is gone, and the image goes back to `queued`.
bool LeaseExpired(const json& record, int64_t unix_ms);

}  // namespace tessera::images
