// Validation of the names clients give to files: a namespace and a path.
//
// Namespace: 1..64 characters of [A-Za-z0-9._-], not "." or "..".
// Path: 1..4096 bytes of valid UTF-8 in '/'-separated segments, each
// 1..255 bytes, none "." or "..", no NUL or other control characters, no
// leading or trailing '/'.
// Pure functions; the message says what is wrong and where.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera {

inline constexpr size_t kMaxNamespaceLength = 64;
inline constexpr size_t kMaxPathLength = 4096;
inline constexpr size_t kMaxSegmentLength = 255;

Status ValidateNamespace(std::string_view ns);
Status ValidatePath(std::string_view path);
// A listing prefix: like a path but may be empty or end with '/'.
Status ValidatePrefix(std::string_view prefix);

// `s` in single quotes for an error message. Names end up in terminal output,
// logs and JSON error bodies, so control characters and bytes that are not
// UTF-8 are escaped (\xNN): a hostile name cannot rewrite the operator's
// screen, and the message is always valid UTF-8. Past kMaxQuotedLength bytes
// the name is cut, between characters, and marked "...".
inline constexpr size_t kMaxQuotedLength = 80;
std::string QuoteForMessage(std::string_view s);

}  // namespace tessera
