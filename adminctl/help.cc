#include "adminctl/help.h"

#include <algorithm>

#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using parser::ParameterSpec;
using parser::ParamType;

// "System.String" -> "String", "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]" ->
// "Unlimited", "System.String[]" -> "String[]".
std::string ShortTypeName(std::string_view full) {
  const bool array = full.ends_with("[]");
  if (array) full.remove_suffix(2);
  const size_t generic = full.find_first_of("`[");
  if (generic != std::string_view::npos) full = full.substr(0, generic);
  const size_t dot = full.rfind('.');
  if (dot != std::string_view::npos) full.remove_prefix(dot + 1);
  return std::string(full) + (array ? "[]" : "");
}

// The parameters in syntax order: positional (by position), mandatory named, other named.
std::vector<const ParameterSpec*> SyntaxOrder(const parser::CommandSchema& schema) {
  std::vector<const ParameterSpec*> positional, mandatory, rest;
  for (const ParameterSpec& spec : schema.parameters) {
    if (spec.position >= 0) {
      positional.push_back(&spec);
    } else if (spec.mandatory) {
      mandatory.push_back(&spec);
    } else {
      rest.push_back(&spec);
    }
  }
  std::stable_sort(
      positional.begin(), positional.end(),
      [](const ParameterSpec* a, const ParameterSpec* b) { return a->position < b->position; });
  positional.insert(positional.end(), mandatory.begin(), mandatory.end());
  positional.insert(positional.end(), rest.begin(), rest.end());
  return positional;
}

// "[-Name] <String>", "[[-Identity] <String>]", "[-Confirm]", "-Name <String>" ...
std::string SyntaxItem(const ParameterSpec& spec) {
  std::string item = "-" + spec.name;
  if (spec.position >= 0) item = "[" + item + "]";
  if (spec.type != ParamType::kSwitch) {
    const std::string type = SyntaxTypeOf(spec);
    item += type.starts_with('{') ? " " + type : " <" + type + ">";
  }
  if (!spec.mandatory) item = "[" + item + "]";
  return item;
}

// Every line of `text` indented by `indent` spaces, each ending with '\n'.
std::string Indent(std::string_view text, size_t indent) {
  std::string out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty()) out.append(indent, ' ');
    out.append(line);
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

// "Name                         value" as in the attribute block of a parameter; a long value
// wraps at blanks, its continuation lines aligned with its start.
std::string Attribute(std::string_view name, std::string_view value, size_t width) {
  std::string label(8, ' ');
  label += name;
  label.append(std::max<size_t>(1, 29 - name.size()), ' ');
  const std::string wrapped = WrapText(value, label.size(), width);
  return label + wrapped.substr(std::min(label.size(), wrapped.size()));
}

std::string Join(const std::vector<std::string>& values, std::string_view separator) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : std::string(separator)) + v;
  return out;
}

}  // namespace

const ParameterHelp* CmdletHelp::FindParameter(std::string_view parameter) const {
  for (const ParameterHelp& p : parameters) {
    if (parser::EqualsIgnoreCase(p.name, parameter)) return &p;
  }
  return nullptr;
}

const CmdletHelp* FindCmdletHelp(std::string_view cmdlet) {
  for (const CmdletHelp& help : AllCmdletHelp()) {
    if (parser::EqualsIgnoreCase(help.name, cmdlet)) return &help;
  }
  return nullptr;
}

std::string Synopsis(const Cmdlet& cmdlet) {
  const CmdletHelp* help = FindCmdletHelp(cmdlet.schema.name);
  return help == nullptr ? "" : help->synopsis;
}

std::string SyntaxTypeOf(const ParameterSpec& spec) {
  if (!spec.enum_values.empty()) return "{" + Join(spec.enum_values, " | ") + "}";
  return ShortTypeName(parser::TypeName(spec));
}

std::string SyntaxText(const parser::CommandSchema& schema, size_t width) {
  std::vector<std::string> items;
  size_t widest = 0;
  for (const ParameterSpec* spec : SyntaxOrder(schema)) {
    items.push_back(SyntaxItem(*spec));
    widest = std::max(widest, items.back().size());
  }
  std::string out = schema.name;
  // Continuation lines start under the first parameter, unless the widest item would then
  // not fit: then 4 columns in.
  size_t hang = schema.name.size() + 1;
  if (width != std::string::npos && hang + widest > width) hang = 4;
  size_t line_length = out.size();
  for (const std::string& item : items) {
    if (line_length > hang && line_length + 1 + item.size() > width) {
      out += "\n" + std::string(hang, ' ') + item;
      line_length = hang + item.size();
    } else {
      out += " " + item;
      line_length += 1 + item.size();
    }
  }
  return out;
}

std::string WrapText(std::string_view text, size_t indent, size_t width) {
  std::string out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t lead = line.find_first_not_of(' ');
    if (lead == std::string_view::npos) {
      out += '\n';
      continue;
    }
    const std::string continuation(indent + lead + (lead > 0 ? 2 : 0), ' ');
    std::string current(indent + lead, ' ');
    bool empty = true;
    size_t word_start = lead;
    while (word_start < line.size()) {
      size_t word_end = line.find(' ', word_start);
      if (word_end == std::string_view::npos) word_end = line.size();
      const std::string_view word = line.substr(word_start, word_end - word_start);
      word_start = word_end + 1;
      if (word.empty()) continue;
      if (!empty && current.size() + 1 + word.size() > width) {
        out += current + "\n";
        current = continuation;
        empty = true;
      }
      if (!empty) current += ' ';
      current += word;
      empty = false;
    }
    out += current + "\n";
  }
  return out;
}

std::string RenderParameterHelp(const Cmdlet& cmdlet, const ParameterSpec& spec, size_t width) {
  const CmdletHelp* help = FindCmdletHelp(cmdlet.schema.name);
  const ParameterHelp* text = help == nullptr ? nullptr : help->FindParameter(spec.name);
  std::string out = "    -" + spec.name + " ";
  out += spec.type == ParamType::kSwitch ? std::string("[<SwitchParameter>]")
                                         : "<" + ShortTypeName(parser::TypeName(spec)) + ">";
  out += "\n";
  if (text != nullptr && !text->description.empty()) {
    out += WrapText(text->description, 8, width);
  } else {
    out += WrapText("No description has been written for this parameter yet.", 8, width);
  }
  out += "\n";
  std::string required = spec.mandatory ? "true" : "false";
  if (spec.mandatory && spec.type == ParamType::kSecureString) {
    required += " (asked for on a terminal if left out)";
  }
  out += Attribute("Required?", required, width);
  out +=
      Attribute("Position?", spec.position >= 0 ? std::to_string(spec.position) : "named", width);
  out += Attribute("Default value",
                   text != nullptr && !text->default_value.empty()
                       ? std::string_view(text->default_value)
                       : std::string_view("None"),
                   width);
  out += Attribute("Accept pipeline input?", spec.from_pipeline ? "true (ByPropertyName)" : "false",
                   width);
  if (!spec.enum_values.empty()) {
    out += Attribute("Accepted values", Join(spec.enum_values, ", "), width);
  }
  if (spec.type == ParamType::kBool) out += Attribute("Accepted values", "$true, $false", width);
  if (!spec.aliases.empty()) out += Attribute("Aliases", Join(spec.aliases, ", "), width);
  return out;
}

std::string RenderHelp(const Cmdlet& cmdlet, bool detailed, size_t width) {
  const std::string& name = cmdlet.schema.name;
  const CmdletHelp* help = FindCmdletHelp(name);
  std::string out = "\nNAME\n    " + name + "\n\nSYNOPSIS\n";
  if (help != nullptr && !help->synopsis.empty()) {
    out += WrapText(help->synopsis, 4, width);
  } else {
    out += WrapText("No help has been written for " + name +
                        " yet; the syntax and parameters below come from the cmdlet itself.",
                    4, width);
  }
  out += "\nSYNTAX\n" + Indent(SyntaxText(cmdlet.schema, width - 4), 4);
  if (help != nullptr && !help->description.empty()) {
    out += "\nDESCRIPTION\n" + WrapText(help->description, 4, width);
  }
  if (!cmdlet.aliases.empty()) out += "\nALIASES\n    " + Join(cmdlet.aliases, ", ") + "\n";
  if (detailed) {
    out += "\nPARAMETERS\n";
    if (cmdlet.schema.parameters.empty()) out += "    None.\n";
    for (const ParameterSpec* spec : SyntaxOrder(cmdlet.schema)) {
      out += RenderParameterHelp(cmdlet, *spec, width) + "\n";
    }
    if (help != nullptr && !help->examples.empty()) {
      out += "EXAMPLES\n";
      for (size_t i = 0; i < help->examples.size(); ++i) {
        const HelpExample& e = help->examples[i];
        out += "    -------------------------- Example " + std::to_string(i + 1) +
               " --------------------------\n\n";
        out += "    [PS] casmail> " + e.code + "\n\n";
        out += WrapText(e.remarks, 4, width) + "\n";
      }
    }
  } else {
    out += "\nREMARKS\n";
    out += WrapText("For parameters and examples, type: \"Get-Help " + name +
                        " -Detailed\".\nFor one parameter, type: \"Get-Help " + name +
                        " -Parameter <name>\".",
                    4, width);
    out += "\n";
  }
  return out;
}

std::string HelpOverview() {
  return "\nTOPIC\n"
         "    adminctl help\n"
         "\n"
         "SHORT DESCRIPTION\n"
         "    adminctl runs Exchange Management Shell style cmdlets against the mailbox\n"
         "    store's admin endpoint.\n"
         "\n"
         "LONG DESCRIPTION\n"
         "    Get-Command                         lists the cmdlets with a one-line synopsis.\n"
         "    Get-Command *Mailbox*               lists the cmdlets whose names match.\n"
         "    Get-Help <cmdlet>                   shows a cmdlet's syntax and description.\n"
         "    Get-Help <cmdlet> -Detailed         adds every parameter and examples.\n"
         "    Get-Help <cmdlet> -Parameter <name> shows one parameter (wildcards allowed).\n"
         "\n"
         "    In the interactive shell (adminctl with no arguments on a terminal), Tab\n"
         "    completes cmdlet names, parameters and their values, Up and Down recall\n"
         "    earlier lines, and exit, quit or Ctrl-D leaves.\n"
         "\n";
}

}  // namespace adminctl
