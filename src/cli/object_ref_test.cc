#include "cli/object_ref.h"

#include <gtest/gtest.h>

#include <string>

#include "common/object_name.h"

namespace tessera::cli {
namespace {

struct RefCase {
  std::string arg;
  bool ok;
  std::string ns;
  std::string path;
  std::string error;  // substring of the message when !ok
};

TEST(ObjectRefTest, ParsesFileArguments) {
  const RefCase cases[] = {
      {"archive/f.bin", true, "archive", "f.bin", ""},
      {"archive/d000/f0000001.bin", true, "archive", "d000/f0000001.bin", ""},
      {"a.b_c-9/x y/100%.bin", true, "a.b_c-9", "x y/100%.bin", ""},
      {"ns/.hidden/..x", true, "ns", ".hidden/..x", ""},
      {"archive", false, "", "", "expected NS/PATH"},
      {"archive/", false, "", "", "expected NS/PATH"},
      {"", false, "", "", "expected NS/PATH"},
      {"/f.bin", false, "", "", "namespace is empty"},
      {"arch ive/f", false, "", "", "may only contain"},
      {"archive//f", false, "", "", "starts with '/'"},
      {"archive/d//f", false, "", "", "empty segment"},
      {"archive/d/", false, "", "", "ends with '/'"},
      {"archive/d/../f", false, "", "", "'..' segment"},
      {"archive/./f", false, "", "", "'.' segment"},
      {"archive/a\nb", false, "", "", "control character at byte 1"},
      {"archive/" + std::string(256, 'x'), false, "", "", "longer than 255"},
      {"archive/" + std::string(255, 'x'), true, "archive", std::string(255, 'x'), ""},
      {std::string(65, 'n') + "/f", false, "", "", "longer than 64"},
  };
  for (const RefCase& c : cases) {
    SCOPED_TRACE(c.arg);
    Result<ObjectRef> ref = ParseObjectRef(c.arg);
    ASSERT_EQ(ref.ok(), c.ok) << ref.status().ToString();
    if (c.ok) {
      EXPECT_EQ(ref->ns, c.ns);
      EXPECT_EQ(ref->path, c.path);
    } else {
      EXPECT_EQ(ref.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(ref.status().message().find(c.error), std::string::npos) << ref.status().message();
    }
  }
}

TEST(ObjectRefTest, ParsesPrefixArguments) {
  const RefCase cases[] = {
      {"archive", true, "archive", "", ""},
      {"archive/", true, "archive", "", ""},
      {"archive/d000/", true, "archive", "d000/", ""},
      {"archive/d000/f00", true, "archive", "d000/f00", ""},
      {"archive/.", true, "archive", ".", ""},
      {"", false, "", "", "empty argument"},
      {"/d000", false, "", "", "namespace is empty"},
      {"archive//", false, "", "", "starts with '/'"},
      {"archive/a//b", false, "", "", "empty segment"},
      {"archive/../b", false, "", "", "'..' segment"},
      {"bad!ns/x", false, "", "", "may only contain"},
  };
  for (const RefCase& c : cases) {
    SCOPED_TRACE(c.arg);
    Result<ObjectRef> ref = ParsePrefixRef(c.arg);
    ASSERT_EQ(ref.ok(), c.ok) << ref.status().ToString();
    if (c.ok) {
      EXPECT_EQ(ref->ns, c.ns);
      EXPECT_EQ(ref->path, c.path);
    } else {
      EXPECT_NE(ref.status().message().find(c.error), std::string::npos) << ref.status().message();
    }
  }
}

TEST(ObjectRefTest, ErrorsNameTheArgument) {
  Result<ObjectRef> ref = ParseObjectRef("archive/a//b");
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.status().message().find("in 'archive/a//b'"), std::string::npos)
      << ref.status().message();
}

TEST(ObjectRefTest, PathLengthLimit) {
  std::string segment(200, 's');
  std::string path;
  while (path.size() + segment.size() + 1 <= 4096) path += (path.empty() ? "" : "/") + segment;
  EXPECT_TRUE(ValidatePath(path).ok());
  EXPECT_FALSE(ValidatePath(path + "/" + segment).ok());
}

TEST(ObjectRefTest, JoinPrefix) {
  EXPECT_EQ(JoinPrefix("", "c/d"), "c/d");
  EXPECT_EQ(JoinPrefix("a/b", "c/d"), "a/b/c/d");
  EXPECT_EQ(JoinPrefix("a/", "c"), "a/c");
  EXPECT_EQ((ObjectRef{"ns", "a/b"}.ToString()), "ns/a/b");
}

}  // namespace
}  // namespace tessera::cli
