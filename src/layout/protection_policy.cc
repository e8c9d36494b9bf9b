#include "layout/protection_policy.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "layout/internal.h"

namespace tessera::layout {
namespace {

constexpr int kMaxFailures = 4;  // Reed-Solomon parity limit (16+4)
constexpr int kMinMirrors = 2;
constexpr int kMaxMirrors = 8;
constexpr const char* kSyntax = "expected +N, +Nd:Mn or Nx";

// Error messages quote operator input verbatim, except that bytes which would
// garble a log line are escaped and absurdly long input is cut.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

// Why `policy` is not one Parse could produce, or nullopt if it is. The range
// checks double as Parse's semantic errors, so both report the same words.
std::optional<std::string> RangeError(const ProtectionPolicy& policy) {
  switch (policy.kind) {
    case ProtectionPolicy::Kind::kParity:
      if (policy.drive_failures < 1) return "at least 1 failure must be protected";
      if (policy.drive_failures > kMaxFailures) {
        return "at most " + std::to_string(kMaxFailures) + " failures can be protected";
      }
      if (policy.node_failures < 1) return "at least 1 node failure must be protected";
      if (policy.node_failures > policy.drive_failures) {
        return "cannot survive more node failures (" + std::to_string(policy.node_failures) +
               ") than drive failures (" + std::to_string(policy.drive_failures) + ")";
      }
      if (policy.mirrors != 0) return "a parity policy has no mirror count";
      return std::nullopt;
    case ProtectionPolicy::Kind::kMirror:
      if (policy.mirrors < kMinMirrors || policy.mirrors > kMaxMirrors) {
        return "a mirror keeps " + std::to_string(kMinMirrors) + " to " +
               std::to_string(kMaxMirrors) + " copies";
      }
      if (policy.drive_failures != 0 || policy.node_failures != 0) {
        return "a mirror policy has no parity failure counts";
      }
      return std::nullopt;
  }
  return "unknown policy kind";
}

// A cursor over the input. Letters match in either case because operators
// type "3X" as often as "3x".
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool done() const { return pos_ == text_.size(); }
  bool saw_leading_zero() const { return leading_zero_; }

  bool Consume(char lower) {
    if (done()) return false;
    const char c = text_[pos_];
    const char folded = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (folded != lower) return false;
    ++pos_;
    return true;
  }

  // A run of ASCII digits (no sign, no spaces). Saturates instead of
  // overflowing so "+99999999999" gets the range error, not a wrapped value.
  std::optional<int> Number() {
    constexpr int kSaturated = 1'000'000;
    const size_t start = pos_;
    int value = 0;
    while (!done() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = std::min(kSaturated, value * 10 + (text_[pos_] - '0'));
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    if (pos_ - start > 1 && text_[start] == '0') leading_zero_ = true;
    return value;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  bool leading_zero_ = false;
};

}  // namespace

Result<ProtectionPolicy> ProtectionPolicy::Parse(std::string_view text) {
  auto invalid = [text](const std::string& why) {
    return Status::InvalidArgument("protection " + Quote(text) + ": " + why);
  };
  Scanner in(text);
  ProtectionPolicy policy;
  if (in.Consume('+')) {
    std::optional<int> drives = in.Number();
    if (!drives) return invalid(kSyntax);
    std::optional<int> nodes = drives;
    if (in.Consume('d')) {
      if (!in.Consume(':')) return invalid(kSyntax);
      nodes = in.Number();
      if (!nodes || !in.Consume('n')) return invalid(kSyntax);
    } else if (in.Consume(':')) {
      nodes = in.Number();
      if (!nodes) return invalid(kSyntax);
    }
    if (!in.done()) return invalid(kSyntax);
    policy.kind = Kind::kParity;
    policy.drive_failures = *drives;
    policy.node_failures = *nodes;
  } else {
    std::optional<int> copies = in.Number();
    if (!copies || !in.Consume('x') || !in.done()) return invalid(kSyntax);
    policy.kind = Kind::kMirror;
    policy.mirrors = *copies;
  }
  // Refused so that each policy has exactly one spelling per form.
  if (in.saw_leading_zero()) return invalid("numbers may not have leading zeros");
  if (std::optional<std::string> why = RangeError(policy)) return invalid(*why);
  return policy;
}

std::string ProtectionPolicy::ToString() const {
  // Appended piecewise: GCC 12's -Wrestrict misfires on "+" + std::to_string().
  std::string out;
  if (kind == Kind::kMirror) {
    out += std::to_string(mirrors);
    out += 'x';
    return out;
  }
  out += '+';
  out += std::to_string(drive_failures);
  if (drive_failures != node_failures) {
    out += "d:";
    out += std::to_string(node_failures);
    out += 'n';
  }
  return out;
}

int ProtectionPolicy::parity_units() const {
  return kind == Kind::kMirror ? mirrors - 1 : drive_failures;
}

int ProtectionPolicy::mirror_copies() const {
  return kind == Kind::kMirror ? mirrors : drive_failures + 1;
}

int ProtectionPolicy::max_units_per_node() const {
  // Losing node_failures nodes then costs at most drive_failures units.
  if (kind == Kind::kMirror || node_failures < 1) return 1;
  return drive_failures / node_failures;
}

namespace internal {

Status ValidatePolicy(const ProtectionPolicy& policy) {
  if (std::optional<std::string> why = RangeError(policy)) {
    return Status::InvalidArgument("protection " + Quote(policy.ToString()) + ": " + *why);
  }
  return Status::Ok();
}

}  // namespace internal
}  // namespace tessera::layout
