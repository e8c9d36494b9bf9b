#include "cluster/whole_number.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessera {
namespace {

// The value an app with a WholeNumber-checked option ends with, or nullopt
// if it refused the text.
std::optional<uint64_t> Parse(const std::string& text) {
  CLI::App app;
  uint64_t value = 0;
  app.add_option("--n", value)->check(WholeNumber());
  std::vector<std::string> args = {"--n", text};
  std::reverse(args.begin(), args.end());  // CLI11 parses a vector from its back
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  return value;
}

TEST(WholeNumberTest, TakesPlainDecimalsOnly) {
  EXPECT_EQ(Parse("0"), 0u);
  EXPECT_EQ(Parse("42"), 42u);
  EXPECT_EQ(Parse("9999999999999999999"), 9999999999999999999u);
  for (const char* refused : {"", "-1", "+4", "010", "0x10", "1e3", "4 ", "12345678901234567890"}) {
    EXPECT_EQ(Parse(refused), std::nullopt) << "'" << refused << "'";
  }
}

TEST(WholeNumberTest, SaysWhyATextIsRefused) {
  CLI::Validator check = WholeNumber();
  std::string too_long = "18446744073709551615";
  EXPECT_EQ(check(too_long), "'18446744073709551615' is too large (at most 19 digits)");
  std::string signed_text = "-3";
  EXPECT_EQ(check(signed_text), "'-3' is not a whole number (digits, no leading zero)");
  std::string fine = "17";
  EXPECT_EQ(check(fine), "");
}

}  // namespace
}  // namespace tessera
