// ImageDigest: the two checksums the Image API reports for an image's bytes,
// computed in one pass as they stream by: md5 (`checksum`) and sha512
// (`os_hash_value`, `os_hash_algo` "sha512"). Not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace tessera::images {

class ImageDigest {
 public:
  ImageDigest();
  ~ImageDigest();
  ImageDigest(const ImageDigest&) = delete;
  ImageDigest& operator=(const ImageDigest&) = delete;

  void Update(const char* data, size_t size);
  // Lowercase hex; call once, after the last Update.
  void Finish(std::string* md5_hex, std::string* sha512_hex);
  uint64_t size() const { return size_; }

 private:
  struct Contexts;
  std::unique_ptr<Contexts> ctx_;
  uint64_t size_ = 0;
};

}  // namespace tessera::images
