#include "cluster/filepool/filepool_policy.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "cluster/filepool/packing_settings.h"
#include "common/object_name.h"
#include "common/units.h"

namespace tessera::cluster::filepool {
namespace {

using nlohmann::json;

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// A right-aligned "Label:" (35 columns) and its value.
std::string ViewLine(std::string_view label, const std::string& value) {
  std::string head(label);
  head += ':';
  if (head.size() < 35) head.insert(0, 35 - head.size(), ' ');
  return value.empty() ? head + "\n" : head + " " + value + "\n";
}

Status Corrupt(std::string_view what) {
  return Status::Corruption("filepool policy record: " + std::string(what));
}

}  // namespace

const FilePoolPolicy* MatchFilePoolPolicy(const std::vector<FilePoolPolicy>& policies,
                                          std::string_view ns, std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string full;
  full.reserve(ns.size() + 1 + path.size());
  full.append(ns).append("/").append(path);
  const FilePoolPolicy* best = nullptr;
  for (const FilePoolPolicy& p : policies) {
    if (p.path_prefix.empty() || full.compare(0, p.path_prefix.size(), p.path_prefix) != 0) {
      continue;
    }
    if (best == nullptr || p.apply_order < best->apply_order) best = &p;
  }
  return best;
}

Status ValidatePolicyName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxPolicyNameLength;
  for (char c : name) {
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  }
  if (ok) return Status::Ok();
  return Status::InvalidArgument("policy name " + QuoteForMessage(name) + ": must be 1.." +
                                 std::to_string(kMaxPolicyNameLength) + " of A-Z a-z 0-9 _ -");
}

Status ValidatePolicyPathPrefix(std::string_view prefix) {
  const std::string head = "path " + QuoteForMessage(prefix) + ": ";
  size_t slash = prefix.find('/');
  if (prefix.empty() || slash == std::string_view::npos) {
    return Status::InvalidArgument(
        head +
        "must be <namespace>/<path prefix>, e.g. archive/dicom/ (archive/ for a whole "
        "namespace)");
  }
  if (Status ns = ValidateNamespace(prefix.substr(0, slash)); !ns.ok()) {
    return Status::InvalidArgument(head + ns.message());
  }
  if (Status rest = ValidatePrefix(prefix.substr(slash + 1)); !rest.ok()) {
    return Status::InvalidArgument(head + rest.message());
  }
  return Status::Ok();
}

Status ValidateFilePoolPolicy(const FilePoolPolicy& p) {
  RETURN_IF_ERROR(ValidatePolicyName(p.name));
  const std::string head = "policy " + p.name + ": ";
  bool printable = p.description.size() <= kMaxPolicyDescriptionLength;
  for (char c : p.description) printable = printable && c >= ' ' && c <= '~';
  if (!printable) {
    return Status::InvalidArgument(head + "description must be at most " +
                                   std::to_string(kMaxPolicyDescriptionLength) +
                                   " printable characters on one line");
  }
  if (p.apply_order < 1) {
    return Status::InvalidArgument(head + "apply order " + std::to_string(p.apply_order) +
                                   " must be 1 or more");
  }
  if (Status path = ValidatePolicyPathPrefix(p.path_prefix); !path.ok()) {
    return Status::InvalidArgument(head + path.message());
  }
  if (p.min_age_seconds < 0 || p.min_age_seconds > kMaxPolicyMinAgeSeconds) {
    return Status::InvalidArgument(head + "minimum age " + std::to_string(p.min_age_seconds) +
                                   "s must be between 0s and " +
                                   FormatAge(kMaxPolicyMinAgeSeconds));
  }
  if (p.max_size && (*p.max_size < 1 || *p.max_size > kMaxPolicyMaxSize)) {
    return Status::InvalidArgument(head + "maximum size " + std::to_string(*p.max_size) +
                                   " must be between 1 and " + FormatSize(kMaxPolicyMaxSize));
  }
  return Status::Ok();
}

Status ValidateFilePoolPolicySet(const std::vector<FilePoolPolicy>& policies) {
  std::set<std::string> names;
  std::vector<int> orders;
  for (const FilePoolPolicy& p : policies) {
    RETURN_IF_ERROR(ValidateFilePoolPolicy(p));
    if (!names.insert(p.name).second) {
      return Status::InvalidArgument("two policies are named " + p.name);
    }
    orders.push_back(p.apply_order);
  }
  std::sort(orders.begin(), orders.end());
  for (size_t i = 0; i < orders.size(); ++i) {
    if (orders[i] != static_cast<int>(i + 1)) {
      return Status::InvalidArgument("apply orders must be 1.." + std::to_string(orders.size()) +
                                     ", each once; found " + std::to_string(orders[i]) + " where " +
                                     std::to_string(i + 1) + " belongs");
    }
  }
  return Status::Ok();
}

std::string FilePoolPolicyJson(const FilePoolPolicy& p) {
  json j = {{"name", p.name},
            {"description", p.description},
            {"apply_order", p.apply_order},
            {"path_prefix", p.path_prefix},
            {"enable_packing", p.enable_packing},
            {"min_age_seconds", p.min_age_seconds},
            {"created_ns", p.created_ns},
            {"modified_ns", p.modified_ns}};
  if (p.max_size) j["max_size"] = *p.max_size;
  return j.dump();
}

Result<FilePoolPolicy> ParseFilePoolPolicy(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt("not JSON: " + QuoteForMessage(text));
  if (!j.is_object()) return Corrupt("not a JSON object: " + QuoteForMessage(text));
  FilePoolPolicy p;
  auto field = [&j](const char* name, bool required, auto check) -> Result<const json*> {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
      if (required) return Corrupt(std::string("field '") + name + "' is missing");
      return static_cast<const json*>(nullptr);
    }
    if (!check(*it)) return Corrupt(std::string("field '") + name + "' has the wrong type");
    return &*it;
  };
  auto is_string = [](const json& v) { return v.is_string(); };
  auto is_bool = [](const json& v) { return v.is_boolean(); };
  auto is_int = [](const json& v) { return v.is_number_integer(); };
  auto is_uint = [](const json& v) { return v.is_number_unsigned(); };

  ASSIGN_OR_RETURN(const json* name, field("name", true, is_string));
  ASSIGN_OR_RETURN(const json* description, field("description", false, is_string));
  ASSIGN_OR_RETURN(const json* order, field("apply_order", true, is_int));
  ASSIGN_OR_RETURN(const json* path, field("path_prefix", true, is_string));
  ASSIGN_OR_RETURN(const json* packing, field("enable_packing", true, is_bool));
  ASSIGN_OR_RETURN(const json* min_age, field("min_age_seconds", true, is_int));
  ASSIGN_OR_RETURN(const json* max_size, field("max_size", false, is_uint));
  ASSIGN_OR_RETURN(const json* created, field("created_ns", false, is_int));
  ASSIGN_OR_RETURN(const json* modified, field("modified_ns", false, is_int));

  p.name = name->get<std::string>();
  if (description) p.description = description->get<std::string>();
  int64_t apply_order = order->get<int64_t>();
  if (apply_order < 1 || apply_order > 1000000) {
    return Corrupt("policy " + p.name + ": apply_order " + std::to_string(apply_order) +
                   " is out of range");
  }
  p.apply_order = static_cast<int>(apply_order);
  p.path_prefix = path->get<std::string>();
  p.enable_packing = packing->get<bool>();
  p.min_age_seconds = min_age->get<int64_t>();
  if (max_size) p.max_size = max_size->get<uint64_t>();
  if (created) p.created_ns = created->get<int64_t>();
  if (modified) p.modified_ns = modified->get<int64_t>();
  if (Status valid = ValidateFilePoolPolicy(p); !valid.ok()) return Corrupt(valid.message());
  return p;
}

std::string FormatFileMatchingPattern(const FilePoolPolicy& p) {
  std::string path = "Path == " + p.path_prefix + " (begins with)";
  if (p.min_age_seconds == 0) return path;
  return "Birth Time > " + Upper(FormatAge(p.min_age_seconds)) + " AND " + path;
}

std::string FormatFilePoolPolicyView(const FilePoolPolicy& p) {
  std::string out;
  out += ViewLine("Name", p.name);
  out += ViewLine("Description", p.description.empty() ? "-" : p.description);
  out += ViewLine("State", "OK");
  out += ViewLine("State Details", "");
  out += ViewLine("Apply Order", std::to_string(p.apply_order));
  out += ViewLine("File Matching Pattern", FormatFileMatchingPattern(p));
  out += ViewLine("Set Requested Protection", "-");
  out += ViewLine("Data Access Pattern", "-");
  out += ViewLine("Enable Coalescer", "-");
  out += ViewLine("Enable Packing", p.enable_packing ? "Yes" : "No");
  if (p.max_size) out += ViewLine("Maximum File Size", FormatSize(*p.max_size));
  return out;
}

std::string FormatFilePoolPolicyList(const std::vector<FilePoolPolicy>& policies) {
  std::vector<std::vector<std::string>> rows = {
      {"Name", "Description", "Apply Order", "Enable Packing", "Path"}};
  for (const FilePoolPolicy& p : policies) {
    rows.push_back({p.name, p.description.empty() ? "-" : p.description,
                    std::to_string(p.apply_order), p.enable_packing ? "Yes" : "No", p.path_prefix});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  size_t total = 0;
  for (size_t w : widths) total += w;
  total += 2 * (widths.size() - 1);
  const std::string dashes(total, '-');
  auto format_row = [&widths](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    return line + "\n";
  };
  std::string out = format_row(rows[0]) + dashes + "\n";
  for (size_t r = 1; r < rows.size(); ++r) out += format_row(rows[r]);
  out += dashes + "\n";
  out += "Total: " + std::to_string(policies.size()) + "\n";
  return out;
}

}  // namespace tessera::cluster::filepool
