#include "common/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace tessera {

std::string FormatSize(uint64_t bytes) {
  static constexpr const char* kSuffix[] = {"k", "M", "G", "T", "P"};
  if (bytes < kKiB) return std::to_string(bytes);
  double value = static_cast<double>(bytes) / kKiB;
  int i = 0;
  while (value >= 1024.0 && i < 4) {
    value /= 1024.0;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%s", value, kSuffix[i]);
  return buf;
}

std::optional<uint64_t> ParseSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  double number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc() || ptr != text.data() + digits || number < 0) return std::nullopt;
  std::string suffix;
  for (char c : text.substr(digits))
    suffix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint64_t scale = 1;
  if (suffix.empty() || suffix == "b")
    scale = 1;
  else if (suffix == "k" || suffix == "kb" || suffix == "kib")
    scale = kKiB;
  else if (suffix == "m" || suffix == "mb" || suffix == "mib")
    scale = kMiB;
  else if (suffix == "g" || suffix == "gb" || suffix == "gib")
    scale = kGiB;
  else if (suffix == "t" || suffix == "tb" || suffix == "tib")
    scale = 1024 * kGiB;
  else if (suffix == "p" || suffix == "pb" || suffix == "pib")
    scale = 1024 * 1024 * kGiB;
  else
    return std::nullopt;
  double bytes = std::round(number * static_cast<double>(scale));
  if (bytes > 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace tessera
