// libFuzzer target: for any input that parses, the canonical form must parse
// to the same GroupState and format to itself. Build with -DTESSERA_FUZZ=ON
// and clang (see src/cluster/CMakeLists.txt); run e.g.
//   build-fuzz/bin/group_notation_fuzz -max_total_time=60
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "cluster/group_notation.h"

namespace {

[[noreturn]] void Fail(const char* what, std::string_view a, std::string_view b) {
  std::fprintf(stderr, "%s\n  first:  %.*s\n  second: %.*s\n", what, static_cast<int>(a.size()),
               a.data(), static_cast<int>(b.size()), b.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tessera::cluster;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  tessera::Result<GroupState> state = ParseGroupNotation(input);
  if (!state.ok()) {
    if (state.status().message().rfind("at byte ", 0) != 0) {
      Fail("error without a byte position", input, state.status().message());
    }
    return 0;
  }
  std::string canonical = FormatGroupNotation(*state);
  tessera::Result<GroupState> again = ParseGroupNotation(canonical);
  if (!again.ok()) Fail("canonical form does not parse", canonical, again.status().message());
  if (!(*again == *state)) Fail("canonical form parses to a different group", input, canonical);
  std::string twice = FormatGroupNotation(*again);
  if (twice != canonical) Fail("canonical form is not a fixed point", canonical, twice);
  if (GroupToJson(*again) != GroupToJson(*state)) Fail("JSON differs", input, canonical);
  return 0;
}
