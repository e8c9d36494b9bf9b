#include "cluster/group_notation.h"

#include <cctype>
#include <limits>

namespace tessera::cluster {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool IsLabelStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool IsLabelChar(char c) { return IsLabelStart(c) || IsDigit(c); }

enum class Section {
  kMembers,
  kDown,
  kSoftFailed,
  kDead,
  kStalled,
  kReadOnly,
  kDiskless,
  kService
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<GroupState> Parse() {
    SkipSpace();
    RETURN_IF_ERROR(ParsePrefix());
    SkipSpace();
    if (!Consume('{')) return Error("expected '{'");
    SkipSpace();
    if (!Consume('}')) {
      RETURN_IF_ERROR(ParseBody());
      SkipSpace();
      if (!Consume('}')) return Error("expected ', ' or '}'");
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error("expected end of input after '}'");
    return std::move(state_);
  }

 private:
  Status Error(std::string_view what) const { return ErrorAt(pos_, what); }
  Status ErrorAt(size_t pos, std::string_view what) const {
    return Status::InvalidArgument("at byte " + std::to_string(pos) + ": " + std::string(what));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }

  static std::string Article(std::string_view noun) {
    return noun.empty() || std::string_view("aeiou").find(noun[0]) == std::string_view::npos
               ? "a "
               : "an ";
  }

  // Decimal number no larger than `max`; `what` names it in errors.
  Result<uint64_t> ParseNumber(uint64_t max, std::string_view what) {
    size_t start = pos_;
    if (!IsDigit(Peek())) return Error("expected " + Article(what) + std::string(what));
    uint64_t value = 0;
    while (IsDigit(Peek())) {
      uint64_t digit = static_cast<uint64_t>(text_[pos_] - '0');
      if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10 || value * 10 + digit > max) {
        return ErrorAt(start,
                       std::string(what) + " is larger than the limit " + std::to_string(max));
      }
      value = value * 10 + digit;
      ++pos_;
    }
    return value;
  }

  // prefix = "<" uint "," uint ">" ":" | "<" hex ">" "(" uint ")" ":" | ":" | nothing
  Status ParsePrefix() {
    if (Consume(':')) return Status::Ok();
    if (!Consume('<')) return Status::Ok();
    size_t start = pos_;
    while (IsHex(Peek())) ++pos_;
    std::string_view token = text_.substr(start, pos_ - start);
    if (token.empty()) return Error("expected an initiator id or a hex cookie");
    if (Peek() == ',') {
      pos_ = start;
      ASSIGN_OR_RETURN(uint64_t initiator,
                       ParseNumber(std::numeric_limits<uint32_t>::max(), "initiator id"));
      if (!Consume(',')) return Error("expected ','");
      ASSIGN_OR_RETURN(uint64_t serial,
                       ParseNumber(std::numeric_limits<uint64_t>::max(), "serial number"));
      if (!Consume('>')) return Error("expected '>'");
      state_.sequence = SerialSequence{static_cast<uint32_t>(initiator), serial};
    } else {
      if (token.size() > 16) return ErrorAt(start, "expected a cookie of at most 16 hex digits");
      if (!Consume('>')) return Error("expected '>' or ','");
      SkipSpace();
      if (!Consume('(')) return Error("expected '(' and a generation after the cookie");
      ASSIGN_OR_RETURN(uint64_t generation,
                       ParseNumber(std::numeric_limits<uint64_t>::max(), "generation number"));
      if (!Consume(')')) return Error("expected ')'");
      state_.sequence = CookieSequence{std::string(token), generation};
    }
    SkipSpace();
    if (!Consume(':')) return Error("expected ':' after the sequence");
    return Status::Ok();
  }

  // idset = span { "," span }, span = uint [ "-" uint ]; ascending.
  Result<IdSet> ParseIdSet(uint32_t min, uint32_t max, std::string_view what) {
    IdSet set;
    while (true) {
      size_t start = pos_;
      ASSIGN_OR_RETURN(uint64_t first, ParseNumber(max, what));
      if (first < min) {
        return ErrorAt(start, std::string(what) + " " + std::to_string(first) + " is below " +
                                  std::to_string(min));
      }
      uint64_t last = first;
      if (Consume('-')) {
        size_t end_pos = pos_;
        ASSIGN_OR_RETURN(last, ParseNumber(max, what));
        if (last < first) {
          return ErrorAt(end_pos, "expected a range end of at least " + std::to_string(first));
        }
      }
      if (!set.empty() && first <= set.max()) {
        return ErrorAt(start, "expected " + std::string(what) + "s in ascending order");
      }
      set.InsertRange(static_cast<uint32_t>(first), static_cast<uint32_t>(last));
      // A ',' directly followed by a digit continues the set; ", " ends it.
      if (Peek() == ',' && pos_ + 1 < text_.size() && IsDigit(text_[pos_ + 1])) {
        ++pos_;
        continue;
      }
      return set;
    }
  }

  // body = item { "," ws+ item }, item = [ label ":" ws* ] spec.
  Status ParseBody() {
    Section section = Section::kMembers;
    size_t service = 0;
    while (true) {
      if (IsLabelStart(Peek())) {
        size_t start = pos_;
        while (IsLabelChar(Peek())) ++pos_;
        std::string label(text_.substr(start, pos_ - start));
        if (!Consume(':')) return Error("expected ':' after '" + label + "'");
        SkipSpace();
        section = SectionOf(label);
        if (section == Section::kService) service = ServiceIndex(label);
      } else if (!IsDigit(Peek())) {
        return Error(section == Section::kMembers ? "expected a node id or a label"
                                                  : "expected a node id");
      }
      RETURN_IF_ERROR(ParseSpec(section, service));
      // Entry separator: ',' then at least one space.
      if (Peek() == ',' && pos_ + 1 < text_.size() && IsSpace(text_[pos_ + 1])) {
        ++pos_;
        SkipSpace();
        continue;
      }
      return Status::Ok();
    }
  }

  static Section SectionOf(const std::string& label) {
    if (label == "down") return Section::kDown;
    if (label == "soft_failed") return Section::kSoftFailed;
    if (label == "dead") return Section::kDead;
    if (label == "stalled") return Section::kStalled;
    if (label == "read_only") return Section::kReadOnly;
    if (label == "diskless") return Section::kDiskless;
    return Section::kService;
  }

  size_t ServiceIndex(const std::string& name) {
    for (size_t i = 0; i < state_.services.size(); ++i) {
      if (state_.services[i].first == name) return i;
    }
    state_.services.emplace_back(name, IdSet());
    return state_.services.size() - 1;
  }

  // spec = node-set [ ":" drive-set ]
  Status ParseSpec(Section section, size_t service) {
    size_t start = pos_;
    ASSIGN_OR_RETURN(IdSet nodes, ParseIdSet(1, kMaxNodeId, "node id"));
    std::optional<IdSet> drives;
    if (Peek() == ':') {
      if (section == Section::kReadOnly || section == Section::kDiskless ||
          section == Section::kService) {
        return Error("expected ', ' or '}' (this label takes node ids, not drives)");
      }
      ++pos_;
      ASSIGN_OR_RETURN(drives, ParseIdSet(0, kMaxDriveLnum, "drive number"));
    }
    switch (section) {
      case Section::kMembers:
        for (uint32_t node : nodes.ToVector()) {
          if (!state_.members.emplace(node, drives.value_or(IdSet())).second) {
            return ErrorAt(start, "node " + std::to_string(node) + " is already a member");
          }
        }
        return Status::Ok();
      case Section::kDown:
        return AddRefs(nodes, drives, state_.down);
      case Section::kSoftFailed:
        return AddRefs(nodes, drives, state_.soft_failed);
      case Section::kDead:
        return AddRefs(nodes, drives, state_.dead);
      case Section::kStalled:
        return AddRefs(nodes, drives, state_.stalled);
      case Section::kReadOnly:
        return AddNodes(nodes, state_.read_only);
      case Section::kDiskless:
        return AddNodes(nodes, state_.diskless);
      case Section::kService:
        return AddNodes(nodes, state_.services[service].second);
    }
    return Status::Internal("unknown section");
  }

  static Status AddRefs(const IdSet& nodes, const std::optional<IdSet>& drives,
                        std::vector<DeviceRef>& list) {
    for (uint32_t node : nodes.ToVector()) list.push_back(DeviceRef{node, drives});
    return Status::Ok();
  }
  static Status AddNodes(const IdSet& nodes, IdSet& set) {
    for (const IdSet::Range& r : nodes.ranges()) set.InsertRange(r.first, r.last);
    return Status::Ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
  GroupState state_;
};

// Appends `refs` as entries: adjacent references to ascending nodes with the
// same drives share one entry.
void AppendRefs(std::string_view label, const std::vector<DeviceRef>& refs,
                std::vector<std::string>& entries) {
  size_t i = 0;
  bool first_entry = true;
  while (i < refs.size()) {
    IdSet nodes;
    nodes.Insert(refs[i].node);
    size_t j = i + 1;
    while (j < refs.size() && refs[j].drives == refs[i].drives && refs[j].node > refs[j - 1].node) {
      nodes.Insert(refs[j].node);
      ++j;
    }
    std::string entry = first_entry ? std::string(label) + ": " : std::string();
    entry += nodes.ToString();
    if (refs[i].drives) entry += ":" + refs[i].drives->ToString();
    entries.push_back(std::move(entry));
    first_entry = false;
    i = j;
  }
}

void AppendSet(std::string_view label, const IdSet& set, std::vector<std::string>& entries) {
  if (!set.empty()) entries.push_back(std::string(label) + ": " + set.ToString());
}

nlohmann::ordered_json RefsToJson(const std::vector<DeviceRef>& refs) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const DeviceRef& ref : refs) out.push_back(ref.ToString());
  return out;
}

}  // namespace

Result<GroupState> ParseGroupNotation(std::string_view text) { return Parser(text).Parse(); }

std::string FormatGroupNotation(const GroupState& state) {
  std::string out;
  if (const auto* s = std::get_if<SerialSequence>(&state.sequence)) {
    out = "<" + std::to_string(s->initiator) + "," + std::to_string(s->serial) + ">: ";
  } else if (const auto* c = std::get_if<CookieSequence>(&state.sequence)) {
    out = "<" + c->cookie + "> (" + std::to_string(c->generation) + "): ";
  }
  std::vector<std::string> entries;
  for (auto it = state.members.begin(); it != state.members.end();) {
    IdSet nodes;
    auto run = it;
    while (run != state.members.end() && run->second == it->second) {
      nodes.Insert(run->first);
      ++run;
    }
    std::string entry = nodes.ToString();
    if (!it->second.empty()) entry += ":" + it->second.ToString();
    entries.push_back(std::move(entry));
    it = run;
  }
  AppendRefs("down", state.down, entries);
  AppendRefs("soft_failed", state.soft_failed, entries);
  AppendRefs("dead", state.dead, entries);
  AppendRefs("stalled", state.stalled, entries);
  AppendSet("read_only", state.read_only, entries);
  AppendSet("diskless", state.diskless, entries);
  for (const auto& [name, nodes] : state.services) AppendSet(name, nodes, entries);
  if (entries.empty()) return out + "{ }";
  out += "{ ";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += ", ";
    out += entries[i];
  }
  out += " }";
  return out;
}

nlohmann::ordered_json GroupToJson(const GroupState& state) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (const auto* s = std::get_if<SerialSequence>(&state.sequence)) {
    out["sequence"] = {{"initiator", s->initiator}, {"serial", s->serial}};
  } else if (const auto* c = std::get_if<CookieSequence>(&state.sequence)) {
    out["sequence"] = {{"cookie", c->cookie}, {"generation", c->generation}};
  } else {
    out["sequence"] = nullptr;
  }
  nlohmann::ordered_json members = nlohmann::ordered_json::object();
  for (const auto& [node, drives] : state.members)
    members[std::to_string(node)] = drives.ToString();
  out["members"] = std::move(members);
  if (!state.down.empty()) out["down"] = RefsToJson(state.down);
  if (!state.soft_failed.empty()) out["soft_failed"] = RefsToJson(state.soft_failed);
  if (!state.dead.empty()) out["dead"] = RefsToJson(state.dead);
  if (!state.stalled.empty()) out["stalled"] = RefsToJson(state.stalled);
  if (!state.read_only.empty()) out["read_only"] = state.read_only.ToString();
  if (!state.diskless.empty()) out["diskless"] = state.diskless.ToString();
  nlohmann::ordered_json services = nlohmann::ordered_json::object();
  for (const auto& [name, nodes] : state.services) {
    if (!nodes.empty()) services[name] = nodes.ToString();
  }
  if (!services.empty()) out["services"] = std::move(services);
  return out;
}

}  // namespace tessera::cluster
