#include "cli/object_ref.h"

#include "common/object_name.h"

namespace tessera::cli {

Result<ObjectRef> ParseObjectRef(std::string_view arg) {
  size_t slash = arg.find('/');
  if (slash == std::string_view::npos || slash + 1 == arg.size()) {
    return Status::InvalidArgument(
        QuoteForMessage(arg) + " does not name a file: expected NS/PATH, e.g. archive/dir/f.bin");
  }
  ObjectRef ref{std::string(arg.substr(0, slash)), std::string(arg.substr(slash + 1))};
  Status st = ValidateNamespace(ref.ns);
  if (st.ok()) st = ValidatePath(ref.path);
  if (!st.ok()) return st.WithContext("in " + QuoteForMessage(arg));
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
  if (!st.ok()) return st.WithContext("in " + QuoteForMessage(arg));
  return ref;
}

std::string JoinPrefix(std::string_view prefix, std::string_view relative) {
  std::string out(prefix);
  if (!out.empty() && out.back() != '/') out += '/';
  out += relative;
  return out;
}

}  // namespace tessera::cli
