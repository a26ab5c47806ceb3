#include "adminctl/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iterator>

#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using parser::EqualsIgnoreCase;
using parser::HasWildcard;
using parser::WildcardMatch;

void TrimTrailingSpaces(std::string* line) {
  while (!line->empty() && line->back() == ' ') line->pop_back();
}

// A table cell holds one line: newlines and tabs become spaces.
std::string OneLine(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

// Display width: count UTF-8 code points, not bytes, so that names like "Zoë" line up.
size_t DisplayWidth(std::string_view s) {
  size_t width = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

void AppendPaddedDisplay(std::string* out, std::string_view text, size_t width) {
  out->append(text);
  const size_t w = DisplayWidth(text);
  if (w < width) out->append(width - w, ' ');
}

}  // namespace

void Record::Add(std::string name, std::string value) {
  properties_.push_back(Property{std::move(name), std::move(value)});
}

const std::string* Record::Find(std::string_view name) const {
  for (const Property& p : properties_) {
    if (EqualsIgnoreCase(p.name, name)) return &p.value;
  }
  return nullptr;
}

std::vector<std::string> SelectProperties(const Record& record,
                                          const std::vector<std::string>& patterns,
                                          bool keep_missing) {
  std::vector<std::string> selected;
  auto add = [&selected](const std::string& name) {
    for (const std::string& s : selected) {
      if (EqualsIgnoreCase(s, name)) return;
    }
    selected.push_back(name);
  };
  if (patterns.empty()) {
    for (const Property& p : record.properties()) add(p.name);
    return selected;
  }
  for (const std::string& pattern : patterns) {
    if (HasWildcard(pattern)) {
      for (const Property& p : record.properties()) {
        if (WildcardMatch(pattern, p.name)) add(p.name);
      }
      continue;
    }
    bool found = false;
    for (const Property& p : record.properties()) {
      if (EqualsIgnoreCase(p.name, pattern)) {
        add(p.name);  // Use the record's spelling.
        found = true;
        break;
      }
    }
    if (!found && keep_missing) add(pattern);
  }
  return selected;
}

std::string FormatList(const std::vector<Record>& records,
                       const std::vector<std::string>& patterns) {
  if (records.empty()) return "";
  std::string out = "\n";
  for (const Record& record : records) {
    const std::vector<std::string> names = SelectProperties(record, patterns, false);
    if (names.empty()) continue;
    size_t width = 0;
    for (const std::string& name : names) width = std::max(width, DisplayWidth(name));
    for (const std::string& name : names) {
      const std::string* value = record.Find(name);
      std::string line;
      AppendPaddedDisplay(&line, name, width);
      line += " : ";
      // Continuation lines of a multi-line value are indented under the value column.
      std::string_view rest = value ? std::string_view(*value) : std::string_view();
      bool first = true;
      while (true) {
        const size_t nl = rest.find('\n');
        std::string part(rest.substr(0, nl));
        if (!part.empty() && part.back() == '\r') part.pop_back();
        if (!first) line.append(width + 3, ' ');
        line += part;
        TrimTrailingSpaces(&line);
        out += line;
        out += '\n';
        line.clear();
        first = false;
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
      }
    }
    out += '\n';
  }
  return out;
}

std::string FormatTable(const std::vector<Record>& records,
                        const std::vector<std::string>& patterns) {
  if (records.empty()) return "";
  const std::vector<std::string> columns = SelectProperties(records.front(), patterns, true);
  if (columns.empty()) return "";
  std::vector<std::vector<std::string>> cells;
  cells.reserve(records.size());
  std::vector<size_t> widths;
  for (const std::string& column : columns) widths.push_back(DisplayWidth(column));
  for (const Record& record : records) {
    std::vector<std::string> row;
    for (size_t c = 0; c < columns.size(); ++c) {
      const std::string* value = record.Find(columns[c]);
      row.push_back(value ? OneLine(*value) : std::string());
      widths[c] = std::max(widths[c], DisplayWidth(row.back()));
    }
    cells.push_back(std::move(row));
  }
  auto render_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) line += ' ';
      AppendPaddedDisplay(&line, row[c], widths[c]);
    }
    TrimTrailingSpaces(&line);
    return line + "\n";
  };
  std::vector<std::string> dashes;
  for (const std::string& column : columns)
    dashes.push_back(std::string(DisplayWidth(column), '-'));
  std::string out = "\n";
  out += render_row(columns);
  out += render_row(dashes);
  for (const auto& row : cells) out += render_row(row);
  out += "\n";
  return out;
}

std::string FormatDefault(const std::vector<Record>& records, const View& view) {
  if (view.kind == View::Kind::kTable) return FormatTable(records, view.columns);
  return FormatList(records, view.columns);
}

std::string FormatThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatByteQuantity(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  size_t unit = 0;
  uint64_t scale = 1;
  while (unit + 1 < std::size(kUnits) && bytes / scale >= 1024) {
    scale <<= 10;
    ++unit;
  }
  std::string number;
  if (unit == 0) {
    number = std::to_string(bytes);
  } else {
    // Three decimals, rounded half up, trailing zeros dropped: 1.899 GB, 2.3 GB, 2 GB.
    const uint64_t whole = bytes / scale;
    const uint64_t rem = bytes % scale;
    // rem < 2^50, so rem * 1000 fits comfortably.
    uint64_t thousandths = (rem * 1000 + scale / 2) / scale;
    uint64_t w = whole;
    if (thousandths == 1000) {
      ++w;
      thousandths = 0;
    }
    number = std::to_string(w);
    if (thousandths != 0) {
      std::string frac = std::to_string(thousandths);
      frac.insert(0, 3 - frac.size(), '0');
      while (!frac.empty() && frac.back() == '0') frac.pop_back();
      number += "." + frac;
    }
  }
  return number + " " + kUnits[unit] + " (" + FormatThousands(bytes) + " bytes)";
}

std::string FormatQuota(uint64_t bytes) {
  return bytes == 0 ? "Unlimited" : FormatByteQuantity(bytes);
}

std::string FormatMultiValue(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += values[i];
  }
  return out + "}";
}

std::string FormatTimeSpan(uint32_t seconds) {
  const uint32_t days = seconds / 86400;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02u:%02u:%02u", seconds / 3600 % 24, seconds / 60 % 60,
                seconds % 60);
  return days == 0 ? std::string(buf) : std::to_string(days) + "." + buf;
}

std::string FormatDateTime(int64_t unix_seconds) {
  if (unix_seconds == 0) return "";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (localtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  const int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%d/%d/%d %d:%02d:%02d %s", tm.tm_mon + 1, tm.tm_mday,
                tm.tm_year + 1900, hour12, tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
  return buf;
}

}  // namespace adminctl
