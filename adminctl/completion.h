// Tab completion for the interactive shell, as pure functions of the registry and the text
// before the cursor (no terminal, no line-editing library): cmdlet names and aliases, the
// current cmdlet's parameters after '-', enum values and $true/$false after a parameter that
// takes them. shell.cc binds them to the Tab key.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"

namespace adminctl {

struct Completion {
  // Where the word being completed starts in the line; it ends at the cursor (the end of
  // the text given to Complete()). A candidate replaces that word.
  size_t start = 0;
  // Whole replacement words, e.g. "Get-CASMailbox", "-PopEnabled", "$true". Cmdlet names are
  // sorted; parameters and values keep the schema's order. Empty: nothing to complete.
  std::vector<std::string> candidates;
};

// Completes the word that ends at the end of `line_before_cursor` (case-insensitive prefix):
//   - the first word of a command (also after '|', ';' and '('): cmdlet names, and aliases
//     once something is typed;
//   - "-Pre": the parameters of the current cmdlet that start with "Pre", except those the
//     command already names;
//   - the word after an enum parameter (or after "-Param:"): its values; after a Boolean
//     parameter (or a switch written "-Switch:"): $true and $false.
// Nothing is offered inside quotes, comments or @{...}, nor for unknown cmdlets.
Completion Complete(const CmdletRegistry& registry, std::string_view line_before_cursor);

// The longest prefix that every candidate shares, compared case-insensitively and spelled
// as in the first candidate. Empty for no candidates.
std::string CommonPrefix(const std::vector<std::string>& candidates);

// What the Tab key does with `completion` of `line_before_cursor`.
struct TabAction {
  enum class Kind {
    kNothing,  // No candidates: beep.
    kReplace,  // Replace line[completion.start, end) by `replacement`.
    kList,     // Nothing more can be typed for the user: show the candidates.
  };
  Kind kind = Kind::kNothing;
  // kReplace: the only candidate followed by a space, or the common prefix of several when
  // it is longer than what was typed.
  std::string replacement;
};
TabAction ChooseTabAction(std::string_view line_before_cursor, const Completion& completion);

// The candidates in columns, filled top to bottom and then left to right, as shells list
// them, fitting `width` columns (one per line when a candidate is wider). Each line ends with
// '\n' and has no trailing spaces.
std::string FormatCandidates(const std::vector<std::string>& candidates, size_t width);

}  // namespace adminctl
