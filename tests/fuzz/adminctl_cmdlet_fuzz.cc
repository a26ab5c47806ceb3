// libFuzzer target for adminctl's cmdlet parser: the lexer, the parser and the parameter
// binder (against a schema with every parameter type), and the error rendering, on the same
// line. The admin shell and the TCP admin clients feed it text from people and scripts.
//
//   clang++ -std=c++20 -Iadminctl -I. -fsanitize=fuzzer,address,undefined
//     -o adminctl_cmdlet_fuzz tests/fuzz/adminctl_cmdlet_fuzz.cc adminctl/parser/*.cc
//   ./adminctl_cmdlet_fuzz tests/fuzz/corpus/adminctl_cmdlet
//
// Checks, besides "no crash": every error points inside the line (or just past its end), the
// tokens are in order and inside the line, so is each command name, and binding either
// fails with an error or gives values of the declared types.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/parser/binder.h"
#include "adminctl/parser/lexer.h"
#include "adminctl/parser/parser.h"
#include "adminctl/parser/strings.h"

namespace {

using adminctl::parser::BindOptions;
using adminctl::parser::CommandSchema;
using adminctl::parser::Error;
using adminctl::parser::ParamType;

void Require(bool condition) {
  if (!condition) std::abort();
}

const CommandSchema& Schema() {
  static const CommandSchema schema{
      "Set-Thing",
      {
          {.name = "Identity", .type = ParamType::kString, .mandatory = true, .position = 0,
           .from_pipeline = true},
          {.name = "Enabled", .type = ParamType::kBool},
          {.name = "MaxCount", .type = ParamType::kInt, .allow_unlimited = true},
          {.name = "Quota", .type = ParamType::kSize, .aliases = {"ProhibitSendQuota"}},
          {.name = "Level", .type = ParamType::kEnum, .enum_values = {"None", "Verbose"}},
          {.name = "EmailAddresses", .type = ParamType::kStringList, .position = 1},
          {.name = "Confirm", .type = ParamType::kSwitch},
          {.name = "Password", .type = ParamType::kSecureString},
          {.name = "Name", .type = ParamType::kString},
      }};
  return schema;
}

void CheckError(std::string_view line, const Error& e) {
  Require(e.offset <= line.size());
  Require(!e.message.empty());
  (void)adminctl::parser::RenderError(line, e, "ParserError");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);

  auto tokens = adminctl::parser::Lex(line);
  if (!tokens.ok()) {
    CheckError(line, tokens.error());
  } else {
    Require(!tokens.value().empty());
    size_t previous = 0;
    for (const auto& t : tokens.value()) {
      Require(t.offset >= previous && t.offset <= line.size());
      Require(t.offset + t.length <= line.size());
      previous = t.offset;
      (void)adminctl::parser::TokenDisplay(t);
    }
  }

  auto script = adminctl::parser::Parse(line);
  if (!script.ok()) {
    CheckError(line, script.error());
    return 0;
  }
  for (const auto& pipeline : script.value().pipelines) {
    Require(!pipeline.commands.empty());
    for (size_t i = 0; i < pipeline.commands.size(); ++i) {
      const auto& command = pipeline.commands[i];
      // The name may be empty (a lone backtick, or ''): the runner reports an unknown cmdlet.
      Require(command.name_offset + command.name_length <= line.size());
      BindOptions options;
      options.expect_pipeline_input = i > 0;
      auto bound = adminctl::parser::Bind(command, Schema(), options);
      if (!bound.ok()) {
        CheckError(line, bound.error());
        continue;
      }
      for (const auto& [name, value] : bound.value().values()) {
        bool known = false;
        for (const auto& p : Schema().parameters) {
          if (p.name == name) {
            known = true;
            Require(p.type == value.type);
          }
        }
        Require(known);
      }
      (void)adminctl::parser::WildcardMatch(command.name, "Set-*");
    }
  }
  return 0;
}
