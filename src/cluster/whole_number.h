// A check for counts and ids typed on a command line: 1 to 19 decimal
// digits, no leading zero. CLI11 (2.1) converts unsigned options with strtoull in base 0, so
// without it "-1" wrapped to 18446744073709551615, "010" was eight and
// "0x10" sixteen.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace tessera {

inline CLI::Validator WholeNumber() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (!text.empty() && text.size() <= 19 &&
            text.find_first_not_of("0123456789") == std::string::npos &&
            (text[0] != '0' || text.size() == 1)) {
          return "";
        }
        if (text.size() > 19 && text.find_first_not_of("0123456789") == std::string::npos) {
          return "'" + text + "' is too large (at most 19 digits)";
        }
        return "'" + text + "' is not a whole number (digits, no leading zero)";
      },
      "");
}

}  // namespace tessera
