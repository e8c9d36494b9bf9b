// Parsing of the "NS/PATH" and "NS/PREFIX" arguments the CLI takes.
//
// The namespace is everything up to the first '/'; the rest is the path (or
// listing prefix) inside it. Names are checked against the rules of
// docs/api.md (namespace: 1-64 of A-Z a-z 0-9 . _ -; path: 1-4096 bytes of
// '/'-separated segments, 1-255 bytes each, none empty, "." or "..", no
// control characters) so a typo fails here, with the argument named, rather
// than as a 400 from the node, and `cp -r` can reject a bad file name before
// uploading anything. The node remains the authority. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera::cli {

struct ObjectRef {
  std::string ns;
  std::string path;  // a full path, or a prefix (possibly empty) for listings
  // "ns/path", or "ns/" for an empty prefix.
  std::string ToString() const { return ns + "/" + path; }
  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

// "NS/PATH" naming one file. InvalidArgument, naming `arg`, otherwise.
Result<ObjectRef> ParseObjectRef(std::string_view arg);
// "NS", "NS/" or "NS/PREFIX"; the prefix is empty for the first two.
Result<ObjectRef> ParsePrefixRef(std::string_view arg);

// The path of `relative` (a '/'-separated relative path) under `prefix`:
// "a/b" + "c/d" = "a/b/c/d", "a/" + "c" = "a/c", "" + "c" = "c".
std::string JoinPrefix(std::string_view prefix, std::string_view relative);

}  // namespace tessera::cli
