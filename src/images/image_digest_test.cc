#include "images/image_digest.h"

#include <gtest/gtest.h>

namespace tessera::images {
namespace {

std::pair<std::string, std::string> Digest(const std::string& data, size_t piece) {
  ImageDigest d;
  for (size_t i = 0; i < data.size(); i += piece)
    d.Update(data.data() + i, std::min(piece, data.size() - i));
  std::pair<std::string, std::string> out;
  d.Finish(&out.first, &out.second);
  EXPECT_EQ(d.size(), data.size());
  return out;
}

TEST(ImageDigestTest, KnownVectors) {
  auto [md5, sha512] = Digest("", 1);
  EXPECT_EQ(md5, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(sha512,
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318"
            "d2877eec2f63b931bd47417a81a538327af927da3e");
  std::tie(md5, sha512) = Digest("abc", 1);
  EXPECT_EQ(md5, "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c"
            "23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(ImageDigestTest, PiecesDoNotMatter) {
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
  auto whole = Digest(data, data.size());
  for (size_t piece : {1u, 7u, 4096u, 65537u}) EXPECT_EQ(Digest(data, piece), whole) << piece;
}

}  // namespace
}  // namespace tessera::images
