// The JSON schemas the Image API v2 publishes (GET /v2/schemas/...) and its
// version document. The `glance` client builds its command-line options from
// the image schema and validates every image it receives against it, so the
// image schema lists exactly the fields this service returns. It has no
// `stores` property: glanceclient 4.1 caches the schema and a `stores`
// property collides with its own --stores option. Pure, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tessera::images {

const nlohmann::json& ImageSchema();
const nlohmann::json& ImagesSchema();
// Minimal metadefs schemas: the client fetches them at start-up; this
// service has no metadata definitions catalogue.
const nlohmann::json& MetadefsNamespaceSchema();
const nlohmann::json& MetadefsResourceTypeSchema();
// {"versions": [...]} with links to `base_url` (e.g. "http://127.0.0.1:9292").
nlohmann::json VersionsDocument(const std::string& base_url);

}  // namespace tessera::images
