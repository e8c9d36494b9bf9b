// Deterministic file contents and HTTP helpers shared by integration tests.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

namespace tessera::testing {

// `size` pseudo-random bytes determined by `seed`.
inline std::string Content(size_t size, uint64_t seed) {
  std::string s(size, '\0');
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + size);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  for (; i < size; ++i) s[i] = static_cast<char>(rng());
  return s;
}

inline httplib::Result PutFile(httplib::Client& client, const std::string& ns_path,
                               const std::string& body) {
  return client.Put(("/v1/files/" + ns_path).c_str(), body, "application/octet-stream");
}

// The HTTP status, or -1 when no response came (so a failed request is a
// test failure, not a crash).
inline int StatusOf(const httplib::Result& result) { return result ? result->status : -1; }

inline httplib::Result GetFile(httplib::Client& client, const std::string& ns_path) {
  return client.Get(("/v1/files/" + ns_path).c_str());
}

}  // namespace tessera::testing
