// Runs command lines: parse, look up and bind every pipeline element, run the cmdlets in
// order (objects flow along the pipeline), and print the result or PowerShell-shaped errors.
#pragma once

#include <cstddef>
#include <ostream>
#include <string_view>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/parser.h"

namespace adminctl {

// True when `line` may hold a password (-Password, -Pa..., ConvertTo-SecureString), so that
// errors must not echo the line or its arguments.
bool MayShowSecret(std::string_view line);

class Runner {
 public:
  // `out` gets formatted output; `err` gets errors and warnings. All must outlive the Runner.
  Runner(const CmdletRegistry& registry, CmdletContext& context, std::ostream& out,
         std::ostream& err, parser::ParserLimits limits = {});

  // Runs every statement of `line`; stops at the first error. Returns true when all ran
  // without error. `line_number` is used in parse error positions (scripts).
  bool RunLine(std::string_view line, size_t line_number = 1);

 private:
  bool RunPipeline(const parser::Pipeline& pipeline);
  // "<Cmdlet>: <message>", plus "At line:N char:M" when the input spans several lines.
  void PrintError(std::string_view cmdlet, std::string_view message, size_t offset);

  const CmdletRegistry& registry_;
  CmdletContext& context_;
  std::ostream& out_;
  std::ostream& err_;
  parser::ParserLimits limits_;
  std::string_view input_;  // The input of the running RunLine().
  size_t first_line_number_ = 1;
};

}  // namespace adminctl
