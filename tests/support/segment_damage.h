// Damage made on disk for tests: a byte flipped inside a piece in a drive's
// segment files, found by bytes the piece holds.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace tessera::testing {

// Flips the byte in the middle of the first place `pattern` occurs in the
// segment files of the drive at `drive_dir`. False if it occurs nowhere.
// Choose a pattern only one piece holds (a slice of random content).
inline bool FlipByteInSegments(const std::string& drive_dir, std::string_view pattern) {
  for (const auto& entry : std::filesystem::directory_iterator(drive_dir + "/segments")) {
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t at = bytes.find(pattern);
    if (at == std::string::npos) continue;
    const size_t flip = at + pattern.size() / 2;
    f.seekp(static_cast<std::streamoff>(flip));
    f.put(static_cast<char>(bytes[flip] ^ 0x5a));
    return true;
  }
  return false;
}

}  // namespace tessera::testing
