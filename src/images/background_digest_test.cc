#include "images/background_digest.h"

#include <gtest/gtest.h>

namespace tessera::images {
namespace {

TEST(BackgroundDigestTest, MatchesTheInlineDigestWhateverTheBlocks) {
  std::string data(3 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + (i >> 11));
  ImageDigest inline_digest;
  inline_digest.Update(data.data(), data.size());
  std::string md5, sha512;
  inline_digest.Finish(&md5, &sha512);
  for (size_t block : {size_t{1} << 20, size_t{4099}, data.size()}) {
    for (size_t depth : {size_t{0}, size_t{1}, size_t{8}}) {
      BackgroundDigest digest(depth);
      for (size_t at = 0; at < data.size(); at += block) {
        digest.Add(std::make_shared<const std::string>(data.substr(at, block)));
      }
      std::string m, s;
      digest.Finish(&m, &s);
      EXPECT_EQ(m, md5) << block << " " << depth;
      EXPECT_EQ(s, sha512) << block << " " << depth;
    }
  }
}

TEST(BackgroundDigestTest, EmptyInputAndAbandonment) {
  BackgroundDigest empty;
  std::string m, s;
  empty.Finish(&m, &s);
  EXPECT_EQ(m, "d41d8cd98f00b204e9800998ecf8427e");
  // Destroyed without Finish (an upload that failed): no hang, no leak.
  BackgroundDigest abandoned(1);
  abandoned.Add(std::make_shared<const std::string>(1 << 20, 'x'));
}

}  // namespace
}  // namespace tessera::images
