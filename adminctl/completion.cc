#include "adminctl/completion.h"

#include <algorithm>
#include <optional>

#include "adminctl/parser/binder.h"
#include "adminctl/parser/lexer.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using parser::ParameterSpec;
using parser::ParamType;
using parser::Token;
using parser::TokenKind;

// One word of the command being completed: a token, and whether a ',' came before it (it
// continues the previous argument's list).
struct Word {
  Token token;
  bool after_comma = false;
};

// A command (from its start after '|', ';', '(' or the line start) or an @{ ... } literal.
struct Frame {
  bool hashtable = false;
  std::vector<Word> words;  // words[0] is the command name.
  bool comma_pending = false;
};

// Stands for a whole "( ... )" or "@{ ... }" argument once it is closed.
Token Placeholder(size_t offset) {
  Token t;
  t.kind = TokenKind::kWord;
  t.offset = offset;
  t.quoted = true;
  return t;
}

bool EndsAt(const Token& t, size_t end) { return t.offset + t.length == end; }

void AddMatching(std::string_view prefix, std::string_view candidate,
                 std::vector<std::string>* out) {
  if (parser::StartsWithIgnoreCase(candidate, prefix)) out->emplace_back(candidate);
}

Completion CmdletNames(const CmdletRegistry& registry, std::string_view prefix, size_t start) {
  Completion c{start, {}};
  for (const Cmdlet& cmdlet : registry.cmdlets()) {
    AddMatching(prefix, cmdlet.schema.name, &c.candidates);
    if (prefix.empty()) continue;  // Aliases only once something is typed.
    for (const std::string& alias : cmdlet.aliases) AddMatching(prefix, alias, &c.candidates);
  }
  std::sort(c.candidates.begin(), c.candidates.end(),
            [](const std::string& a, const std::string& b) {
              return parser::AsciiLower(a) < parser::AsciiLower(b);
            });
  c.candidates.erase(std::unique(c.candidates.begin(), c.candidates.end(),
                                 [](const std::string& a, const std::string& b) {
                                   return parser::EqualsIgnoreCase(a, b);
                                 }),
                     c.candidates.end());
  return c;
}

// The parameter a word names (exact, alias or unique prefix), or nullptr.
const ParameterSpec* Resolve(const Cmdlet& cmdlet, std::string_view written) {
  parser::Result<size_t> index = parser::ResolveParameter(cmdlet.schema, written);
  if (!index.ok()) return nullptr;
  return &cmdlet.schema.parameters[index.value()];
}

Completion ParameterNames(const Cmdlet& cmdlet, const Frame& frame, std::string_view prefix,
                          size_t start) {
  std::vector<bool> given(cmdlet.schema.parameters.size(), false);
  for (const Word& w : frame.words) {
    if (w.token.kind != TokenKind::kParameter) continue;
    if (const ParameterSpec* spec = Resolve(cmdlet, w.token.text)) {
      given[static_cast<size_t>(spec - cmdlet.schema.parameters.data())] = true;
    }
  }
  Completion c{start, {}};
  for (size_t i = 0; i < cmdlet.schema.parameters.size(); ++i) {
    const ParameterSpec& spec = cmdlet.schema.parameters[i];
    if (given[i]) continue;
    bool match = parser::StartsWithIgnoreCase(spec.name, prefix);
    for (const std::string& alias : spec.aliases) {
      match = match || (!prefix.empty() && parser::StartsWithIgnoreCase(alias, prefix));
    }
    if (match) c.candidates.push_back("-" + spec.name);
  }
  return c;
}

// The values offered for `spec`; `colon`: written as -Name: (a switch then takes a value).
std::vector<std::string> ValuesOf(const ParameterSpec& spec, bool colon) {
  if (spec.type == ParamType::kBool || (spec.type == ParamType::kSwitch && colon)) {
    return {"$true", "$false"};
  }
  if (spec.type == ParamType::kSwitch) return {};
  return spec.enum_values;
}

Completion Values(const ParameterSpec& spec, bool colon, std::string_view prefix, size_t start) {
  Completion c{start, {}};
  for (const std::string& value : ValuesOf(spec, colon)) {
    // "$true" also matches what was typed without the '$' ("tr").
    if (parser::StartsWithIgnoreCase(value, prefix) ||
        (value.starts_with('$') && parser::StartsWithIgnoreCase(value.substr(1), prefix))) {
      c.candidates.push_back(value);
    }
  }
  return c;
}

}  // namespace

Completion Complete(const CmdletRegistry& registry, std::string_view line) {
  const size_t end = line.size();
  parser::Result<std::vector<Token>> lexed = parser::Lex(line);
  if (!lexed.ok()) return {end, {}};  // Inside an unterminated string, or too long.
  std::vector<Token> tokens = std::move(lexed).value();
  tokens.pop_back();  // kEnd.

  // The word being completed: the last token when it reaches the cursor.
  std::optional<Token> current;
  if (!tokens.empty() && EndsAt(tokens.back(), end)) {
    const TokenKind k = tokens.back().kind;
    if (k == TokenKind::kWord || k == TokenKind::kVariable ||
        (k == TokenKind::kParameter && !tokens.back().has_colon)) {
      current = tokens.back();
      tokens.pop_back();
    }
  }
  // Text after the last token that is not blank is a comment ("# ...").
  const size_t tail = tokens.empty() ? 0 : tokens.back().offset + tokens.back().length;
  if (!current) {
    for (size_t i = tail; i < end; ++i) {
      if (line[i] != ' ' && line[i] != '\t') return {end, {}};
    }
  }

  std::vector<Frame> frames(1);
  for (const Token& t : tokens) {
    Frame& top = frames.back();
    switch (t.kind) {
      case TokenKind::kPipe:
      case TokenKind::kSemicolon:
        if (!top.hashtable) top = Frame();
        break;
      case TokenKind::kLParen:
        frames.push_back(Frame());
        break;
      case TokenKind::kHashStart:
        frames.push_back(Frame());
        frames.back().hashtable = true;
        break;
      case TokenKind::kRParen:
      case TokenKind::kRBrace:
        if (frames.size() > 1) frames.pop_back();
        frames.back().words.push_back({Placeholder(t.offset), frames.back().comma_pending});
        frames.back().comma_pending = false;
        break;
      case TokenKind::kComma:
        top.comma_pending = true;
        break;
      case TokenKind::kEquals:
      case TokenKind::kEnd:
        break;
      case TokenKind::kWord:
      case TokenKind::kVariable:
      case TokenKind::kParameter:
        top.words.push_back({t, top.comma_pending});
        top.comma_pending = false;
        break;
    }
  }
  const Frame& frame = frames.back();
  if (frame.hashtable) return {end, {}};
  if (current && current->kind == TokenKind::kWord && current->quoted) return {end, {}};

  const size_t start = current ? current->offset : end;
  const std::string_view typed = line.substr(start);
  if (frame.words.empty()) {
    if (current && current->kind != TokenKind::kWord) return {end, {}};
    return CmdletNames(registry, typed, start);
  }
  const Token& name = frame.words.front().token;
  if (name.kind != TokenKind::kWord || name.quoted) return {end, {}};
  const Cmdlet* cmdlet = registry.Find(name.text);
  if (cmdlet == nullptr) return {end, {}};

  // "-Pre" (a parameter token) or a lone "-" (a word to the lexer).
  if (current && (current->kind == TokenKind::kParameter ||
                  (current->kind == TokenKind::kWord && current->text == "-"))) {
    const std::string_view prefix =
        current->kind == TokenKind::kParameter ? std::string_view(current->text) : "";
    return ParameterNames(*cmdlet, frame, prefix, start);
  }
  if (current && current->kind == TokenKind::kWord && current->text.starts_with('-')) {
    return {end, {}};  // A negative number.
  }

  // A value: the previous word must be a parameter that takes one.
  if (frame.words.size() < 2 || (current && frame.comma_pending)) return {end, {}};
  const Word& previous = frame.words.back();
  if (previous.token.kind != TokenKind::kParameter) return {end, {}};
  const ParameterSpec* spec = Resolve(*cmdlet, previous.token.text);
  if (spec == nullptr) return {end, {}};
  // "-Confirm <TAB>": a switch takes no separate value. "-Confirm:<TAB>" does.
  const bool colon = previous.token.has_colon;
  return Values(*spec, colon, typed, start);
}

std::string CommonPrefix(const std::vector<std::string>& candidates) {
  if (candidates.empty()) return "";
  size_t length = candidates.front().size();
  for (const std::string& c : candidates) {
    size_t i = 0;
    while (i < length && i < c.size() &&
           parser::AsciiLower(c[i]) == parser::AsciiLower(candidates.front()[i])) {
      ++i;
    }
    length = i;
  }
  return candidates.front().substr(0, length);
}

TabAction ChooseTabAction(std::string_view line, const Completion& completion) {
  if (completion.candidates.empty() || completion.start > line.size()) return {};
  const std::string_view typed = line.substr(completion.start);
  if (completion.candidates.size() == 1) {
    return {TabAction::Kind::kReplace, completion.candidates.front() + " "};
  }
  std::string prefix = CommonPrefix(completion.candidates);
  if (prefix.size() > typed.size()) {
    return {TabAction::Kind::kReplace, std::move(prefix)};
  }
  return {TabAction::Kind::kList, ""};
}

std::string FormatCandidates(const std::vector<std::string>& candidates, size_t width) {
  if (candidates.empty()) return "";
  size_t widest = 0;
  for (const std::string& c : candidates) widest = std::max(widest, c.size());
  const size_t column = widest + 2;
  const size_t columns = std::max<size_t>(1, (width + 2) / column);
  const size_t rows = (candidates.size() + columns - 1) / columns;
  std::string out;
  for (size_t row = 0; row < rows; ++row) {
    std::string line;
    for (size_t col = 0; col < columns; ++col) {
      const size_t i = col * rows + row;
      if (i >= candidates.size()) break;
      if (!line.empty()) line.append(column * col - line.size(), ' ');
      line += candidates[i];
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace adminctl
