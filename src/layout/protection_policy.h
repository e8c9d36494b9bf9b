// A protection policy in the OneFS spelling, parsed and printed.
//
//   +N      survive N node failures (N parity units, at most one per node)
//   +Nd:Mn  survive N drive failures or M node failures (N parity units, at
//           most N/M per node, one per drive); M <= N
//   Nx      keep N mirrors (2 <= N <= 8)
// N is 1..4 for parity policies. Pure value type, no I/O.
//
// Parse also takes the short form "+N:M" for "+Nd:Mn" and letters in either
// case; "+Nd:Nn" is the same policy as "+N" (and prints as "+N"). Nothing
// else: no whitespace, signs, leading zeros or trailing characters, so every
// policy has one canonical spelling.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera::layout {

struct ProtectionPolicy {
  enum class Kind { kParity, kMirror };

  Kind kind = Kind::kParity;
  // Fields a kind does not use are 0, so == compares policies, not spellings.
  int drive_failures = 0;  // parity policies: units a stripe can lose (its m)
  int node_failures = 0;   // parity policies: whole nodes a stripe can lose
  int mirrors = 0;         // mirror policies: number of copies

  // "+2", "+2d:1n", "3x". InvalidArgument names what is wrong, e.g.
  // "protection '+5': at most 4 failures can be protected".
  static Result<ProtectionPolicy> Parse(std::string_view text);
  // Canonical spelling: "+2", "+2d:1n", "3x". Parse(ToString()) == *this.
  std::string ToString() const;

  // Parity units per stripe (m). Mirror policies: copies - 1.
  int parity_units() const;
  // Copies kept of a file too small to stripe: m+1, or N for Nx.
  int mirror_copies() const;
  // Most units of one stripe that may sit on one node: floor(N/M) for
  // +Nd:Mn (so losing M nodes costs at most N units), 1 for +N and Nx.
  int max_units_per_node() const;

  friend bool operator==(const ProtectionPolicy&, const ProtectionPolicy&) = default;
};

}  // namespace tessera::layout
