#include "adminctl/runner.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

struct BoundElement {
  const Cmdlet* cmdlet = nullptr;
  parser::BoundCommand args;
  size_t offset = 0;  // Of the command name in the input.
};

// The parameter of `cmdlet` that piped objects bind to, or nullptr.
const parser::ParameterSpec* PipelineParameter(const Cmdlet& cmdlet) {
  for (const parser::ParameterSpec& spec : cmdlet.schema.parameters) {
    if (spec.from_pipeline) return &spec;
  }
  return nullptr;
}

}  // namespace

bool MayShowSecret(std::string_view line) {
  const std::string lower = parser::AsciiLower(line);
  return lower.find("-pa") != std::string::npos || lower.find("securestring") != std::string::npos;
}

Runner::Runner(const CmdletRegistry& registry, CmdletContext& context, std::ostream& out,
               std::ostream& err, parser::ParserLimits limits)
    : registry_(registry), context_(context), out_(out), err_(err), limits_(limits) {
  if (context_.warnings == nullptr) context_.warnings = &err_;
  if (context_.registry == nullptr) context_.registry = &registry_;
}

void Runner::PrintError(std::string_view cmdlet, std::string_view message, size_t offset) {
  err_ << cmdlet << ": " << message << "\n";
  if (input_.find('\n') == std::string_view::npos) return;
  offset = std::min(offset, input_.size());
  size_t line = first_line_number_;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (input_[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  err_ << "At line:" << line << " char:" << (offset - line_start + 1) << "\n";
}

bool Runner::RunLine(std::string_view line, size_t line_number) {
  input_ = line;
  first_line_number_ = line_number;
  parser::Result<parser::Script> script = parser::Parse(line, limits_);
  if (!script.ok()) {
    if (MayShowSecret(line)) {
      // Echoing the line could print a password: give the message and position only.
      const parser::Error& e = script.error();
      err_ << "ParserError: " << e.message << "\nAt offset " << e.offset + 1
           << " (the line is not shown because it may contain a password)\n";
    } else {
      err_ << parser::RenderError(line, script.error(), "ParserError", line_number);
    }
    return false;
  }
  for (const parser::Pipeline& pipeline : script.value().pipelines) {
    if (!RunPipeline(pipeline)) return false;
  }
  return true;
}

bool Runner::RunPipeline(const parser::Pipeline& pipeline) {
  // Look up and bind every element before running anything, as PowerShell does.
  std::vector<BoundElement> elements;
  for (size_t i = 0; i < pipeline.commands.size(); ++i) {
    const parser::Command& command = pipeline.commands[i];
    const Cmdlet* cmdlet = registry_.Find(command.name);
    if (cmdlet == nullptr) {
      PrintError(command.name,
                 "The term '" + command.name +
                     "' is not recognized as a name of a cmdlet. Run Get-Command for the list "
                     "of cmdlets.",
                 command.name_offset);
      return false;
    }
    const std::string& name = cmdlet->schema.name;
    if (cmdlet->formatter && i == 0) {
      PrintError(name, "Pipe objects into it, for example: Get-Mailbox | " + name + ".",
                 command.name_offset);
      return false;
    }
    if (cmdlet->formatter && i + 1 != pipeline.commands.size()) {
      PrintError(name, "It must be the last command of a pipeline.", command.name_offset);
      return false;
    }
    if (i > 0 && !cmdlet->formatter && PipelineParameter(*cmdlet) == nullptr) {
      PrintError(name,
                 "The input object cannot be bound to any parameters for the command either "
                 "because the command does not take pipeline input or the input and its "
                 "properties do not match any of the parameters that take pipeline input.",
                 command.name_offset);
      return false;
    }
    parser::BindOptions options;
    options.expect_pipeline_input = i > 0;
    parser::Result<parser::BoundCommand> bound = parser::Bind(command, cmdlet->schema, options);
    if (!bound.ok()) {
      std::string message = bound.error().message;
      if (MayShowSecret(input_) && message.find("positional parameter") != std::string::npos) {
        message =
            "A positional parameter cannot be found that accepts one of the arguments "
            "(not shown because the line may contain a password).";
      }
      PrintError(name, message, bound.error().offset);
      return false;
    }
    elements.push_back(BoundElement{cmdlet, std::move(bound).value(), command.name_offset});
  }

  std::vector<Record> objects;
  const View* view = nullptr;
  std::optional<View> output_view;  // What `view` points to when a cmdlet chose its view.
  bool ok = true;
  for (size_t i = 0; i < elements.size(); ++i) {
    const BoundElement& element = elements[i];
    const Cmdlet& cmdlet = *element.cmdlet;
    CmdletOutput output;
    if (cmdlet.formatter) {
      context_.input_view = view;
      CmdletStatus status = cmdlet.handler(element.args, objects, context_, &output);
      context_.input_view = nullptr;
      if (!status.ok()) {
        PrintError(cmdlet.schema.name, status.message(), element.offset);
        return false;
      }
      out_ << output.text;
      return ok;
    }
    const parser::ParameterSpec* piped = i > 0 ? PipelineParameter(cmdlet) : nullptr;
    if (piped == nullptr || element.args.Has(piped->name)) {
      // First element, or the piped parameter was given on the command line: run once.
      context_.audit_cmdlet = cmdlet.schema.name;
      context_.audit_parameters = AuditParameters(element.args);
      CmdletStatus status = cmdlet.handler(element.args, objects, context_, &output);
      out_ << output.text;
      output.text.clear();
      if (!status.ok()) {
        PrintError(cmdlet.schema.name, status.message(), element.offset);
        return false;
      }
      for (const std::string& error : output.errors) {
        PrintError(cmdlet.schema.name, error, element.offset);
        ok = false;
      }
      output.errors.clear();
    } else {
      // Once per piped object; a failure for one object does not stop the others.
      for (const Record& object : objects) {
        const std::string* value = object.Find(piped->name);
        if (value == nullptr) {
          PrintError(cmdlet.schema.name,
                     "The input object has no " + piped->name + " property to bind to parameter '" +
                         piped->name + "'.",
                     element.offset);
          ok = false;
          continue;
        }
        parser::BoundCommand args = element.args;
        parser::BoundValue v;
        v.type = piped->type;
        v.text = *value;
        args.Set(piped->name, std::move(v));
        context_.audit_cmdlet = cmdlet.schema.name;
        context_.audit_parameters = AuditParameters(args);
        CmdletStatus status = cmdlet.handler(args, {object}, context_, &output);
        out_ << output.text;
        output.text.clear();
        if (!status.ok()) {
          PrintError(cmdlet.schema.name, status.message(), element.offset);
          ok = false;
        }
        for (const std::string& error : output.errors) {
          PrintError(cmdlet.schema.name, error, element.offset);
          ok = false;
        }
        output.errors.clear();
      }
    }
    objects = std::move(output.records);
    output_view = std::move(output.view);
    view = output_view ? &*output_view : &cmdlet.default_view;
  }
  if (!objects.empty() && view != nullptr) out_ << FormatDefault(objects, *view);
  return ok;
}

}  // namespace adminctl
