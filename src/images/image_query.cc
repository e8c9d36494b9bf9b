#include "images/image_query.h"

#include <algorithm>
#include <set>

#include "common/units.h"

namespace tessera::images {
namespace {

using json = nlohmann::json;

const std::set<std::string, std::less<>> kSortKeys = {
    "name",     "status",     "container_format", "disk_format", "size",
    "id",       "created_at", "updated_at",       "visibility",  "owner",
    "min_disk", "min_ram",    "virtual_size"};
// Filters that accept "in:a,b,c".
const std::set<std::string, std::less<>> kInFilters = {"name",  "status",      "id",
                                                       "owner", "disk_format", "container_format"};
// Parameters that are not property filters.
const std::set<std::string, std::less<>> kNotFilters = {
    "limit", "marker",   "sort_key", "sort_dir",   "sort",
    "tag",   "size_min", "size_max", "visibility", "member_status"};

bool ParseUint(const std::string& text, uint64_t* out) {
  std::optional<uint64_t> v = ParseDecimal(text);
  if (v) *out = *v;
  return v.has_value();
}

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

ApiStatus ParseDir(const std::string& dir, bool* ascending) {
  if (dir == "asc") {
    *ascending = true;
  } else if (dir == "desc") {
    *ascending = false;
  } else {
    return ApiStatus::Error(400, "Invalid sort direction: " + dir);
  }
  return ApiStatus::Ok();
}

ApiStatus CheckSortKey(const std::string& key) {
  if (!kSortKeys.count(key)) return ApiStatus::Error(400, "Invalid sort key: " + key);
  return ApiStatus::Ok();
}

// Orders JSON scalars: null first, then numbers, booleans, strings by value.
int Compare(const json& a, const json& b) {
  auto rank = [](const json& v) {
    if (v.is_null()) return 0;
    if (v.is_number()) return 1;
    if (v.is_boolean()) return 2;
    return 3;
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (a.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_boolean()) return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
  if (a.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return 0;
}

// A filter value as text, to compare with the query's strings.
std::string AsText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

bool Matches(const json& image, const ListQuery& q) {
  std::string visibility = image.value("visibility", "");
  if (q.visibility.empty()) {
    if (visibility == "community") return false;
  } else if (q.visibility != "all" && q.visibility != visibility) {
    return false;
  }
  if (!q.filters.count("os_hidden") && image.value("os_hidden", false)) return false;
  for (const auto& [key, accepted] : q.filters) {
    auto it = image.find(key);
    if (it == image.end()) return false;
    std::string text = AsText(*it);
    if (it->is_boolean()) {
      bool any = false;
      for (const std::string& a : accepted) {
        std::string lower = a;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        any = any || lower == text;
      }
      if (!any) return false;
    } else if (std::find(accepted.begin(), accepted.end(), text) == accepted.end()) {
      return false;
    }
  }
  for (const std::string& tag : q.tags) {
    const json& tags = image.contains("tags") ? image["tags"] : json::array();
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) return false;
  }
  if (q.size_min || q.size_max) {
    const json& size = image.contains("size") ? image["size"] : json();
    if (!size.is_number_unsigned() && !size.is_number_integer()) return false;
    uint64_t s = size.get<uint64_t>();
    if (q.size_min && s < *q.size_min) return false;
    if (q.size_max && s > *q.size_max) return false;
  }
  return true;
}

}  // namespace

ApiStatus ParseListQuery(const std::multimap<std::string, std::string>& params, ListQuery* query) {
  ListQuery q;
  std::vector<std::string> sort_keys, sort_dirs;
  bool has_sort = false;
  for (const auto& [key, value] : params) {
    if (key == "limit") {
      uint64_t v = 0;
      if (!ParseUint(value, &v)) return ApiStatus::Error(400, "limit param must be an integer");
      q.limit = std::min<uint64_t>(v, kMaxListLimit);
    } else if (key == "marker") {
      q.marker = value;
    } else if (key == "sort_key") {
      sort_keys.push_back(value);
    } else if (key == "sort_dir") {
      sort_dirs.push_back(value);
    } else if (key == "sort") {
      if (has_sort) return ApiStatus::Error(400, "sort may be given once");
      has_sort = true;
      for (const std::string& item : Split(value, ',')) {
        std::vector<std::string> kd = Split(item, ':');
        if (kd.size() > 2 || kd[0].empty()) return ApiStatus::Error(400, "Invalid sort: " + value);
        if (ApiStatus s = CheckSortKey(kd[0]); !s.ok()) return s;
        bool asc = false;
        if (kd.size() == 2) {
          if (ApiStatus s = ParseDir(kd[1], &asc); !s.ok()) return s;
        }
        q.sort.emplace_back(kd[0], asc);
      }
    } else if (key == "tag") {
      q.tags.push_back(value);
    } else if (key == "size_min" || key == "size_max") {
      uint64_t v = 0;
      if (!ParseUint(value, &v))
        return ApiStatus::Error(400, key + " must be a non-negative integer");
      (key == "size_min" ? q.size_min : q.size_max) = v;
    } else if (key == "visibility") {
      if (value != "public" && value != "private" && value != "community" && value != "shared" &&
          value != "all") {
        return ApiStatus::Error(400, "Invalid visibility value: " + value);
      }
      q.visibility = value;
    } else if (key == "member_status") {
      // Image sharing is not built; every image is listed regardless.
    } else {
      std::vector<std::string>& accepted = q.filters[key];
      if (value.rfind("in:", 0) == 0 && kInFilters.count(key)) {
        for (std::string& v : Split(value.substr(3), ',')) {
          // "in:" values may be quoted to contain commas: "in:\"a,b\",c" is not
          // supported beyond plain quoting of a single value.
          if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
          accepted.push_back(v);
        }
      } else {
        accepted.push_back(value);
      }
    }
  }
  if (has_sort && (!sort_keys.empty() || !sort_dirs.empty())) {
    return ApiStatus::Error(400,
                            "The 'sort' parameter cannot be combined with sort_key or sort_dir");
  }
  if (!sort_dirs.empty() && sort_dirs.size() != 1 && sort_dirs.size() != sort_keys.size()) {
    return ApiStatus::Error(400, "Number of sort dirs does not match the number of sort keys");
  }
  if (!sort_dirs.empty() && sort_keys.empty()) sort_keys.push_back("created_at");
  for (size_t i = 0; i < sort_keys.size(); ++i) {
    if (ApiStatus s = CheckSortKey(sort_keys[i]); !s.ok()) return s;
    bool asc = false;
    if (!sort_dirs.empty()) {
      if (ApiStatus s = ParseDir(sort_dirs[sort_dirs.size() == 1 ? 0 : i], &asc); !s.ok()) return s;
    }
    q.sort.emplace_back(sort_keys[i], asc);
  }
  if (q.sort.empty()) q.sort.emplace_back("created_at", false);
  bool has_id = std::any_of(q.sort.begin(), q.sort.end(), [](auto& s) { return s.first == "id"; });
  // The last key's direction carries over to the id tiebreak, as in Glance.
  if (!has_id) q.sort.emplace_back("id", q.sort.back().second);
  *query = std::move(q);
  return ApiStatus::Ok();
}

ApiStatus SelectPage(std::vector<json> records, const ListQuery& query, ListPage* page) {
  auto less = [&](const json& a, const json& b) {
    for (const auto& [key, asc] : query.sort) {
      static const json kNull;
      const json& x = a.contains(key) ? a[key] : kNull;
      const json& y = b.contains(key) ? b[key] : kNull;
      int c = Compare(x, y);
      if (c != 0) return asc ? c < 0 : c > 0;
    }
    return false;
  };
  std::sort(records.begin(), records.end(), less);
  size_t start = 0;
  if (!query.marker.empty()) {
    auto it = std::find_if(records.begin(), records.end(),
                           [&](const json& r) { return r.value("id", "") == query.marker; });
    if (it == records.end()) return ApiStatus::Error(400, "Invalid marker: " + query.marker);
    start = static_cast<size_t>(it - records.begin()) + 1;
  }
  ListPage out;
  for (size_t i = start; i < records.size(); ++i) {
    if (!Matches(records[i], query)) continue;
    if (out.images.size() == query.limit) {
      out.more = true;
      break;
    }
    out.images.push_back(std::move(records[i]));
  }
  *page = std::move(out);
  return ApiStatus::Ok();
}

}  // namespace tessera::images
