// Thread names: what `top -H`, `ps -L`, perf and /proc/<pid>/task/<tid>/comm
// show for a thread, so that an operator can tell a node's HTTP workers from
// its drive syncers and a profile can be split by role.
//
// Linux keeps 15 bytes of a name; a longer one is cut there (at a byte, so
// keep names ASCII). Naming is diagnostic only: a failure is ignored.
#pragma once

#include <string>
#include <string_view>

namespace tessera {

// The longest name the kernel keeps.
inline constexpr size_t kMaxThreadNameBytes = 15;

// Names the calling thread.
void SetThreadName(std::string_view name);

// The calling thread's name ("" if it cannot be read).
std::string ThreadName();

}  // namespace tessera
