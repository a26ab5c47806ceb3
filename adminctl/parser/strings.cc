#include "adminctl/parser/strings.h"

#include <algorithm>
#include <limits>

namespace adminctl::parser {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Multiplier for a unit suffix ("", "B", "KB", ...); 0 when unknown.
uint64_t UnitMultiplier(std::string_view unit, bool allow_bytes) {
  const std::string u = AsciiLower(unit);
  if (u.empty()) return 1;
  if (allow_bytes && (u == "b" || u == "byte" || u == "bytes")) return 1;
  if (u == "kb") return uint64_t{1} << 10;
  if (u == "mb") return uint64_t{1} << 20;
  if (u == "gb") return uint64_t{1} << 30;
  if (u == "tb") return uint64_t{1} << 40;
  if (u == "pb") return uint64_t{1} << 50;
  return 0;
}

// "<digits>[.<digits>]<unit>" -> bytes (fractions are truncated to whole bytes).
std::optional<uint64_t> ParseNumberWithUnit(std::string_view s, bool allow_bytes) {
  s = Trim(s);
  size_t i = 0;
  uint64_t whole = 0;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (whole > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    whole = whole * 10 + d;
    ++i;
    ++digits;
  }
  // Fraction: up to 9 digits kept as numerator / 10^n.
  uint64_t frac = 0;
  uint64_t frac_scale = 1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (frac_scale < 1000000000) {
        frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
        frac_scale *= 10;
      }
      ++i;
      ++digits;
    }
  }
  if (digits == 0) return std::nullopt;
  const uint64_t mult = UnitMultiplier(Trim(s.substr(i)), allow_bytes);
  if (mult == 0) return std::nullopt;
  if (whole > std::numeric_limits<uint64_t>::max() / mult) return std::nullopt;
  uint64_t bytes = whole * mult;
  // frac < frac_scale <= 1e9 and mult <= 2^50: compute without overflow via division first.
  const uint64_t frac_bytes = (mult / frac_scale) * frac + (mult % frac_scale) * frac / frac_scale;
  if (bytes > std::numeric_limits<uint64_t>::max() - frac_bytes) return std::nullopt;
  bytes += frac_bytes;
  return bytes;
}

}  // namespace

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool HasWildcard(std::string_view pattern) {
  return pattern.find_first_of("*?") != std::string_view::npos;
}

bool WildcardMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking: O(|pattern| * |text|) worst case.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || AsciiLower(pattern[p]) == AsciiLower(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<ParsedSize> ParseSize(std::string_view text) {
  text = Trim(text);
  if (EqualsIgnoreCase(text, "unlimited")) return ParsedSize{true, 0};
  // Exchange's display form: "2 GB (2,147,483,648 bytes)": the bytes in parentheses win.
  const size_t open = text.find('(');
  if (open != std::string_view::npos && !text.empty() && text.back() == ')') {
    std::string digits;
    std::string_view inner = text.substr(open + 1, text.size() - open - 2);
    for (char c : inner) {
      if (c != ',') digits.push_back(c);
    }
    std::optional<uint64_t> bytes = ParseNumberWithUnit(digits, /*allow_bytes=*/true);
    if (!bytes) return std::nullopt;
    return ParsedSize{false, *bytes};
  }
  std::optional<uint64_t> bytes = ParseNumberWithUnit(text, /*allow_bytes=*/true);
  if (!bytes) return std::nullopt;
  return ParsedSize{false, *bytes};
}

std::optional<int64_t> ParseInteger(std::string_view text) {
  text = Trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.find('.') != std::string_view::npos) return std::nullopt;
  std::optional<uint64_t> magnitude = ParseNumberWithUnit(text, /*allow_bytes=*/false);
  if (!magnitude) return std::nullopt;
  const uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (*magnitude > max + (negative ? 1 : 0)) return std::nullopt;
  if (negative) {
    return *magnitude == max + 1 ? std::numeric_limits<int64_t>::min()
                                 : -static_cast<int64_t>(*magnitude);
  }
  return static_cast<int64_t>(*magnitude);
}

std::optional<bool> ParseBoolText(std::string_view text) {
  text = Trim(text);
  if (EqualsIgnoreCase(text, "$true") || EqualsIgnoreCase(text, "true") || text == "1") {
    return true;
  }
  if (EqualsIgnoreCase(text, "$false") || EqualsIgnoreCase(text, "false") || text == "0") {
    return false;
  }
  return std::nullopt;
}

std::optional<uint32_t> ParseTimeSpan(std::string_view text) {
  text = Trim(text);
  uint64_t days = 0;
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const size_t dot = text.find('.');
  if (dot != std::string_view::npos && dot < colon) {
    std::string_view d = text.substr(0, dot);
    if (d.empty() || d.size() > 8) return std::nullopt;
    for (char c : d) {
      if (c < '0' || c > '9') return std::nullopt;
      days = days * 10 + static_cast<uint64_t>(c - '0');
    }
    text.remove_prefix(dot + 1);
  }
  // Two or three parts of one or two digits: hours, minutes and optional seconds.
  uint64_t parts[3] = {0, 0, 0};
  size_t count = 0;
  size_t start = 0;
  while (true) {
    const size_t end = std::min(text.find(':', start), text.size());
    std::string_view part = text.substr(start, end - start);
    if (count == 3 || part.empty() || part.size() > 2) return std::nullopt;
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
      parts[count] = parts[count] * 10 + static_cast<uint64_t>(c - '0');
    }
    ++count;
    if (end == text.size()) break;
    start = end + 1;
  }
  if (count < 2 || parts[0] > 23 || parts[1] > 59 || parts[2] > 59) return std::nullopt;
  const uint64_t total = days * 86400 + parts[0] * 3600 + parts[1] * 60 + parts[2];
  if (total > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(total);
}

}  // namespace adminctl::parser
