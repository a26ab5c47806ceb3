#include "cas/imap/codec/response.h"

#include <cstdio>

#include "cas/imap/codec/mutf7.h"

namespace cas::imap {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool IsAstringChar(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
      return false;
    default:
      return true;
  }
}

char ToUpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToUpperAscii(a[i]) != ToUpperAscii(b[i])) return false;
  }
  return true;
}

void AppendSanitized(std::string* out, std::string_view s) {
  for (char c : s) out->push_back((c == '\r' || c == '\n' || c == '\0') ? ' ' : c);
}

void AppendCodeAndText(std::string* out, std::string_view code, std::string_view text) {
  if (!code.empty()) {
    out->push_back(' ');
    const bool bracketed = code.front() == '[';
    if (!bracketed) out->push_back('[');
    AppendSanitized(out, code);
    if (!bracketed) out->push_back(']');
  }
  if (!text.empty()) {
    out->push_back(' ');
    AppendSanitized(out, text);
  }
  out->append("\r\n");
}

// Parses exactly `n` digits at text[*pos].
bool ReadDigits(std::string_view text, size_t* pos, size_t n, int* value) {
  if (text.size() - *pos < n) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *value = v;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos >= text.size() || text[*pos] != c) return false;
  ++*pos;
  return true;
}

void CivilFromDays(int64_t z, int* year, int* month, int* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(yoe + era * 400 + (*month <= 2 ? 1 : 0));
}

}  // namespace

bool CanQuote(std::string_view s, bool utf8) {
  bool eight_bit = false;
  for (char c : s) {
    if (c == '\0' || c == '\r' || c == '\n') return false;
    if (static_cast<unsigned char>(c) >= 0x80) eight_bit = true;
  }
  return !eight_bit || (utf8 && IsValidUtf8(s));
}

bool IsAstringAtom(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsAstringChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendLiteral(std::string* out, std::string_view s) {
  out->push_back('{');
  out->append(std::to_string(s.size()));
  out->append("}\r\n");
  out->append(s);
}

void AppendString(std::string* out, std::string_view s, bool utf8) {
  if (s.size() <= kMaxQuotedLength && CanQuote(s, utf8)) {
    AppendQuoted(out, s);
  } else {
    AppendLiteral(out, s);
  }
}

void AppendAstring(std::string* out, std::string_view s, bool utf8) {
  if (IsAstringAtom(s) && s.size() <= kMaxQuotedLength && !EqualsIgnoreCase(s, "NIL")) {
    out->append(s);
  } else {
    AppendString(out, s, utf8);
  }
}

void AppendNString(std::string* out, const std::optional<std::string>& s, bool utf8) {
  if (!s.has_value()) {
    out->append("NIL");
  } else {
    AppendString(out, *s, utf8);
  }
}

void AppendFlagList(std::string* out, const std::vector<std::string>& flags) {
  out->push_back('(');
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i > 0) out->push_back(' ');
    out->append(flags[i]);
  }
  out->push_back(')');
}

common::Status AppendMailbox(std::string* out, std::string_view utf8_name, bool utf8_accept) {
  if (utf8_accept) {
    if (!IsValidUtf8(utf8_name)) {
      return common::InvalidArgumentError("mailbox name is not valid UTF-8");
    }
    AppendAstring(out, utf8_name, /*utf8=*/true);
    return common::Status::Ok();
  }
  common::StatusOr<std::string> encoded = Utf8ToMutf7(utf8_name);
  if (!encoded.ok()) return encoded.status();
  AppendAstring(out, *encoded);
  return common::Status::Ok();
}

int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsValidDate(int year, int month, int day) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 0 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max = kDays[month - 1] + ((month == 2 && leap) ? 1 : 0);
  return day <= max;
}

int ParseMonthName(std::string_view name) {
  for (int i = 0; i < 12; ++i) {
    if (EqualsIgnoreCase(name, kMonths[i])) return i + 1;
  }
  return 0;
}

std::string FormatDateTime(int64_t unix_seconds, int zone_offset_minutes) {
  constexpr int kMaxZone = 99 * 60 + 59;
  if (zone_offset_minutes > kMaxZone) zone_offset_minutes = kMaxZone;
  if (zone_offset_minutes < -kMaxZone) zone_offset_minutes = -kMaxZone;
  const int64_t min_local = DaysFromCivil(0, 1, 1) * 86400;
  const int64_t max_local = DaysFromCivil(9999, 12, 31) * 86400 + 86399;
  // Clamp before adding the offset so that extreme inputs cannot overflow.
  if (unix_seconds < min_local - 86400) unix_seconds = min_local - 86400;
  if (unix_seconds > max_local + 86400) unix_seconds = max_local + 86400;
  int64_t local = unix_seconds + static_cast<int64_t>(zone_offset_minutes) * 60;
  if (local < min_local) local = min_local;
  if (local > max_local) local = max_local;
  int64_t days = local / 86400;
  int64_t secs = local % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  int year, month, day;
  CivilFromDays(days, &year, &month, &day);
  const int zone_abs = zone_offset_minutes < 0 ? -zone_offset_minutes : zone_offset_minutes;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "\"%2d-%s-%04d %02d:%02d:%02d %c%02d%02d\"", day,
                kMonths[month - 1], year, static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                zone_offset_minutes < 0 ? '-' : '+', zone_abs / 60, zone_abs % 60);
  return buf;
}

common::StatusOr<DateTime> ParseDateTime(std::string_view text) {
  const common::Status bad = common::InvalidArgumentError("invalid date-time");
  size_t pos = 0;
  int day = 0;
  if (!text.empty() && text[0] == ' ') {
    pos = 1;
    if (!ReadDigits(text, &pos, 1, &day)) return bad;
  } else if (!ReadDigits(text, &pos, 2, &day)) {
    pos = 0;
    if (!ReadDigits(text, &pos, 1, &day)) return bad;
  }
  if (!Expect(text, &pos, '-') || text.size() - pos < 3) return bad;
  const int month = ParseMonthName(text.substr(pos, 3));
  pos += 3;
  int year, hour, minute, second, zone_h, zone_m;
  if (month == 0 || !Expect(text, &pos, '-') || !ReadDigits(text, &pos, 4, &year) ||
      !Expect(text, &pos, ' ') || !ReadDigits(text, &pos, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadDigits(text, &pos, 2, &second) || !Expect(text, &pos, ' ') || pos >= text.size()) {
    return bad;
  }
  const char sign = text[pos++];
  if ((sign != '+' && sign != '-') || !ReadDigits(text, &pos, 2, &zone_h) ||
      !ReadDigits(text, &pos, 2, &zone_m) || pos != text.size()) {
    return bad;
  }
  // A leap second (":60") is accepted and counted as the next second.
  if (!IsValidDate(year, month, day) || hour > 23 || minute > 59 || second > 60 || zone_m > 59) {
    return bad;
  }
  DateTime result;
  result.zone_offset_minutes = (zone_h * 60 + zone_m) * (sign == '-' ? -1 : 1);
  result.unix_seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                        second - static_cast<int64_t>(result.zone_offset_minutes) * 60;
  return result;
}

std::string FormatRanges(const std::vector<SeqRange>& ranges) {
  std::string out;
  for (const SeqRange& r : ranges) {
    if (!out.empty()) out.push_back(',');
    out.append(std::to_string(r.first));
    if (r.last != r.first) {
      out.push_back(':');
      out.append(std::to_string(r.last));
    }
  }
  return out;
}

std::vector<SeqRange> ToRanges(const std::vector<uint32_t>& numbers) {
  std::vector<SeqRange> out;
  for (uint32_t n : numbers) {
    if (!out.empty() && uint64_t{out.back().last} + 1 == n) {
      out.back().last = n;
    } else {
      out.push_back({n, n});
    }
  }
  return out;
}

std::string FormatNumbers(const std::vector<uint32_t>& numbers) {
  return FormatRanges(ToRanges(numbers));
}

std::string Vanished(const std::vector<SeqRange>& uids, bool earlier) {
  if (uids.empty()) return "";
  return Untagged(std::string(earlier ? "VANISHED (EARLIER) " : "VANISHED ") + FormatRanges(uids));
}

std::string Tagged(std::string_view tag, std::string_view status, std::string_view code,
                   std::string_view text) {
  std::string out;
  AppendSanitized(&out, tag);
  out.push_back(' ');
  AppendSanitized(&out, status);
  AppendCodeAndText(&out, code, text);
  return out;
}

std::string UntaggedStatus(std::string_view status, std::string_view code, std::string_view text) {
  return Tagged("*", status, code, text);
}

std::string Untagged(std::string_view data) {
  std::string out = "* ";
  out.append(data);
  out.append("\r\n");
  return out;
}

std::string Continuation(std::string_view text) {
  std::string out = "+ ";
  AppendSanitized(&out, text);
  out.append("\r\n");
  return out;
}

}  // namespace cas::imap
