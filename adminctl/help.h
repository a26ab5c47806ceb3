// Get-Help and Get-Command text: the written help of the cmdlets (help_text.cc) combined with
// their schemas. The syntax line, types, Required?, Position? and pipeline input always come
// from the schema, so a cmdlet that has no written help yet still gets a useful page.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/schema.h"

namespace adminctl {

struct ParameterHelp {
  std::string name;           // The canonical parameter name.
  std::string default_value;  // As PowerShell shows it ("$true", "SecureLogin"); "" is None.
  std::string description;    // Paragraphs separated by '\n'.
};

struct HelpExample {
  std::string code;     // "Set-PopSettings -LoginType SecureLogin"
  std::string remarks;  // What it does.
};

struct CmdletHelp {
  std::string name;         // The canonical cmdlet name.
  std::string synopsis;     // One line, at most kMaxSynopsis characters.
  std::string description;  // Paragraphs separated by '\n'.
  std::vector<ParameterHelp> parameters;
  std::vector<HelpExample> examples;

  // Case-insensitive; nullptr when the parameter has no text.
  const ParameterHelp* FindParameter(std::string_view parameter) const;
};

// Longest synopsis, so that Get-Command's table stays narrow.
inline constexpr size_t kMaxSynopsis = 60;
// Where Get-Help wraps its text. Default: 80 columns.
inline constexpr size_t kHelpWidth = 80;

// Every written help text (help_text.cc), and one by canonical cmdlet name (case-insensitive;
// nullptr when the cmdlet has none yet).
const std::vector<CmdletHelp>& AllCmdletHelp();
const CmdletHelp* FindCmdletHelp(std::string_view cmdlet);

// The one-line synopsis of `cmdlet`; "" when it has no written help.
std::string Synopsis(const Cmdlet& cmdlet);

// A parameter's type as the syntax line shows it: "String", "Boolean", "Unlimited",
// "String[]", or the values of an enumeration, "{AllMail | FromNow}".
std::string SyntaxTypeOf(const parser::ParameterSpec& spec);

// PowerShell's syntax of `schema`, wrapped at `width` with continuation lines aligned after
// the cmdlet name (4 columns in when the widest parameter would not fit there):
//   Get-Mailbox [[-Identity] <String>] [-ResultSize <Unlimited>]
// Positional parameters come first (by position), then mandatory named ones, then the rest
// in schema order. No indentation and no final newline.
std::string SyntaxText(const parser::CommandSchema& schema, size_t width = kHelpWidth);

// Get-Help's page: NAME, SYNOPSIS, SYNTAX, DESCRIPTION, ALIASES, and with `detailed` also
// PARAMETERS (type, meaning, Required?, Position?, Default value, pipeline input, accepted
// values) and EXAMPLES; otherwise REMARKS on how to see them.
std::string RenderHelp(const Cmdlet& cmdlet, bool detailed, size_t width = kHelpWidth);

// One parameter's entry as in the PARAMETERS section (Get-Help <cmdlet> -Parameter <name>).
std::string RenderParameterHelp(const Cmdlet& cmdlet, const parser::ParameterSpec& spec,
                                size_t width = kHelpWidth);

// Get-Help without a cmdlet name: how to find cmdlets and read their help.
std::string HelpOverview();

// `text` wrapped at word boundaries to `width` columns, each line indented by `indent`
// spaces. Every '\n' in `text` starts a new line ("\n\n" leaves an empty one). A line that
// starts with spaces (a list item) keeps them, and its continuation lines are indented two
// more. A word longer than a line is not broken.
std::string WrapText(std::string_view text, size_t indent, size_t width = kHelpWidth);

}  // namespace adminctl
