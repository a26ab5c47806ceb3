// Format-List (fl) and Format-Table (ft): render the objects piped into them.
#include "adminctl/cmdlet.h"

namespace adminctl {
namespace {

using parser::BoundCommand;
using parser::ParamType;

CmdletStatus PropertyPatterns(const BoundCommand& args, std::vector<std::string>* patterns) {
  std::optional<parser::MultiValue> property = args.GetStringList("Property");
  if (!property) return CmdletStatus::Ok();
  if (property->is_delta) {
    return CmdletStatus::Error("-Property takes property names such as Name,*Quota*, not @{...}.");
  }
  *patterns = property->values;
  return CmdletStatus::Ok();
}

CmdletStatus FormatListHandler(const BoundCommand& args, const std::vector<Record>& input,
                               CmdletContext&, CmdletOutput* output) {
  std::vector<std::string> patterns;
  if (CmdletStatus s = PropertyPatterns(args, &patterns); !s.ok()) return s;
  output->text = FormatList(input, patterns);
  return CmdletStatus::Ok();
}

CmdletStatus FormatTableHandler(const BoundCommand& args, const std::vector<Record>& input,
                                CmdletContext& context, CmdletOutput* output) {
  std::vector<std::string> patterns;
  if (CmdletStatus s = PropertyPatterns(args, &patterns); !s.ok()) return s;
  if (patterns.empty() && context.input_view != nullptr &&
      context.input_view->kind == View::Kind::kTable) {
    patterns = context.input_view->columns;
  }
  output->text = FormatTable(input, patterns);
  return CmdletStatus::Ok();
}

}  // namespace

void RegisterFormatCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"Format-List",
                 {{.name = "Property", .type = ParamType::kStringList, .position = 0}}},
      .aliases = {"fl"},
      .handler = FormatListHandler,
      .formatter = true,
  });
  registry->Add(Cmdlet{
      .schema = {"Format-Table",
                 {
                     {.name = "Property", .type = ParamType::kStringList, .position = 0},
                     // Accepted for familiarity; columns are always sized to fit.
                     {.name = "AutoSize", .type = ParamType::kSwitch},
                     {.name = "Wrap", .type = ParamType::kSwitch},
                 }},
      .aliases = {"ft"},
      .handler = FormatTableHandler,
      .formatter = true,
  });
}

}  // namespace adminctl
