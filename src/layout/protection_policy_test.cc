#include "layout/protection_policy.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "layout/layout_test_util.h"

namespace tessera::layout {
namespace {

using layout_test::AllPolicies;
using layout_test::Mirror;
using layout_test::Parity;

TEST(ProtectionPolicyTest, EveryPolicyRoundTrips) {
  const std::vector<ProtectionPolicy> all = AllPolicies();
  ASSERT_EQ(all.size(), 17u);
  std::set<std::string> spellings;
  for (const ProtectionPolicy& policy : all) {
    const std::string text = policy.ToString();
    spellings.insert(text);
    Result<ProtectionPolicy> parsed = ProtectionPolicy::Parse(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status().ToString();
    EXPECT_EQ(*parsed, policy) << text;
    EXPECT_EQ(parsed->ToString(), text);
  }
  EXPECT_EQ(spellings.size(), all.size()) << "two policies print the same";
}

TEST(ProtectionPolicyTest, CanonicalSpelling) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"+1", "+1"},       {"+4", "+4"},         {"+2d:1n", "+2d:1n"}, {"+2:1", "+2d:1n"},
      {"+3:2", "+3d:2n"}, {"+4d:3n", "+4d:3n"}, {"+2d:2n", "+2"},     {"+4:4", "+4"},
      {"+1d:1n", "+1"},   {"+2D:1N", "+2d:1n"}, {"+3d:1N", "+3d:1n"}, {"2x", "2x"},
      {"3X", "3x"},       {"8x", "8x"},
  };
  for (const auto& [input, canonical] : cases) {
    Result<ProtectionPolicy> parsed = ProtectionPolicy::Parse(input);
    ASSERT_TRUE(parsed.ok()) << input << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->ToString(), canonical) << input;
  }
}

TEST(ProtectionPolicyTest, Fields) {
  EXPECT_EQ(*ProtectionPolicy::Parse("+2"), Parity(2, 2));
  EXPECT_EQ(*ProtectionPolicy::Parse("+3d:1n"), Parity(3, 1));
  EXPECT_EQ(*ProtectionPolicy::Parse("+3:1"), Parity(3, 1));
  EXPECT_EQ(*ProtectionPolicy::Parse("+4d:4n"), *ProtectionPolicy::Parse("+4"));
  EXPECT_EQ(*ProtectionPolicy::Parse("4x"), Mirror(4));
  const ProtectionPolicy mirror = *ProtectionPolicy::Parse("4x");
  EXPECT_EQ(mirror.kind, ProtectionPolicy::Kind::kMirror);
  EXPECT_EQ(mirror.drive_failures, 0);
  EXPECT_EQ(mirror.node_failures, 0);
  EXPECT_NE(*ProtectionPolicy::Parse("+2d:1n"), *ProtectionPolicy::Parse("+2"));
  EXPECT_NE(*ProtectionPolicy::Parse("3x"), *ProtectionPolicy::Parse("+2"));
}

TEST(ProtectionPolicyTest, DerivedCounts) {
  struct Case {
    const char* text;
    int parity_units;
    int mirror_copies;
    int max_units_per_node;
  };
  const Case cases[] = {
      {"+1", 1, 2, 1},     {"+2", 2, 3, 1},     {"+3", 3, 4, 1},     {"+4", 4, 5, 1},
      {"+2d:1n", 2, 3, 2}, {"+3d:1n", 3, 4, 3}, {"+3d:2n", 3, 4, 1}, {"+4d:1n", 4, 5, 4},
      {"+4d:2n", 4, 5, 2}, {"+4d:3n", 4, 5, 1}, {"2x", 1, 2, 1},     {"5x", 4, 5, 1},
      {"8x", 7, 8, 1},
  };
  for (const Case& c : cases) {
    Result<ProtectionPolicy> p = ProtectionPolicy::Parse(c.text);
    ASSERT_TRUE(p.ok()) << c.text;
    EXPECT_EQ(p->parity_units(), c.parity_units) << c.text;
    EXPECT_EQ(p->mirror_copies(), c.mirror_copies) << c.text;
    EXPECT_EQ(p->max_units_per_node(), c.max_units_per_node) << c.text;
  }
  // The per-node cap is what makes +Nd:Mn honest: losing M whole nodes may
  // cost at most N units.
  for (const ProtectionPolicy& p : AllPolicies()) {
    if (p.kind != ProtectionPolicy::Kind::kParity) continue;
    EXPECT_LE(p.node_failures * p.max_units_per_node(), p.parity_units()) << p.ToString();
    EXPECT_GT(p.node_failures * (p.max_units_per_node() + 1), p.parity_units())
        << p.ToString() << ": cap is stricter than needed";
  }
}

TEST(ProtectionPolicyTest, RejectsInvalidNamingTheInput) {
  const std::string kSyntax = "expected +N, +Nd:Mn or Nx";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", kSyntax},
      {"abc", kSyntax},
      {"+", kSyntax},
      {"x", kSyntax},
      {"2", kSyntax},
      {"+5", "at most 4 failures can be protected"},
      {"+9", "at most 4 failures can be protected"},
      {"+5d:1n", "at most 4 failures can be protected"},
      {"+5:5", "at most 4 failures can be protected"},
      {"+99999999999", "at most 4 failures can be protected"},
      {"+18446744073709551617", "at most 4 failures can be protected"},
      {"+0", "at least 1 failure must be protected"},
      {"+0d:0n", "at least 1 failure must be protected"},
      {"+2d:0n", "at least 1 node failure must be protected"},
      {"+2:0", "at least 1 node failure must be protected"},
      {"+2d:3n", "cannot survive more node failures (3) than drive failures (2)"},
      {"+1:4", "cannot survive more node failures (4) than drive failures (1)"},
      {"+4d:99999999999n", "cannot survive more node failures"},
      {"0x", "a mirror keeps 2 to 8 copies"},
      {"1x", "a mirror keeps 2 to 8 copies"},
      {"9x", "a mirror keeps 2 to 8 copies"},
      {"99999999999x", "a mirror keeps 2 to 8 copies"},
      {"+02", "numbers may not have leading zeros"},
      {"03x", "numbers may not have leading zeros"},
      {"+2d:01n", "numbers may not have leading zeros"},
      {"+00", "numbers may not have leading zeros"},
      // Whitespace anywhere.
      {" +2", kSyntax},
      {"+2 ", kSyntax},
      {"+ 2", kSyntax},
      {"+2d: 1n", kSyntax},
      {"3 x", kSyntax},
      {"\t3x", kSyntax},
      // Signs.
      {"-2", kSyntax},
      {"++2", kSyntax},
      {"+-2", kSyntax},
      {"+2d:-1n", kSyntax},
      {"+2d:+1n", kSyntax},
      {"-3x", kSyntax},
      {"+3x", kSyntax},
      // Incomplete or mixed forms, trailing junk.
      {"+2d", kSyntax},
      {"+2d:", kSyntax},
      {"+2d:1", kSyntax},
      {"+2:1n", kSyntax},
      {"+2d1n", kSyntax},
      {"+2d::1n", kSyntax},
      {"+2n", kSyntax},
      {"+2:", kSyntax},
      {"+:1", kSyntax},
      {"+2x", kSyntax},
      {"3xx", kSyntax},
      {"3x3", kSyntax},
      {"x3", kSyntax},
      {"+2d:1nx", kSyntax},
      {"+2d:1n1d", kSyntax},
      {"+2.0", kSyntax},
      {"+2e0", kSyntax},
      {"+0x2", kSyntax},
      {"+2;", kSyntax},
      {"+\xef\xbc\x92", kSyntax},  // fullwidth digit two
      {std::string("+2\0", 3), kSyntax},
  };
  for (const auto& [input, why] : cases) {
    Result<ProtectionPolicy> parsed = ProtectionPolicy::Parse(input);
    ASSERT_FALSE(parsed.ok()) << "accepted '" << input << "' as " << parsed->ToString();
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << input;
    const std::string& message = parsed.status().message();
    EXPECT_NE(message.find(why), std::string::npos) << "'" << input << "' gave: " << message;
    bool printable = true;
    for (char c : input) printable &= c >= 0x20 && c < 0x7f;
    if (printable) {
      EXPECT_EQ(message.rfind("protection '" + input + "': ", 0), 0u) << message;
    }
  }
}

TEST(ProtectionPolicyTest, ErrorMessagesAreExact) {
  EXPECT_EQ(ProtectionPolicy::Parse("+5").status().message(),
            "protection '+5': at most 4 failures can be protected");
  EXPECT_EQ(ProtectionPolicy::Parse("abc").status().message(),
            "protection 'abc': expected +N, +Nd:Mn or Nx");
  EXPECT_EQ(ProtectionPolicy::Parse("").status().message(),
            "protection '': expected +N, +Nd:Mn or Nx");
}

TEST(ProtectionPolicyTest, ErrorMessagesEscapeAndTruncateInput) {
  EXPECT_EQ(ProtectionPolicy::Parse("+2\n").status().message(),
            "protection '+2\\x0a': expected +N, +Nd:Mn or Nx");
  EXPECT_EQ(ProtectionPolicy::Parse("it's").status().message(),
            "protection 'it\\x27s': expected +N, +Nd:Mn or Nx");
  const std::string message = ProtectionPolicy::Parse(std::string(10000, '+')).status().message();
  EXPECT_LT(message.size(), 100u) << message;
  EXPECT_NE(message.find("...'"), std::string::npos) << message;
}

// Every string of up to 4 characters over an alphabet covering the grammar's
// pieces and its likely typos, and every string one edit (substitution,
// insertion, deletion, swap) away from a valid spelling, is accepted exactly
// when it is one of the spellings listed here independently of the parser.
TEST(ProtectionPolicyTest, ExhaustiveShortStrings) {
  std::set<std::string> valid;
  for (int n = 1; n <= 4; ++n) {
    const std::string ns = std::to_string(n);
    valid.insert("+" + ns);
    for (int m = 1; m <= n; ++m) {
      const std::string ms = std::to_string(m);
      valid.insert("+" + ns + ":" + ms);
      for (const char* d : {"d", "D"}) {
        for (const char* nn : {"n", "N"}) valid.insert("+" + ns + d + ":" + ms + nn);
      }
    }
  }
  for (int c = 2; c <= 8; ++c) {
    valid.insert(std::to_string(c) + "x");
    valid.insert(std::to_string(c) + "X");
  }

  size_t accepted = 0;
  std::set<std::string> seen_valid;
  auto check = [&](const std::string& s) {
    Result<ProtectionPolicy> parsed = ProtectionPolicy::Parse(s);
    const bool expected = valid.count(s) > 0;
    if (parsed.ok() != expected) {
      ADD_FAILURE() << "'" << s << "' " << (expected ? "rejected: " : "accepted")
                    << (expected ? parsed.status().message() : "");
      return;
    }
    if (parsed.ok()) {
      ++accepted;
      seen_valid.insert(s);
      EXPECT_EQ(*ProtectionPolicy::Parse(parsed->ToString()), *parsed) << s;
    } else {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    }
  };
  auto enumerate = [&](const std::string& alphabet, size_t min_len, size_t max_len) {
    for (size_t len = min_len; len <= max_len; ++len) {
      std::vector<size_t> digit(len, 0);
      std::string s(len, alphabet[0]);
      for (;;) {
        check(s);
        size_t i = 0;
        while (i < len && ++digit[i] == alphabet.size()) {
          digit[i] = 0;
          s[i] = alphabet[0];
          ++i;
        }
        if (i == len) break;
        s[i] = alphabet[digit[i]];
      }
    }
  };
  const std::string alphabet = "+-0123456789dDnNxX: ";
  enumerate(alphabet, 0, 4);
  std::set<std::string> edits;
  for (const std::string& v : valid) {
    edits.insert(v);
    for (size_t i = 0; i <= v.size(); ++i) {
      for (char c : alphabet) {
        edits.insert(v.substr(0, i) + c + v.substr(i));
        if (i < v.size()) edits.insert(v.substr(0, i) + c + v.substr(i + 1));
      }
      if (i < v.size()) edits.insert(v.substr(0, i) + v.substr(i + 1));
      if (i + 1 < v.size()) edits.insert(v.substr(0, i) + v[i + 1] + v[i] + v.substr(i + 2));
    }
  }
  for (const std::string& s : edits) {
    if (s.size() > 4) check(s);
  }
  // Every valid spelling was generated and accepted (once).
  EXPECT_EQ(seen_valid, valid);
  EXPECT_EQ(accepted, valid.size());
}

}  // namespace
}  // namespace tessera::layout
