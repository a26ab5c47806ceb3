// A cmdlet's parameter schema: what Bind() checks a parsed command against.
#pragma once

#include <string>
#include <vector>

namespace adminctl::parser {

enum class ParamType {
  kString,
  kBool,          // $true/$false/true/false/1/0; $null is kept as "null" (is_null).
  kInt,           // Integer; "Unlimited" too when allow_unlimited.
  kSize,          // 2GB, 500MB, 1024, Unlimited.
  kEnum,          // One of enum_values (case-insensitive) or its index.
  kStringList,    // a,b,"c d" (replace) or @{Add=...; Remove=...} (delta).
  kSwitch,        // -Confirm (true) or -Confirm:$false; takes no separate argument.
  kSecureString,  // Text, or (ConvertTo-SecureString -String 'x' -AsPlainText -Force).
};

struct ParameterSpec {
  std::string name;  // Canonical name, e.g. "Identity".
  ParamType type = ParamType::kString;
  // Missing mandatory parameters fail binding, except kSecureString ones, which are bound
  // as `value_omitted` so that the cmdlet can prompt for them on a terminal.
  bool mandatory = false;
  int position = -1;  // -1: named only. Otherwise the positional slot (0, 1, ...).
  std::vector<std::string> aliases = {};
  // kEnum: canonical names, index = numeric value. Other types: the documented values, which
  // Tab completion offers and Get-Help lists; the binder does not check them.
  std::vector<std::string> enum_values = {};
  bool allow_unlimited = false;               // kInt: accept "Unlimited".
  // Taken from the "Identity"-like property of each object piped into the cmdlet.
  bool from_pipeline = false;
  // .NET type name shown in messages; empty means the default for `type`.
  std::string type_name = {};
};

struct CommandSchema {
  std::string name;  // Canonical cmdlet name, e.g. "Get-Mailbox".
  std::vector<ParameterSpec> parameters;
};

// "System.String", "System.Boolean", ... as PowerShell names them in messages.
std::string TypeName(const ParameterSpec& spec);

}  // namespace adminctl::parser
