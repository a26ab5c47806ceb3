// Get-Command and Get-Help: the cmdlet table and the help texts (help.h), as PowerShell
// shows them.
#include <algorithm>
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/help.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using parser::BoundCommand;
using parser::ParamType;

const View& CommandView() {
  static const View* view = new View{View::Kind::kTable, {"Name", "Synopsis"}};
  return *view;
}

CmdletStatus NoRegistry() {
  return CmdletStatus::Error("Internal error: the cmdlet table is not available.");
}

// True when `cmdlet`'s name or one of its aliases matches `pattern` (a name or wildcard).
bool NameMatches(const Cmdlet& cmdlet, std::string_view pattern) {
  if (parser::WildcardMatch(pattern, cmdlet.schema.name)) return true;
  for (const std::string& alias : cmdlet.aliases) {
    if (parser::WildcardMatch(pattern, alias)) return true;
  }
  return false;
}

bool AnyMatches(const std::vector<std::string>& patterns, std::string_view text) {
  for (const std::string& p : patterns) {
    if (parser::WildcardMatch(p, text)) return true;
  }
  return false;
}

// A -Name/-Verb/-Noun list; replacement lists only.
CmdletStatus Patterns(const BoundCommand& args, std::string_view parameter,
                      std::vector<std::string>* out) {
  std::optional<parser::MultiValue> v = args.GetStringList(parameter);
  if (!v) return CmdletStatus::Ok();
  if (v->is_delta) {
    return CmdletStatus::Error("-" + std::string(parameter) +
                               " takes names or wildcards such as Get-*, not @{...}.");
  }
  *out = v->values;
  return CmdletStatus::Ok();
}

CmdletStatus NotRecognized(std::string_view name) {
  return CmdletStatus::Error("The term '" + std::string(name) +
                             "' is not recognized as a name of a cmdlet. Run Get-Command for "
                             "the list of cmdlets.");
}

std::vector<const Cmdlet*> SortedByName(std::vector<const Cmdlet*> cmdlets) {
  std::sort(cmdlets.begin(), cmdlets.end(), [](const Cmdlet* a, const Cmdlet* b) {
    return parser::AsciiLower(a->schema.name) < parser::AsciiLower(b->schema.name);
  });
  return cmdlets;
}

Record CommandRecord(const Cmdlet& cmdlet) {
  Record r;
  r.Add("CommandType", "Cmdlet");
  r.Add("Name", cmdlet.schema.name);
  r.Add("Aliases", FormatMultiValue(cmdlet.aliases));
  r.Add("Synopsis", Synopsis(cmdlet));
  r.Add("Syntax", SyntaxText(cmdlet.schema, std::string::npos));
  return r;
}

CmdletStatus GetCommand(const BoundCommand& args, const std::vector<Record>&,
                        CmdletContext& context, CmdletOutput* output) {
  if (context.registry == nullptr) return NoRegistry();
  std::vector<std::string> names, verbs, nouns;
  if (CmdletStatus s = Patterns(args, "Name", &names); !s.ok()) return s;
  if (CmdletStatus s = Patterns(args, "Verb", &verbs); !s.ok()) return s;
  if (CmdletStatus s = Patterns(args, "Noun", &nouns); !s.ok()) return s;

  std::vector<const Cmdlet*> found;
  for (const Cmdlet& cmdlet : context.registry->cmdlets()) {
    const std::string& name = cmdlet.schema.name;
    const size_t dash = name.find('-');
    const std::string verb = dash == std::string::npos ? name : name.substr(0, dash);
    const std::string noun = dash == std::string::npos ? "" : name.substr(dash + 1);
    bool match = names.empty();
    for (const std::string& p : names) match = match || NameMatches(cmdlet, p);
    if (match && !verbs.empty()) match = AnyMatches(verbs, verb);
    if (match && !nouns.empty()) match = AnyMatches(nouns, noun);
    if (match) found.push_back(&cmdlet);
  }
  // A plain name that matched nothing is an error, as in PowerShell; a wildcard is not.
  for (const std::string& p : names) {
    if (parser::HasWildcard(p)) continue;
    bool any = false;
    for (const Cmdlet* c : found) any = any || NameMatches(*c, p);
    if (!any) return NotRecognized(p);
  }
  for (const Cmdlet* c : SortedByName(found)) output->records.push_back(CommandRecord(*c));
  return CmdletStatus::Ok();
}

CmdletStatus GetHelp(const BoundCommand& args, const std::vector<Record>&, CmdletContext& context,
                     CmdletOutput* output) {
  if (context.registry == nullptr) return NoRegistry();
  const std::optional<std::string> name = args.GetString("Name");
  const std::optional<std::string> parameter = args.GetString("Parameter");
  if (!name || name->empty()) {
    if (parameter) {
      return CmdletStatus::Error(
          "Give the cmdlet too, for example: Get-Help Set-PopSettings -Parameter LoginType.");
    }
    output->text = HelpOverview();
    return CmdletStatus::Ok();
  }

  std::vector<const Cmdlet*> found;
  if (parser::HasWildcard(*name)) {
    for (const Cmdlet& cmdlet : context.registry->cmdlets()) {
      if (NameMatches(cmdlet, *name)) found.push_back(&cmdlet);
    }
  } else if (const Cmdlet* cmdlet = context.registry->Find(*name)) {
    found.push_back(cmdlet);
  }
  if (found.empty()) {
    return CmdletStatus::Error("Get-Help could not find " + *name +
                               " in a help file in this session. Run Get-Command for the list "
                               "of cmdlets.");
  }
  if (found.size() > 1) {
    // Several cmdlets match: list them, as PowerShell does.
    for (const Cmdlet* c : SortedByName(found)) {
      Record r;
      r.Add("Name", c->schema.name);
      r.Add("Category", "Cmdlet");
      r.Add("Synopsis", Synopsis(*c));
      output->records.push_back(std::move(r));
    }
    return CmdletStatus::Ok();
  }

  const Cmdlet& cmdlet = *found.front();
  if (parameter) {
    std::string text;
    for (const parser::ParameterSpec& spec : cmdlet.schema.parameters) {
      bool match = parser::WildcardMatch(*parameter, spec.name);
      for (const std::string& alias : spec.aliases) {
        match = match || parser::WildcardMatch(*parameter, alias);
      }
      if (match) text += "\n" + RenderParameterHelp(cmdlet, spec);
    }
    if (text.empty()) {
      return CmdletStatus::Error("No parameter matches criteria " + *parameter + ".");
    }
    output->text = text + "\n";
    return CmdletStatus::Ok();
  }
  output->text = RenderHelp(cmdlet, args.GetSwitch("Detailed") || args.GetSwitch("Full"));
  return CmdletStatus::Ok();
}

}  // namespace

void RegisterHelpCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Get-Command",
                 {
                     {.name = "Name", .type = ParamType::kStringList, .position = 0},
                     {.name = "Verb", .type = ParamType::kStringList},
                     {.name = "Noun", .type = ParamType::kStringList},
                 }},
      .aliases = {"gcm"},
      .handler = GetCommand,
      .default_view = CommandView(),
  });
  registry->Add(Cmdlet{
      .schema = {"Get-Help",
                 {
                     {.name = "Name", .position = 0},
                     {.name = "Detailed", .type = ParamType::kSwitch},
                     {.name = "Full", .type = ParamType::kSwitch},
                     {.name = "Parameter"},
                 }},
      .aliases = {"help"},
      .handler = GetHelp,
      .default_view = CommandView(),
  });
}

}  // namespace adminctl
