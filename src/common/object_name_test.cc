#include "common/object_name.h"

#include <gtest/gtest.h>

#include <string>

#include "common/utf8.h"

namespace tessera {
namespace {

TEST(ObjectNameTest, ValidNamespaces) {
  for (std::string ns : {std::string("a"), std::string("archive"), std::string("pacs-2024_01"),
                         std::string("A.B"), std::string(64, 'x')}) {
    EXPECT_TRUE(ValidateNamespace(ns).ok()) << ns;
  }
}

TEST(ObjectNameTest, InvalidNamespaces) {
  for (std::string ns : {std::string(), std::string("."), std::string(".."), std::string(65, 'x'),
                         std::string("a/b"), std::string("a b"), std::string("a\0b", 3),
                         std::string("caf\xc3\xa9")}) {
    Status s = ValidateNamespace(ns);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << ns;
    EXPECT_NE(s.message().find("namespace"), std::string::npos);
  }
}

// A path of exactly `length` bytes in segments of at most 200 bytes.
std::string LongPath(size_t length) {
  std::string path(length, 'y');
  for (size_t i = 200; i + 1 < length; i += 201) path[i] = '/';
  return path;
}

TEST(ObjectNameTest, ValidPaths) {
  for (std::string p : {std::string("a"), std::string("a/b/c.dcm"), std::string("..a/b.."),
                        std::string("d000/f0000001.bin"), std::string("caf\xc3\xa9/\xe6\x96\x87"),
                        std::string(255, 'x'), LongPath(4096)}) {
    EXPECT_TRUE(ValidatePath(p).ok()) << p << ": " << ValidatePath(p).ToString();
  }
}

TEST(ObjectNameTest, InvalidPathsSayWhere) {
  struct Case {
    std::string path;
    std::string expect;
  } cases[] = {
      {"", "empty"},
      {"/a", "starts with '/'"},
      {"a/", "ends with '/'"},
      {"a//b", "empty segment at byte 2"},
      {"a/../b", "'..' segment at byte 2"},
      {"./a", "'.' segment at byte 0"},
      {"..", "'..' segment at byte 0"},
      {std::string("a\0b", 3), "control character at byte 1"},
      {"a\nb", "control character at byte 1"},
      {std::string(256, 'x'), "longer than 255"},
      {LongPath(4097), "longer than 4096"},
  };
  for (const Case& c : cases) {
    Status s = ValidatePath(c.path);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.path;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
}

TEST(ObjectNameTest, Prefixes) {
  for (const char* p : {"", "a", "a/", "a/b", "d00", "d000/f00"}) {
    EXPECT_TRUE(ValidatePrefix(p).ok()) << p;
  }
  for (const char* p : {"/a", "a//", "../", "a/../b", "a\x01"}) {
    EXPECT_FALSE(ValidatePrefix(p).ok()) << p;
  }
}

TEST(ObjectNameTest, QuoteForMessageEscapesAndCuts) {
  EXPECT_EQ(QuoteForMessage("a/b c"), "'a/b c'");
  EXPECT_EQ(QuoteForMessage(std::string("a\0b\n\x7f", 5)), "'a\\x00b\\x0a\\x7f'");
  EXPECT_EQ(QuoteForMessage(std::string(kMaxQuotedLength, 'x')),
            "'" + std::string(kMaxQuotedLength, 'x') + "'");
  EXPECT_EQ(QuoteForMessage(std::string(kMaxQuotedLength + 1, 'x')),
            "'" + std::string(kMaxQuotedLength, 'x') + "...'");
}

// Error messages travel in JSON bodies, which must be valid UTF-8.
TEST(ObjectNameTest, QuoteForMessageKeepsCharactersAndEscapesBrokenBytes) {
  EXPECT_EQ(QuoteForMessage("caf\xc3\xa9"), "'caf\xc3\xa9'");
  EXPECT_EQ(QuoteForMessage("a\xff"
                            "b\xc3"),
            "'a\\xffb\\xc3'");
  EXPECT_EQ(QuoteForMessage("\xed\xa0\x80"), "'\\xed\\xa0\\x80'");  // a surrogate
  // The cut falls between characters, never inside one.
  std::string long_name = std::string(kMaxQuotedLength - 1, 'x') + "\xe2\x82\xac" + "tail";
  EXPECT_EQ(QuoteForMessage(long_name),
            "'" + std::string(kMaxQuotedLength - 1, 'x') + "\xe2\x82\xac...'");
  for (const std::string& name : {std::string("\xff\xfe"), std::string(200, '\xc3')}) {
    EXPECT_EQ(FindInvalidUtf8(QuoteForMessage(name)), std::string_view::npos) << name;
  }
}

TEST(ObjectNameTest, NamesMustBeUtf8) {
  EXPECT_TRUE(ValidatePath("scans/caf\xc3\xa9/\xf0\x9f\x93\x81.dcm").ok());
  Status path = ValidatePath("x\xff");
  EXPECT_EQ(path.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(path.message(), "path 'x\\xff' is not valid UTF-8 at byte 1");
  EXPECT_FALSE(ValidatePath("a/\xc0\xaf").ok()) << "an overlong '/' is not a separator";
  EXPECT_TRUE(ValidatePrefix("caf\xc3\xa9/").ok());
  Status prefix = ValidatePrefix("dir/\xc3");
  EXPECT_EQ(prefix.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(prefix.message(), "prefix 'dir/\\xc3' is not valid UTF-8 at byte 4");
}

}  // namespace
}  // namespace tessera
