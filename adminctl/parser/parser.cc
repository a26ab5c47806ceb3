#include "adminctl/parser/parser.h"

#include <algorithm>
#include <utility>

#include "adminctl/parser/strings.h"

namespace adminctl::parser {
namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const ParserLimits& limits)
      : tokens_(tokens), limits_(limits) {}

  Result<Script> Run() {
    Script script;
    while (true) {
      while (Peek().kind == TokenKind::kSemicolon) ++pos_;
      if (Peek().kind == TokenKind::kEnd) break;
      Pipeline pipeline;
      if (!ParsePipeline(&pipeline)) return error_;
      script.pipelines.push_back(std::move(pipeline));
      const Token& t = Peek();
      if (t.kind == TokenKind::kSemicolon || t.kind == TokenKind::kEnd) continue;
      return Fail(t, "Unexpected token " + TokenDisplay(t) + " in expression or statement.");
    }
    return script;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }

  bool Fail(size_t offset, size_t length, std::string message) {
    error_ = Error{offset, std::max<size_t>(length, 1), std::move(message)};
    return false;
  }
  Error Fail(const Token& t, std::string message) {
    Fail(t.offset, t.length, std::move(message));
    return error_;
  }

  bool ParsePipeline(Pipeline* pipeline) {
    while (true) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kPipe || t.kind == TokenKind::kEnd ||
          t.kind == TokenKind::kSemicolon || t.kind == TokenKind::kRParen) {
        if (!pipeline->commands.empty() || t.kind == TokenKind::kPipe) {
          return Fail(t.offset, t.length, "An empty pipe element is not allowed.");
        }
      }
      Command command;
      if (!ParseCommand(&command)) return false;
      pipeline->commands.push_back(std::move(command));
      if (Peek().kind != TokenKind::kPipe) return true;
      ++pos_;
    }
  }

  bool ParseCommand(Command* command) {
    const Token& name = Peek();
    if (name.kind != TokenKind::kWord || name.quoted) {
      return Fail(name.offset, name.length,
                  "Expected a cmdlet name (Verb-Noun) but found " + TokenDisplay(name) + ".");
    }
    command->name = name.text;
    command->name_offset = name.offset;
    command->name_length = name.length;
    ++pos_;
    while (true) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kParameter) {
        CommandElement element;
        element.kind = CommandElement::Kind::kParameter;
        element.offset = t.offset;
        element.length = t.length;
        element.parameter_name = t.text;
        element.has_colon = t.has_colon;
        ++pos_;
        if (t.has_colon && StartsPrimary(Peek())) {
          Expression value;
          if (!ParseExpression(&value)) return false;
          element.length = value.offset + value.length - element.offset;
          element.value = std::move(value);
        }
        command->elements.push_back(std::move(element));
      } else if (StartsPrimary(t)) {
        CommandElement element;
        element.kind = CommandElement::Kind::kArgument;
        Expression value;
        if (!ParseExpression(&value)) return false;
        element.offset = value.offset;
        element.length = value.length;
        element.value = std::move(value);
        command->elements.push_back(std::move(element));
      } else if (t.kind == TokenKind::kComma) {
        return Fail(t.offset, t.length, "Missing argument in parameter list.");
      } else {
        return true;  // '|', ';', ')', '}' or the end: the caller decides.
      }
    }
  }

  static bool StartsPrimary(const Token& t) {
    return t.kind == TokenKind::kWord || t.kind == TokenKind::kVariable ||
           t.kind == TokenKind::kLParen || t.kind == TokenKind::kHashStart;
  }

  bool ParseExpression(Expression* out) {
    Expression first;
    if (!ParsePrimary(&first)) return false;
    if (Peek().kind != TokenKind::kComma) {
      *out = std::move(first);
      return true;
    }
    Expression list;
    list.kind = Expression::Kind::kList;
    list.offset = first.offset;
    list.items.push_back(std::move(first));
    while (Peek().kind == TokenKind::kComma) {
      const Token& comma = Peek();
      ++pos_;
      if (!StartsPrimary(Peek())) {
        return Fail(comma.offset, comma.length, "Missing expression after ','.");
      }
      Expression item;
      if (!ParsePrimary(&item)) return false;
      list.items.push_back(std::move(item));
    }
    const Expression& last = list.items.back();
    list.length = last.offset + last.length - list.offset;
    *out = std::move(list);
    return true;
  }

  bool ParsePrimary(Expression* out) {
    const Token& t = Peek();
    out->offset = t.offset;
    out->length = t.length;
    switch (t.kind) {
      case TokenKind::kWord:
        out->kind = Expression::Kind::kWord;
        out->text = t.text;
        out->quoted = t.quoted;
        ++pos_;
        return true;
      case TokenKind::kVariable:
        out->kind = Expression::Kind::kVariable;
        out->text = t.text;
        ++pos_;
        return true;
      case TokenKind::kLParen:
        return ParseSubPipeline(out);
      case TokenKind::kHashStart:
        return ParseHashtable(out);
      default:
        return Fail(t.offset, t.length, "Unexpected token " + TokenDisplay(t) + ".");
    }
  }

  bool Enter(const Token& t) {
    if (++depth_ > limits_.max_nesting) {
      return Fail(t.offset, t.length,
                  "The command line nests ( ) or @{ } more than " +
                      std::to_string(limits_.max_nesting) + " levels deep.");
    }
    return true;
  }

  bool ParseSubPipeline(Expression* out) {
    const Token& open = Peek();
    if (!Enter(open)) return false;
    ++pos_;
    while (Peek().kind == TokenKind::kSemicolon && Peek().text == "\n") ++pos_;
    auto pipeline = std::make_shared<Pipeline>();
    if (!ParsePipeline(pipeline.get())) return false;
    while (Peek().kind == TokenKind::kSemicolon && Peek().text == "\n") ++pos_;
    const Token& close = Peek();
    if (close.kind != TokenKind::kRParen) {
      if (close.kind == TokenKind::kEnd) {
        return Fail(open.offset, open.length, "Missing closing ')' in expression.");
      }
      return Fail(close.offset, close.length,
                  "Unexpected token " + TokenDisplay(close) + " in expression or statement.");
    }
    ++pos_;
    --depth_;
    out->kind = Expression::Kind::kSubPipeline;
    out->offset = open.offset;
    out->length = close.offset + close.length - open.offset;
    out->pipeline = std::move(pipeline);
    return true;
  }

  bool ParseHashtable(Expression* out) {
    const Token& open = Peek();
    if (!Enter(open)) return false;
    ++pos_;
    out->kind = Expression::Kind::kHashtable;
    while (true) {
      while (Peek().kind == TokenKind::kSemicolon) ++pos_;
      const Token& t = Peek();
      if (t.kind == TokenKind::kRBrace) {
        ++pos_;
        --depth_;
        out->offset = open.offset;
        out->length = t.offset + t.length - open.offset;
        return true;
      }
      if (t.kind == TokenKind::kEnd) {
        return Fail(open.offset, open.length, "The hash literal was incomplete.");
      }
      if (t.kind != TokenKind::kWord) {
        return Fail(t.offset, t.length, "Missing key before '=' in hash literal.");
      }
      for (const std::string& key : out->keys) {
        if (EqualsIgnoreCase(key, t.text)) {
          return Fail(t.offset, t.length,
                      "Duplicate keys '" + t.text + "' are not allowed in hash literals.");
        }
      }
      ++pos_;
      if (Peek().kind != TokenKind::kEquals) {
        const Token& after = Peek();
        return Fail(after.offset, after.length, "Missing '=' operator after key in hash literal.");
      }
      const Token& equals = Peek();
      ++pos_;
      if (!StartsPrimary(Peek())) {
        return Fail(equals.offset, equals.length, "Missing statement after '=' in hash literal.");
      }
      Expression value;
      if (!ParseExpression(&value)) return false;
      out->keys.push_back(t.text);
      out->items.push_back(std::move(value));
      const Token& next = Peek();
      if (next.kind != TokenKind::kSemicolon && next.kind != TokenKind::kRBrace) {
        if (next.kind == TokenKind::kEnd) {
          return Fail(open.offset, open.length, "The hash literal was incomplete.");
        }
        return Fail(next.offset, next.length,
                    "Unexpected token " + TokenDisplay(next) + " in hash literal.");
      }
    }
  }

  const std::vector<Token>& tokens_;
  const ParserLimits& limits_;
  size_t pos_ = 0;
  size_t depth_ = 0;
  Error error_;
};

}  // namespace

Result<Script> Parse(std::string_view input, const ParserLimits& limits) {
  Result<std::vector<Token>> tokens = Lex(input, limits.lexer);
  if (!tokens.ok()) return tokens.error();
  return Parser(tokens.value(), limits).Run();
}

}  // namespace adminctl::parser
