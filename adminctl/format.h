// Objects as PowerShell shows them: an ordered list of (property name, display string), and
// the Format-List / Format-Table renderers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace adminctl {

struct Property {
  std::string name;
  std::string value;  // Already formatted for display.
};

class Record {
 public:
  Record() = default;
  explicit Record(std::vector<Property> properties) : properties_(std::move(properties)) {}

  void Add(std::string name, std::string value);
  // Case-insensitive lookup; nullptr when absent.
  const std::string* Find(std::string_view name) const;
  const std::vector<Property>& properties() const { return properties_; }

 private:
  std::vector<Property> properties_;
};

// How a cmdlet's output is shown when no Format-* cmdlet follows it.
struct View {
  enum class Kind { kTable, kList };
  Kind kind = Kind::kList;
  std::vector<std::string> columns;  // kTable: the default columns; kList: empty means all.
};

// Property names of `record` selected by `patterns` (names or wildcards such as *Quota*), in
// pattern order, then record order within a wildcard; no duplicates. A plain name that the
// record lacks is kept when `keep_missing` (Format-Table shows an empty column for it).
std::vector<std::string> SelectProperties(const Record& record,
                                          const std::vector<std::string>& patterns,
                                          bool keep_missing);

// Format-List: a blank line, then per object "Name  : value" lines with names padded to the
// longest, objects separated by a blank line, and a blank line at the end. No patterns means
// every property. Empty input renders as "".
std::string FormatList(const std::vector<Record>& records,
                       const std::vector<std::string>& patterns = {});

// Format-Table: a blank line, the header row, a row of dashes as long as each header, one row
// per object, columns padded to the widest cell and separated by one space, trailing spaces
// trimmed, and a blank line at the end. Columns come from the first object. Empty input
// renders as "".
std::string FormatTable(const std::vector<Record>& records,
                        const std::vector<std::string>& patterns);

// Renders `records` with `view` (the cmdlet's default view).
std::string FormatDefault(const std::vector<Record>& records, const View& view);

// Exchange's ByteQuantifiedSize display: "2 GB (2,147,483,648 bytes)", "1.899 GB (...)",
// "512 B (512 bytes)".
std::string FormatByteQuantity(uint64_t bytes);
// A quota: 0 is "Unlimited", otherwise FormatByteQuantity().
std::string FormatQuota(uint64_t bytes);
// A multi-valued property: "{a, b}"; empty is "{}".
std::string FormatMultiValue(const std::vector<std::string>& values);
// "1,234,567".
std::string FormatThousands(uint64_t n);
// PowerShell's TimeSpan display: "00:01:00", "1.00:00:00".
std::string FormatTimeSpan(uint32_t seconds);
// PowerShell's Boolean display: "True" / "False".
inline std::string FormatBool(bool b) { return b ? "True" : "False"; }
// A time in the local zone as en-US PowerShell prints DateTime: "11/26/2024 5:36:12 AM".
// 0 (never) renders as "".
std::string FormatDateTime(int64_t unix_seconds);

}  // namespace adminctl
