#include "common/object_name.h"

#include <string>

#include "common/utf8.h"

namespace tessera {
namespace {

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Index of the first control character in `s`, or npos.
size_t FindControlCharacter(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsControl(static_cast<unsigned char>(s[i]))) return i;
  }
  return std::string_view::npos;
}

Status ValidateSegments(std::string_view path) {
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    std::string where = " at byte " + std::to_string(start);
    if (segment.empty()) {
      return Status::InvalidArgument("path " + QuoteForMessage(path) + " has an empty segment" +
                                     where);
    }
    if (segment == "." || segment == "..") {
      return Status::InvalidArgument("path " + QuoteForMessage(path) + " has a '" +
                                     std::string(segment) + "' segment" + where);
    }
    if (segment.size() > kMaxSegmentLength) {
      return Status::InvalidArgument("path " + QuoteForMessage(path) +
                                     " has a segment longer than " +
                                     std::to_string(kMaxSegmentLength) + " bytes" + where);
    }
    if (end == path.size()) return Status::Ok();
    start = end + 1;
  }
}

}  // namespace

std::string QuoteForMessage(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  size_t i = 0;
  while (i < s.size() && i < kMaxQuotedLength) {
    size_t length = Utf8SequenceLength(s.substr(i));
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (length == 0 || IsControl(c)) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      length = 1;
    } else {
      out.append(s.substr(i, length));
    }
    i += length;
  }
  if (i < s.size()) out += "...";
  return out + "'";
}

Status ValidateNamespace(std::string_view ns) {
  if (ns.empty()) return Status::InvalidArgument("namespace is empty");
  if (ns.size() > kMaxNamespaceLength) {
    return Status::InvalidArgument("namespace " + QuoteForMessage(ns) + " is longer than " +
                                   std::to_string(kMaxNamespaceLength) + " characters");
  }
  if (ns == "." || ns == "..")
    return Status::InvalidArgument("namespace " + QuoteForMessage(ns) + " is reserved");
  for (size_t i = 0; i < ns.size(); ++i) {
    char c = ns[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("namespace " + QuoteForMessage(ns) +
                                     " may only contain A-Z a-z 0-9 . _ - (bad character at "
                                     "position " +
                                     std::to_string(i) + ")");
    }
  }
  return Status::Ok();
}

Status ValidatePath(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("path is empty");
  if (path.size() > kMaxPathLength) {
    return Status::InvalidArgument("path is longer than " + std::to_string(kMaxPathLength) +
                                   " bytes");
  }
  if (size_t i = FindControlCharacter(path); i != std::string_view::npos) {
    return Status::InvalidArgument("path " + QuoteForMessage(path) +
                                   " has a control character at byte " + std::to_string(i));
  }
  if (size_t i = FindInvalidUtf8(path); i != std::string_view::npos) {
    return Status::InvalidArgument("path " + QuoteForMessage(path) +
                                   " is not valid UTF-8 at byte " + std::to_string(i));
  }
  if (path.front() == '/')
    return Status::InvalidArgument("path " + QuoteForMessage(path) + " starts with '/'");
  if (path.back() == '/') {
    return Status::InvalidArgument("path " + QuoteForMessage(path) +
                                   " ends with '/' (name a file, not a directory)");
  }
  return ValidateSegments(path);
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  if (prefix.size() > kMaxPathLength) {
    return Status::InvalidArgument("prefix is longer than " + std::to_string(kMaxPathLength) +
                                   " bytes");
  }
  if (size_t i = FindControlCharacter(prefix); i != std::string_view::npos) {
    return Status::InvalidArgument("prefix has a control character at byte " + std::to_string(i));
  }
  if (size_t i = FindInvalidUtf8(prefix); i != std::string_view::npos) {
    return Status::InvalidArgument("prefix " + QuoteForMessage(prefix) +
                                   " is not valid UTF-8 at byte " + std::to_string(i));
  }
  if (prefix.front() == '/')
    return Status::InvalidArgument("prefix " + QuoteForMessage(prefix) + " starts with '/'");
  // A partial last segment ("dir/fil") is a valid prefix; only whole segments are checked.
  size_t last_slash = prefix.rfind('/');
  if (last_slash == std::string_view::npos) return Status::Ok();
  return ValidateSegments(prefix.substr(0, last_slash));
}

}  // namespace tessera
