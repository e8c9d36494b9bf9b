#include "cluster/group_log.h"

#include <algorithm>
#include <cstdio>

#include "cluster/group_notation.h"

namespace tessera::cluster {
namespace {

constexpr std::string_view kMarker = "new group: ";

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = yoe + era * 400 + (m <= 2);
}

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool Digits(int count, int64_t& value) {
    value = 0;
    for (int i = 0; i < count; ++i) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') return false;
      value = value * 10 + (text_[pos_++] - '0');
    }
    return true;
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() const { return pos_ == text_.size(); }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// "Z", "+HH:MM" or "-HH:MM" to the end of `c`; minutes east of UTC.
bool ParseZone(Cursor& c, int64_t& minutes) {
  minutes = 0;
  if (c.Consume('Z')) return c.AtEnd();
  int sign = c.Consume('+') ? 1 : (c.Consume('-') ? -1 : 0);
  int64_t hh, mm;
  if (sign == 0 || !c.Digits(2, hh) || !c.Consume(':') || !c.Digits(2, mm) || !c.AtEnd() ||
      hh > 23 || mm > 59) {
    return false;
  }
  minutes = sign * (hh * 60 + mm);
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Tokens(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

}  // namespace

Result<int64_t> ParseLogTime(std::string_view text) {
  Status bad = Status::InvalidArgument("'" + std::string(text) +
                                       "' is not a time (YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM])");
  // The zone may be a separate token: "2020-06-15-T08:07:50 -04:00".
  std::string_view stamp = text;
  std::string_view zone;
  if (size_t space = text.find(' '); space != std::string_view::npos) {
    stamp = text.substr(0, space);
    zone = Trim(text.substr(space + 1));
  }
  Cursor c(stamp);
  int64_t year, month, day, hour, minute, second;
  if (!c.Digits(4, year) || !c.Consume('-') || !c.Digits(2, month) || !c.Consume('-') ||
      !c.Digits(2, day)) {
    return bad;
  }
  c.Consume('-');  // OneFS writes "2020-06-15-T08:07:50"
  if (!c.Consume('T') || !c.Digits(2, hour) || !c.Consume(':') || !c.Digits(2, minute) ||
      !c.Consume(':') || !c.Digits(2, second)) {
    return bad;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad;
  }
  int64_t millis = 0;
  if (c.Consume('.')) {
    int64_t digit;
    int digits = 0;
    while (c.Digits(1, digit)) {
      if (digits < 3) millis = millis * 10 + digit;
      ++digits;
    }
    if (digits == 0) return bad;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  int64_t zone_minutes = 0;
  if (!c.AtEnd()) {
    if (!zone.empty() || !ParseZone(c, zone_minutes)) return bad;
  } else if (!zone.empty()) {
    Cursor z(zone);
    if (!ParseZone(z, zone_minutes)) return bad;
  }
  int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                    zone_minutes * 60;
  return seconds * 1000 + millis;
}

std::string FormatLogTime(int64_t ms) {
  int64_t millis = ((ms % 1000) + 1000) % 1000;
  int64_t seconds = (ms - millis) / 1000;
  int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  int64_t rest = seconds - days * 86400;
  int64_t y, m, d;
  CivilFromDays(days, y, m, d);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(rest / 3600), static_cast<long long>(rest / 60 % 60),
                static_cast<long long>(rest % 60));
  std::string out = buf;
  if (millis != 0) {
    std::snprintf(buf, sizeof(buf), ".%03lld", static_cast<long long>(millis));
    out += buf;
  }
  return out;
}

Result<std::vector<LoggedGroup>> ParseGroupLog(std::string_view text) {
  std::vector<LoggedGroup> out;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    size_t marker = line.find(kMarker);
    if (marker == std::string_view::npos) continue;
    std::string where = "line " + std::to_string(line_number);
    std::vector<std::string_view> tokens = Tokens(line.substr(0, marker));
    if (tokens.empty()) return Status::InvalidArgument(where + ": no time before 'new group:'");
    LoggedGroup logged;
    std::string time_text(tokens[0]);
    // A zone as its own token right after the time.
    if (tokens.size() > 1 && (tokens[1].front() == '+' || tokens[1].front() == '-') &&
        tokens[1].size() == 6 && tokens[1][3] == ':') {
      time_text += " " + std::string(tokens[1]);
    }
    Result<int64_t> time = ParseLogTime(time_text);
    if (!time.ok()) return time.status().WithContext(where);
    logged.time_ms = *time;
    for (std::string_view token : tokens) {
      if (token.substr(0, 5) != "node=") continue;
      std::string id(token.substr(5));
      if (id.empty() || id.size() > 4 ||
          !std::all_of(id.begin(), id.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return Status::InvalidArgument(where + ": '" + std::string(token) +
                                       "' does not name a node id");
      }
      logged.node = static_cast<uint32_t>(std::stoul(id));
    }
    Result<GroupState> group = ParseGroupNotation(Trim(line.substr(marker + kMarker.size())));
    if (!group.ok()) return group.status().WithContext(where + ": group");
    logged.group = std::move(group).value();
    out.push_back(std::move(logged));
  }
  return out;
}

std::vector<GroupEvent> MergeGroupLogs(const std::vector<std::vector<LoggedGroup>>& logs,
                                       const std::map<uint32_t, int64_t>& offset_ms_of_node) {
  struct Timed {
    int64_t time_ms;
    const GroupState* group;
  };
  std::vector<Timed> all;
  for (const auto& log : logs) {
    for (const LoggedGroup& logged : log) {
      int64_t offset = 0;
      if (logged.node) {
        auto it = offset_ms_of_node.find(*logged.node);
        if (it != offset_ms_of_node.end()) offset = it->second;
      }
      all.push_back(Timed{logged.time_ms + offset, &logged.group});
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Timed& a, const Timed& b) { return a.time_ms < b.time_ms; });
  std::vector<GroupEvent> events;
  GroupState last;
  for (const Timed& timed : all) {
    GroupState unstamped = *timed.group;
    unstamped.sequence = std::monostate();
    if (!events.empty() && unstamped == last) continue;
    events.push_back(GroupEvent{FormatLogTime(timed.time_ms), "", *timed.group});
    last = std::move(unstamped);
  }
  return events;
}

}  // namespace tessera::cluster
