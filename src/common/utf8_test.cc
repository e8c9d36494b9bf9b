#include "common/utf8.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace tessera {
namespace {

constexpr size_t npos = std::string_view::npos;

TEST(Utf8Test, AcceptsEveryKindOfCharacter) {
  EXPECT_EQ(FindInvalidUtf8(""), npos);
  EXPECT_EQ(FindInvalidUtf8("plain/ascii name.txt"), npos);
  EXPECT_EQ(FindInvalidUtf8("caf\xc3\xa9"), npos);               // U+00E9
  EXPECT_EQ(FindInvalidUtf8("\xe2\x82\xac"), npos);              // U+20AC
  EXPECT_EQ(FindInvalidUtf8("\xf0\x9f\x93\x81"), npos);          // U+1F4C1
  EXPECT_EQ(FindInvalidUtf8("\xf4\x8f\xbf\xbf"), npos);          // U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xef\xbf\xbf\xed\x9f\xbf"), npos);  // U+FFFF, U+D7FF
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x93\x81rest"), 4u);
}

TEST(Utf8Test, NamesTheFirstBadByte) {
  EXPECT_EQ(FindInvalidUtf8("x\xff"), 1u);
  EXPECT_EQ(FindInvalidUtf8("ab\xc3"), 2u);            // cut short
  EXPECT_EQ(FindInvalidUtf8("\xc3\xa9\x80"), 2u);      // stray continuation
  EXPECT_EQ(FindInvalidUtf8("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xe0\x80\xaf"), 0u);      // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("\xf0\x80\x80\xaf"), 0u);  // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("a\xed\xa0\x80"), 1u);     // U+D800, a surrogate
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0u);  // U+110000
  EXPECT_EQ(FindInvalidUtf8("\xe2\x82"), 0u);
}

// What the names feed: JSON refuses to write a string that is not valid
// UTF-8. Every one- and two-byte string, and every lead of a longer
// sequence against every second byte and each class of the later bytes,
// must agree with it.
TEST(Utf8Test, AgreesWithWhatJsonCanWrite) {
  auto json_accepts = [](const std::string& s) {
    try {
      (void)nlohmann::json(s).dump();
      return true;
    } catch (const nlohmann::json::type_error&) {
      return false;
    }
  };
  auto check = [&](const std::string& s) {
    ASSERT_EQ(FindInvalidUtf8(s) == npos, json_accepts(s)) << ::testing::PrintToString(s);
  };
  for (int a = 0; a < 256; ++a) {
    check(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) check({static_cast<char>(a), static_cast<char>(b)});
  }
  const unsigned char later[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff};
  for (int a = 0xe0; a <= 0xff; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (unsigned char c : later) {
        check({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        for (unsigned char d : later) {
          check({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                 static_cast<char>(d)});
        }
      }
    }
  }
}

}  // namespace
}  // namespace tessera
