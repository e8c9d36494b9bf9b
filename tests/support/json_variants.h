// Garbage for JSON decoders, made from a valid document: for tests that
// feed every decoder of stored or received JSON what a corrupt store or a
// broken peer could hand it.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace tessera::testing {

// Every document that differs from `doc` in one value (replaced by a value
// of another type or range: null, booleans, small, negative and huge
// numbers, a fraction, strings, an empty array and object) or in one member
// or element (removed). Containers count as values too.
inline std::vector<nlohmann::json> OneValueChanged(const nlohmann::json& doc) {
  const std::vector<nlohmann::json> replacements = {nullptr,
                                                    false,
                                                    true,
                                                    0,
                                                    1,
                                                    2,
                                                    3,
                                                    17,
                                                    21,
                                                    -1,
                                                    -2,
                                                    4294967296LL,
                                                    std::numeric_limits<int64_t>::min(),
                                                    std::numeric_limits<uint64_t>::max(),
                                                    1e300,
                                                    0.5,
                                                    "",
                                                    "x",
                                                    nlohmann::json::array(),
                                                    nlohmann::json::object()};
  const nlohmann::json leaves = doc.flatten();  // named: items() only borrows it
  std::set<std::string> pointers;
  for (const auto& [pointer, value] : leaves.items()) {
    // The leaf and every container above it.
    for (std::string p = pointer; !p.empty(); p = p.substr(0, p.rfind('/'))) pointers.insert(p);
  }
  std::vector<nlohmann::json> out;
  for (const std::string& p : pointers) {
    const nlohmann::json::json_pointer ptr(p);
    for (const nlohmann::json& r : replacements) {
      nlohmann::json changed = doc;
      changed[ptr] = r;
      out.push_back(std::move(changed));
    }
    nlohmann::json removed = doc;
    nlohmann::json& parent = removed[ptr.parent_pointer()];
    if (parent.is_array()) {
      parent.erase(std::stoul(ptr.back()));
    } else {
      parent.erase(ptr.back());
    }
    out.push_back(std::move(removed));
  }
  return out;
}

}  // namespace tessera::testing
