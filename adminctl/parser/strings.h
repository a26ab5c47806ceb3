// Small ASCII string helpers shared by the parser and the cmdlets (cmdlet and parameter names
// are ASCII and compared case-insensitively, as PowerShell does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace adminctl::parser {

char AsciiLower(char c);
std::string AsciiLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

// PowerShell -like matching: '*' any run, '?' one character, case-insensitive.
bool WildcardMatch(std::string_view pattern, std::string_view text);
bool HasWildcard(std::string_view pattern);

// Sizes as Exchange accepts them: "2GB", "500 MB", "1.5GB", "1024", "2 GB (2,147,483,648
// bytes)", "Unlimited". Returns nullopt when the text is not a size or overflows.
struct ParsedSize {
  bool unlimited = false;
  uint64_t bytes = 0;
};
std::optional<ParsedSize> ParseSize(std::string_view text);

// A decimal integer with an optional sign and PowerShell multiplier suffix (KB, MB, GB, TB).
std::optional<int64_t> ParseInteger(std::string_view text);

// $true/true/1 and $false/false/0, case-insensitive.
std::optional<bool> ParseBoolText(std::string_view text);

// A time span as .NET's TimeSpan.Parse reads "hh:mm", "hh:mm:ss" or "d.hh:mm:ss" (without
// fractions or a sign), in seconds. Bare numbers are refused: .NET would read "30" as 30 days.
// nullopt when the text is not a time span or does not fit in 32 bits.
std::optional<uint32_t> ParseTimeSpan(std::string_view text);

}  // namespace adminctl::parser
