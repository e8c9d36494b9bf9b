// UTF-8 validity (RFC 3629): every name a client gives ends up in JSON
// records, replication batches and error bodies, and JSON strings must be
// valid UTF-8, so names are checked where they enter. Overlong forms,
// surrogates (U+D800..U+DFFF) and code points past U+10FFFF are invalid.
// Pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace tessera {

// Length (1-4) of the valid UTF-8 sequence at the start of `s`, or 0 if
// `s` is empty or does not start with one.
size_t Utf8SequenceLength(std::string_view s);

// Offset of the first byte of `s` that does not start a valid sequence, or
// npos if `s` is valid UTF-8.
size_t FindInvalidUtf8(std::string_view s);

}  // namespace tessera
