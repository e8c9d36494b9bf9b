#include "images/image_digest.h"

#include <openssl/evp.h>

namespace tessera::images {

struct ImageDigest::Contexts {
  EVP_MD_CTX* md5 = EVP_MD_CTX_new();
  EVP_MD_CTX* sha512 = EVP_MD_CTX_new();
  ~Contexts() {
    EVP_MD_CTX_free(md5);
    EVP_MD_CTX_free(sha512);
  }
};

namespace {
std::string Hex(const unsigned char* bytes, unsigned int n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}
}  // namespace

ImageDigest::ImageDigest() : ctx_(std::make_unique<Contexts>()) {
  EVP_DigestInit_ex(ctx_->md5, EVP_md5(), nullptr);
  EVP_DigestInit_ex(ctx_->sha512, EVP_sha512(), nullptr);
}

ImageDigest::~ImageDigest() = default;

void ImageDigest::Update(const char* data, size_t size) {
  EVP_DigestUpdate(ctx_->md5, data, size);
  EVP_DigestUpdate(ctx_->sha512, data, size);
  size_ += size;
}

void ImageDigest::Finish(std::string* md5_hex, std::string* sha512_hex) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md5, out, &n);
  *md5_hex = Hex(out, n);
  EVP_DigestFinal_ex(ctx_->sha512, out, &n);
  *sha512_hex = Hex(out, n);
}

}  // namespace tessera::images
