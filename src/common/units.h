// Sizes that define Tessera's layout, and byte-count formatting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tessera {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;

// Every stored block carries its own CRC32C.
inline constexpr uint64_t kBlockSize = 8 * kKiB;
// Files smaller than one stripe unit are mirrored; larger ones are striped.
inline constexpr uint64_t kStripeUnitSize = 16 * kBlockSize;

// "0", "1023", "1.0k", "1016.0k", "12.5M", "1.0G" (as OneFS prints sizes).
std::string FormatSize(uint64_t bytes);
// Parses "4096", "1016k", "1016.0k", "128KiB", "1M", "1GiB", "1g", up to P (what
// FormatSize prints). nullopt on bad input.
std::optional<uint64_t> ParseSize(std::string_view text);

// A plain decimal number of at most 19 digits (so it cannot overflow);
// nullopt for anything else (signs, spaces, empty).
std::optional<uint64_t> ParseDecimal(std::string_view text);

}  // namespace tessera
