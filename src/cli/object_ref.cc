#include "cli/object_ref.h"

namespace tessera::cli {
namespace {

constexpr size_t kMaxNamespaceLength = 64;
constexpr size_t kMaxPathLength = 4096;
constexpr size_t kMaxSegmentLength = 255;

// Names end up in terminal output: control characters are escaped so a hostile
// file name cannot rewrite the operator's screen.
std::string Quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (unsigned char c : s.substr(0, 120)) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 120) out += "...";
  return out + "'";
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Checks the segments of a path or prefix. A prefix may end with '/' (an empty
// last segment) or with a partial segment, which needs no special case.
Status CheckSegments(std::string_view what, std::string_view text, bool allow_trailing_slash) {
  if (text.front() == '/') {
    return Status::InvalidArgument(std::string(what) + " " + Quote(text) +
                                   " starts with '/' (write NS/PATH, e.g. archive/dir/file.bin)");
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view segment = text.substr(start, end - start);
    const bool last = end == text.size();
    if (segment.empty()) {
      if (last && allow_trailing_slash) return Status::Ok();
      if (last) {
        return Status::InvalidArgument(std::string(what) + " " + Quote(text) +
                                       " ends with '/' (name a file, not a directory)");
      }
      return Status::InvalidArgument(std::string(what) + " " + Quote(text) +
                                     " has an empty segment ('//') at byte " +
                                     std::to_string(start));
    }
    // A prefix's last segment may be the start of ".." and still be useful
    // ("." matches ".config"), so only whole segments are rejected.
    if ((segment == "." || segment == "..") && !(last && allow_trailing_slash)) {
      return Status::InvalidArgument(std::string(what) + " " + Quote(text) + " has a '" +
                                     std::string(segment) + "' segment at byte " +
                                     std::to_string(start));
    }
    if (segment.size() > kMaxSegmentLength) {
      return Status::InvalidArgument(
          std::string(what) + " " + Quote(text) + " has a segment longer than " +
          std::to_string(kMaxSegmentLength) + " bytes at byte " + std::to_string(start));
    }
    if (last) break;
    start = end + 1;
  }
  return Status::Ok();
}

Status CheckPathLike(std::string_view what, std::string_view text, bool is_prefix) {
  if (text.size() > kMaxPathLength) {
    return Status::InvalidArgument(std::string(what) + " is longer than " +
                                   std::to_string(kMaxPathLength) + " bytes");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsControl(static_cast<unsigned char>(text[i]))) {
      return Status::InvalidArgument(std::string(what) + " " + Quote(text) +
                                     " has a control character at byte " + std::to_string(i));
    }
  }
  if (text.empty()) return Status::Ok();
  return CheckSegments(what, text, is_prefix);
}

}  // namespace

Status ValidateNamespace(std::string_view ns) {
  if (ns.empty()) return Status::InvalidArgument("namespace is empty");
  if (ns.size() > kMaxNamespaceLength) {
    return Status::InvalidArgument("namespace " + Quote(ns) + " is longer than " +
                                   std::to_string(kMaxNamespaceLength) + " characters");
  }
  for (size_t i = 0; i < ns.size(); ++i) {
    char c = ns[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("namespace " + Quote(ns) +
                                     " may only contain A-Z a-z 0-9 . _ - (bad character at " +
                                     "position " + std::to_string(i) + ")");
    }
  }
  return Status::Ok();
}

Status ValidatePath(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("path is empty");
  return CheckPathLike("path", path, /*is_prefix=*/false);
}

Status ValidatePrefix(std::string_view prefix) {
  return CheckPathLike("prefix", prefix, /*is_prefix=*/true);
}

Result<ObjectRef> ParseObjectRef(std::string_view arg) {
  size_t slash = arg.find('/');
  if (slash == std::string_view::npos || slash + 1 == arg.size()) {
    return Status::InvalidArgument(
        Quote(arg) + " does not name a file: expected NS/PATH, e.g. archive/dir/f.bin");
  }
  ObjectRef ref{std::string(arg.substr(0, slash)), std::string(arg.substr(slash + 1))};
  Status st = ValidateNamespace(ref.ns);
  if (st.ok()) st = ValidatePath(ref.path);
  if (!st.ok()) return st.WithContext("in " + Quote(arg));
  return ref;
}

Result<ObjectRef> ParsePrefixRef(std::string_view arg) {
  size_t slash = arg.find('/');
  ObjectRef ref;
  ref.ns = std::string(arg.substr(0, slash));
  if (slash != std::string_view::npos) ref.path = std::string(arg.substr(slash + 1));
  if (arg.empty()) {
    return Status::InvalidArgument("expected NS, NS/ or NS/PREFIX, got an empty argument");
  }
  Status st = ValidateNamespace(ref.ns);
  if (st.ok()) st = ValidatePrefix(ref.path);
  if (!st.ok()) return st.WithContext("in " + Quote(arg));
  return ref;
}

std::string JoinPrefix(std::string_view prefix, std::string_view relative) {
  std::string out(prefix);
  if (!out.empty() && out.back() != '/') out += '/';
  out += relative;
  return out;
}

}  // namespace tessera::cli
