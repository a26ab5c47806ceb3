// Parser for PowerShell-style command lines: statements of pipelines of commands, each a
// cmdlet name followed by parameters and arguments. Pure: no I/O, bounded by ParserLimits.
//
//   script     := (pipeline (';' | newline))* pipeline?
//   pipeline   := command ('|' command)*
//   command    := NAME (PARAMETER | PARAMETER: expression | expression)*
//   expression := primary (',' primary)*
//   primary    := WORD | $VARIABLE | '(' pipeline ')' | '@{' (key '=' expression ';')* '}'
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adminctl/parser/lexer.h"
#include "adminctl/parser/result.h"

namespace adminctl::parser {

struct Pipeline;

// An argument value as written, before it is converted to a parameter's type.
struct Expression {
  enum class Kind {
    kWord,         // text: the unquoted/unescaped text; quoted: whether any part was quoted.
    kVariable,     // text: the variable name ("true", "false", "null", ...).
    kList,         // items: the elements of a,b,c.
    kHashtable,    // keys[i] = items[i].
    kSubPipeline,  // pipeline: the command inside ( ... ).
  };
  Kind kind = Kind::kWord;
  size_t offset = 0;
  size_t length = 0;
  std::string text;
  bool quoted = false;
  std::vector<Expression> items;
  std::vector<std::string> keys;
  std::shared_ptr<const Pipeline> pipeline;
};

struct CommandElement {
  enum class Kind { kParameter, kArgument };
  Kind kind = Kind::kArgument;
  size_t offset = 0;
  size_t length = 0;
  std::string parameter_name;  // kParameter: the name as written, without '-'.
  bool has_colon = false;      // kParameter: -Name:value form.
  // kArgument: the argument. kParameter: the value after ':' if any.
  std::optional<Expression> value;
};

struct Command {
  std::string name;  // As written; cmdlet lookup is case-insensitive.
  size_t name_offset = 0;
  size_t name_length = 0;
  std::vector<CommandElement> elements;
};

struct Pipeline {
  std::vector<Command> commands;  // Never empty.
};

struct Script {
  std::vector<Pipeline> pipelines;  // Empty for a blank or comment-only line.
};

struct ParserLimits {
  LexerLimits lexer;
  // Deepest nesting of ( ... ) and @{ ... }. Default: 8.
  size_t max_nesting = 8;
};

// Parses one line (or a script fragment; newlines separate statements like ';').
Result<Script> Parse(std::string_view input, const ParserLimits& limits = {});

}  // namespace adminctl::parser
