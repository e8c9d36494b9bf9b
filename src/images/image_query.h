// Image listing: the query of GET /v2/images and the page it selects.
//
// ParseListQuery reads the Image API's parameters: limit (default 25, at most
// 1000), marker (an image id), sort_key/sort_dir (repeatable) or the newer
// sort=key[:dir],..., and the filters name, status, visibility (default: all
// but community; "all" for every one), owner, tag (repeatable, all must
// match), disk_format, container_format, id, size_min, size_max, protected,
// os_hidden (default false) and any extra property by name. name, status,
// id, owner, disk_format and container_format also take "in:a,b,...".
// SelectPage sorts (always ending with id, so the order is total), applies
// the marker then the filters, and cuts the page. Pure, thread-compatible.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "images/api_status.h"

namespace tessera::images {

struct ListQuery {
  size_t limit = 25;
  std::string marker;
  std::vector<std::pair<std::string, bool>> sort;  // (key, ascending)
  // key → accepted values (one, or several from "in:"); tags separately.
  std::map<std::string, std::vector<std::string>> filters;
  std::vector<std::string> tags;
  std::optional<uint64_t> size_min, size_max;
  std::string visibility;  // "" = default
};

inline constexpr size_t kDefaultListLimit = 25;
inline constexpr size_t kMaxListLimit = 1000;

ApiStatus ParseListQuery(const std::multimap<std::string, std::string>& params, ListQuery* query);

struct ListPage {
  std::vector<nlohmann::json> images;  // stored records, in order
  bool more = false;                   // another page follows the last one
};

// 400 when the marker names no image.
ApiStatus SelectPage(std::vector<nlohmann::json> records, const ListQuery& query, ListPage* page);

}  // namespace tessera::images
