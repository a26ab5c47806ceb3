// -Filter of Get-Mailbox and Get-CASMailbox: the part of Exchange's OPATH syntax that scripts
// use, evaluated over the properties of the objects the cmdlet outputs (the names Format-List
// shows). Pure: no I/O.
//
//   filter     := or
//   or         := and { -or and }
//   and        := unary { -and unary }
//   unary      := -not unary | ( or ) | comparison
//   comparison := Property operator value
//   operator   := -eq | -ne | -like | -notlike | -gt | -lt | -ge | -le
//   value      := $true | $false | $null | 'text' | "text" | bare-word
//
// -and binds tighter than -or; names and operators are case-insensitive. -eq/-ne and the
// ordering operators compare numbers (and sizes such as 10MB, or "1.2 MB (1,234,567 bytes)")
// as numbers, everything else as case-insensitive text; -like takes * and ? wildcards. A
// multi-valued property ({a, b}) matches -eq/-like when any of its values does.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/format.h"

namespace adminctl {

struct FilterNode;

class OpathFilter {
 public:
  // Longest filter text accepted. Default: 4 KiB.
  static constexpr size_t kMaxLength = 4096;
  // Deepest nesting of parentheses and -not. Default: 32.
  static constexpr size_t kMaxDepth = 32;

  OpathFilter();
  ~OpathFilter();
  OpathFilter(OpathFilter&&) noexcept;
  OpathFilter& operator=(OpathFilter&&) noexcept;

  // Parses `text`. `properties` are the names a comparison may use (case-insensitive); empty
  // accepts any name. On failure returns false and sets `*error` to the PowerShell-shaped
  // message naming the 1-based position of the offending token.
  bool Parse(std::string_view text, const std::vector<std::string>& properties, std::string* error);

  // Whether `record` passes. A property the record lacks compares as $null.
  bool Matches(const Record& record) const;

 private:
  std::unique_ptr<FilterNode> root_;
};

}  // namespace adminctl
