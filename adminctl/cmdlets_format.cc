// Format-List (fl), Format-Table (ft) and ConvertTo-Json: render the objects piped into them.
#include <cstdio>

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

// A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped;
// bytes >= 0x80 are passed through (the values are UTF-8).
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", u);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

// ConvertTo-Json: the objects as a JSON array of objects, every property a string, in the
// order the cmdlet gave them (for scripts: `adminctl Get-Mailbox | ConvertTo-Json`).
CmdletStatus ConvertToJsonHandler(const BoundCommand& args, const std::vector<Record>& input,
                                  CmdletContext&, CmdletOutput* output) {
  std::vector<std::string> patterns;
  if (CmdletStatus s = PropertyPatterns(args, &patterns); !s.ok()) return s;
  const bool compress = args.GetSwitch("Compress");
  const char* nl = compress ? "" : "\n";
  const char* indent = compress ? "" : "  ";
  const char* indent2 = compress ? "" : "    ";
  std::string out = "[";
  out += nl;
  for (size_t i = 0; i < input.size(); ++i) {
    const Record& r = input[i];
    std::vector<std::string> names;
    if (patterns.empty()) {
      for (const auto& p : r.properties()) names.push_back(p.name);
    } else {
      names = SelectProperties(r, patterns, /*keep_missing=*/false);
    }
    out += indent;
    out += "{";
    out += nl;
    for (size_t j = 0; j < names.size(); ++j) {
      const std::string* value = r.Find(names[j]);
      out += indent2 + JsonString(names[j]) + (compress ? ":" : ": ") +
             JsonString(value != nullptr ? *value : "");
      if (j + 1 < names.size()) out += ",";
      out += nl;
    }
    out += indent;
    out += "}";
    if (i + 1 < input.size()) out += ",";
    out += nl;
  }
  out += "]\n";
  output->text = std::move(out);
  return CmdletStatus::Ok();
}

}  // namespace

void RegisterFormatCmdlets(CmdletRegistry* registry) {
  registry->Add(Cmdlet{
      .schema = {"ConvertTo-Json",
                 {
                     {.name = "Property", .type = ParamType::kStringList, .position = 0},
                     {.name = "Compress", .type = ParamType::kSwitch},
                 }},
      .handler = ConvertToJsonHandler,
      .formatter = true,
  });
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
