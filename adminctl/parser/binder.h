// Binds a parsed command to a cmdlet's schema: resolves parameter names (exact, alias or
// unique prefix, case-insensitive), assigns positional arguments, converts values to the
// declared types and checks mandatory parameters. Errors are values with PowerShell's text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adminctl/parser/parser.h"
#include "adminctl/parser/result.h"
#include "adminctl/parser/schema.h"

namespace adminctl::parser {

struct SizeValue {
  bool unlimited = false;
  uint64_t bytes = 0;  // Meaningful when !unlimited.
};

// A multi-valued property: either a replacement list or an incremental Add/Remove change.
struct MultiValue {
  bool is_delta = false;            // Written as @{Add=...; Remove=...}.
  std::vector<std::string> values;  // Replacement (when !is_delta).
  std::vector<std::string> add;
  std::vector<std::string> remove;
};

struct BoundValue {
  ParamType type = ParamType::kString;
  size_t offset = 0;     // Where the parameter or argument was written.
  bool is_null = false;  // $null was given.
  // kSecureString only: named without a value (-Password at the end), or mandatory and not
  // given, or (Read-Host -AsSecureString): the cmdlet should prompt.
  bool value_omitted = false;
  std::string text;        // kString, kEnum (canonical name), kSecureString.
  bool boolean = false;    // kBool, kSwitch.
  int64_t integer = 0;     // kInt, kEnum (index).
  bool unlimited = false;  // kInt (allow_unlimited), kSize.
  uint64_t bytes = 0;      // kSize.
  MultiValue list;         // kStringList.
};

class BoundCommand {
 public:
  BoundCommand() = default;
  explicit BoundCommand(std::string cmdlet_name) : name_(std::move(cmdlet_name)) {}

  const std::string& name() const { return name_; }
  // Lookups use the canonical parameter name, case-insensitively.
  bool Has(std::string_view parameter) const { return Find(parameter) != nullptr; }
  const BoundValue* Find(std::string_view parameter) const;
  void Set(std::string parameter, BoundValue value);

  // Typed accessors: nullopt when the parameter was not given (or given as $null).
  std::optional<std::string> GetString(std::string_view parameter) const;
  std::optional<bool> GetBool(std::string_view parameter) const;
  // A switch: true when given bare or as -Name:$true; `absent` when not given.
  bool GetSwitch(std::string_view parameter, bool absent = false) const;
  std::optional<int64_t> GetInt(std::string_view parameter) const;
  std::optional<SizeValue> GetSize(std::string_view parameter) const;
  std::optional<MultiValue> GetStringList(std::string_view parameter) const;

  const std::vector<std::pair<std::string, BoundValue>>& values() const { return values_; }

 private:
  std::string name_;
  std::vector<std::pair<std::string, BoundValue>> values_;
};

struct BindOptions {
  // Objects will be piped in: mandatory from_pipeline parameters may stay unbound.
  bool expect_pipeline_input = false;
};

Result<BoundCommand> Bind(const Command& command, const CommandSchema& schema,
                          const BindOptions& options = {});

// Resolves a parameter name as written (exact name or alias first, then a unique prefix).
// Returns the index into schema.parameters.
Result<size_t> ResolveParameter(const CommandSchema& schema, std::string_view written,
                                size_t offset = 0);

}  // namespace adminctl::parser
