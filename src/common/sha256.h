// Streaming SHA-256 (OpenSSL EVP), used to check end to end that the bytes a
// node stored or sent are the bytes that crossed the wire.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace tessera {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  // Lower-case hex of the digest; the object is spent afterwards.
  std::string HexDigest();

  static std::string Hex(std::string_view data);

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace tessera
