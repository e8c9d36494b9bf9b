#include "cluster/filepool/filepool_policy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tessera::cluster::filepool {
namespace {

FilePoolPolicy Policy(std::string name, int order, std::string prefix, bool packing = true) {
  FilePoolPolicy p;
  p.name = std::move(name);
  p.apply_order = order;
  p.path_prefix = std::move(prefix);
  p.enable_packing = packing;
  return p;
}

TEST(FilePoolPolicyTest, MatchesByPrefixInApplyOrder) {
  // Deliberately not sorted: the apply order decides, not the vector's order.
  std::vector<FilePoolPolicy> policies = {
      Policy("all-archive", 3, "archive/", false),
      Policy("dicom", 1, "archive/dicom/"),
      Policy("dic", 2, "archive/dic"),
      Policy("scratch", 4, "scratch/"),
  };
  auto match = [&](std::string_view ns, std::string_view path) -> std::string {
    const FilePoolPolicy* p = MatchFilePoolPolicy(policies, ns, path);
    return p ? p->name : "(none)";
  };
  EXPECT_EQ(match("archive", "dicom/2024/a.dcm"), "dicom");
  EXPECT_EQ(match("archive", "/dicom/2024/a.dcm"), "dicom");  // one leading '/' ignored
  EXPECT_EQ(match("archive", "dicomx/a"), "dic");             // begins with, not a directory
  EXPECT_EQ(match("archive", "dicom"), "dic");                // "archive/dicom" lacks the '/'
  EXPECT_EQ(match("archive", "other/a"), "all-archive");
  EXPECT_EQ(match("archive2", "dicom/a"), "(none)");  // the namespace ends at its '/'
  EXPECT_EQ(match("scratch", "x"), "scratch");
  EXPECT_EQ(match("vm", "disk.img"), "(none)");
  EXPECT_EQ(MatchFilePoolPolicy({}, "archive", "a"), nullptr);

  // Swapping the orders swaps who wins.
  policies[1].apply_order = 3;
  policies[0].apply_order = 1;
  EXPECT_EQ(match("archive", "dicom/2024/a.dcm"), "all-archive");
}

TEST(FilePoolPolicyTest, Names) {
  for (const std::string& name :
       std::vector<std::string>{"a", "dicom", "DICOM_2024-x", std::string(64, 'n')}) {
    EXPECT_TRUE(ValidatePolicyName(name).ok()) << name;
  }
  for (const std::string& name :
       std::vector<std::string>{"", "a b", "a/b", "a.b", "é", "x\n", std::string(65, 'n')}) {
    Status s = ValidatePolicyName(name);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(s.message().find("A-Z a-z 0-9 _ -"), std::string::npos) << s.message();
  }
}

TEST(FilePoolPolicyTest, PathPrefixes) {
  for (const char* ok : {"archive/", "archive/dicom/", "archive/dic", "a.b-c_d/x/y/", "a/b"}) {
    EXPECT_TRUE(ValidatePolicyPathPrefix(ok).ok())
        << ok << ": " << ValidatePolicyPathPrefix(ok).message();
  }
  struct Bad {
    const char* prefix;
    const char* says;
  };
  for (const Bad& bad :
       {Bad{"", "<namespace>/<path prefix>"}, Bad{"archive", "<namespace>/<path prefix>"},
        Bad{"/archive/dicom/", "path '/archive/dicom/': "}, Bad{"../x/", "path '../x/': "},
        Bad{"archive//x", "path 'archive//x': "}, Bad{"archive/../x/", "path 'archive/../x/': "},
        Bad{"archive/a\x01/", "path 'archive/a\\x01/': "}}) {
    Status s = ValidatePolicyPathPrefix(bad.prefix);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad.prefix;
    EXPECT_NE(s.message().find(bad.says), std::string::npos) << s.message();
  }
}

TEST(FilePoolPolicyTest, PolicyRules) {
  FilePoolPolicy good = Policy("dicom", 1, "archive/dicom/");
  good.description = "DICOM studies, packed after a day";
  good.max_size = 512 * 1024;
  EXPECT_TRUE(ValidateFilePoolPolicy(good).ok());
  good.min_age_seconds = 0;
  good.max_size = kMaxPolicyMaxSize;
  EXPECT_TRUE(ValidateFilePoolPolicy(good).ok());

  struct Case {
    std::function<void(FilePoolPolicy&)> edit;
    const char* says;
  };
  const Case cases[] = {
      {[](FilePoolPolicy& p) { p.name = "no good"; }, "policy name 'no good'"},
      {[](FilePoolPolicy& p) { p.description = "two\nlines"; }, "policy dicom: description"},
      {[](FilePoolPolicy& p) { p.description = std::string(1025, 'd'); }, "description"},
      {[](FilePoolPolicy& p) { p.apply_order = 0; }, "apply order 0 must be 1 or more"},
      {[](FilePoolPolicy& p) { p.path_prefix = "archive"; }, "policy dicom: path 'archive'"},
      {[](FilePoolPolicy& p) { p.min_age_seconds = -1; }, "minimum age -1s"},
      {[](FilePoolPolicy& p) { p.min_age_seconds = kMaxPolicyMinAgeSeconds + 1; },
       "must be between 0s and 3650d"},
      {[](FilePoolPolicy& p) { p.max_size = 0; }, "maximum size 0"},
      {[](FilePoolPolicy& p) { p.max_size = kMaxPolicyMaxSize + 1; }, "between 1 and 32.0M"},
  };
  for (const Case& c : cases) {
    FilePoolPolicy p = Policy("dicom", 1, "archive/dicom/");
    c.edit(p);
    Status s = ValidateFilePoolPolicy(p);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.says;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
  }
}

TEST(FilePoolPolicyTest, SetsAreUniqueAndDense) {
  std::vector<FilePoolPolicy> set = {Policy("b", 2, "x/"), Policy("a", 1, "y/")};
  EXPECT_TRUE(ValidateFilePoolPolicySet(set).ok());
  EXPECT_TRUE(ValidateFilePoolPolicySet({}).ok());
  set.push_back(Policy("c", 4, "z/"));
  EXPECT_NE(ValidateFilePoolPolicySet(set).message().find("found 4 where 3 belongs"),
            std::string::npos);
  set.back().apply_order = 2;
  EXPECT_EQ(ValidateFilePoolPolicySet(set).code(), StatusCode::kInvalidArgument);
  set.back() = Policy("a", 3, "z/");
  EXPECT_NE(ValidateFilePoolPolicySet(set).message().find("two policies are named a"),
            std::string::npos);
  set.back() = Policy("c", 3, "z");
  EXPECT_NE(ValidateFilePoolPolicySet(set).message().find("path 'z'"), std::string::npos);
}

TEST(FilePoolPolicyTest, JsonRoundTrip) {
  FilePoolPolicy p = Policy("dicom", 2, "archive/dicom/");
  p.description = "studies \"quoted\"";
  p.min_age_seconds = 3600;
  p.created_ns = 1700000000000000000;
  p.modified_ns = 1700000000000000001;
  Result<FilePoolPolicy> back = ParseFilePoolPolicy(FilePoolPolicyJson(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
  EXPECT_FALSE(nlohmann::json::parse(FilePoolPolicyJson(p)).contains("max_size"));
  p.max_size = 4096;
  back = ParseFilePoolPolicy(FilePoolPolicyJson(p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, p);
  EXPECT_EQ(nlohmann::json::parse(FilePoolPolicyJson(p))["max_size"], 4096);
}

TEST(FilePoolPolicyTest, JsonOptionalFieldsAndUnknownOnes) {
  Result<FilePoolPolicy> p = ParseFilePoolPolicy(
      R"({"name":"a","apply_order":1,"path_prefix":"ns/","enable_packing":false,)"
      R"("min_age_seconds":0,"max_size":null,"future_field":[1,2]})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->description, "");
  EXPECT_FALSE(p->max_size.has_value());
  EXPECT_EQ(p->created_ns, 0);
}

TEST(FilePoolPolicyTest, JsonErrorsAreCorruptionNamingTheField) {
  const std::string base =
      R"("name":"a","apply_order":1,"path_prefix":"ns/","enable_packing":true)";
  struct Bad {
    std::string text;
    const char* says;
  };
  const Bad cases[] = {
      {"", "not JSON"},
      {"{", "not JSON"},
      {"[1]", "not a JSON object"},
      {"{" + base + "}", "field 'min_age_seconds' is missing"},
      {R"({"apply_order":1,"path_prefix":"ns/","enable_packing":true,"min_age_seconds":0})",
       "field 'name' is missing"},
      {"{" + base + R"(,"min_age_seconds":"1d"})", "field 'min_age_seconds' has the wrong type"},
      {"{" + base + R"(,"min_age_seconds":0,"max_size":-1})", "field 'max_size' has the wrong"},
      {"{" + base + R"(,"min_age_seconds":0,"max_size":1.5})", "field 'max_size' has the wrong"},
      {"{" + base + R"(,"min_age_seconds":0,"description":7})", "field 'description'"},
      {R"({"name":"a","apply_order":"1","path_prefix":"ns/","enable_packing":true,)"
       R"("min_age_seconds":0})",
       "field 'apply_order' has the wrong type"},
      {R"({"name":"a","apply_order":1,"path_prefix":"ns/","enable_packing":1,)"
       R"("min_age_seconds":0})",
       "field 'enable_packing' has the wrong type"},
      {R"({"name":"a","apply_order":0,"path_prefix":"ns/","enable_packing":true,)"
       R"("min_age_seconds":0})",
       "apply_order 0 is out of range"},
      {R"({"name":"a","apply_order":99999999999,"path_prefix":"ns/","enable_packing":true,)"
       R"("min_age_seconds":0})",
       "out of range"},
      {R"({"name":"a b","apply_order":1,"path_prefix":"ns/","enable_packing":true,)"
       R"("min_age_seconds":0})",
       "policy name 'a b'"},
      {R"({"name":"a","apply_order":1,"path_prefix":"ns","enable_packing":true,)"
       R"("min_age_seconds":0})",
       "path 'ns'"},
  };
  for (const Bad& bad : cases) {
    Result<FilePoolPolicy> p = ParseFilePoolPolicy(bad.text);
    ASSERT_FALSE(p.ok()) << bad.text;
    EXPECT_EQ(p.status().code(), StatusCode::kCorruption) << bad.text;
    EXPECT_NE(p.status().message().find(bad.says), std::string::npos)
        << bad.text << " -> " << p.status().message();
    EXPECT_EQ(p.status().message().rfind("filepool policy record: ", 0), 0u);
  }
}

TEST(FilePoolPolicyTest, MatchingPattern) {
  FilePoolPolicy p = Policy("dicom", 1, "archive/dicom/");
  EXPECT_EQ(FormatFileMatchingPattern(p),
            "Birth Time > 1D AND Path == archive/dicom/ (begins with)");
  p.min_age_seconds = 3600;
  EXPECT_EQ(FormatFileMatchingPattern(p),
            "Birth Time > 1H AND Path == archive/dicom/ (begins with)");
  p.min_age_seconds = 90;
  EXPECT_EQ(FormatFileMatchingPattern(p),
            "Birth Time > 90S AND Path == archive/dicom/ (begins with)");
  p.min_age_seconds = 0;
  EXPECT_EQ(FormatFileMatchingPattern(p), "Path == archive/dicom/ (begins with)");
}

TEST(FilePoolPolicyTest, ViewLayout) {
  FilePoolPolicy p = Policy("dicom", 1, "archive/dicom/");
  EXPECT_EQ(FormatFilePoolPolicyView(p),
            "                              Name: dicom\n"
            "                       Description: -\n"
            "                             State: OK\n"
            "                     State Details:\n"
            "                       Apply Order: 1\n"
            "             File Matching Pattern: Birth Time > 1D AND Path == archive/dicom/ "
            "(begins with)\n"
            "          Set Requested Protection: -\n"
            "               Data Access Pattern: -\n"
            "                  Enable Coalescer: -\n"
            "                    Enable Packing: Yes\n");
  p.description = "DICOM studies";
  p.enable_packing = false;
  p.max_size = 512 * 1024;
  p.apply_order = 3;
  std::string view = FormatFilePoolPolicyView(p);
  EXPECT_NE(view.find("                       Description: DICOM studies\n"), std::string::npos);
  EXPECT_NE(view.find("                       Apply Order: 3\n"), std::string::npos);
  EXPECT_NE(view.find("                    Enable Packing: No\n"
                      "                 Maximum File Size: 512.0k\n"),
            std::string::npos)
      << view;
}

TEST(FilePoolPolicyTest, ListLayout) {
  EXPECT_EQ(FormatFilePoolPolicyList({}),
            "Name  Description  Apply Order  Enable Packing  Path\n"
            "----------------------------------------------------\n"
            "----------------------------------------------------\n"
            "Total: 0\n");
  FilePoolPolicy a = Policy("dicom", 1, "archive/dicom/");
  FilePoolPolicy b = Policy("everything-else", 2, "archive/", false);
  b.description = "keep native";
  EXPECT_EQ(FormatFilePoolPolicyList({a, b}),
            "Name             Description  Apply Order  Enable Packing  Path\n"
            "-------------------------------------------------------------------------\n"
            "dicom            -            1            Yes             archive/dicom/\n"
            "everything-else  keep native  2            No              archive/\n"
            "-------------------------------------------------------------------------\n"
            "Total: 2\n");
}

}  // namespace
}  // namespace tessera::cluster::filepool
