#include "adminctl/parser/lexer.h"

#include <cstdint>

namespace adminctl::parser {
namespace {

// PowerShell also accepts the typographic dashes and quotes that word processors and web
// pages substitute; admins paste commands from documentation, so we accept them too.
enum class Special { kNone, kDash, kSingleQuote, kDoubleQuote };

struct SpecialChar {
  Special kind = Special::kNone;
  size_t length = 0;
};

SpecialChar SpecialAt(std::string_view s, size_t i) {
  if (i >= s.size()) return {};
  const char c = s[i];
  if (c == '-') return {Special::kDash, 1};
  if (c == '\'') return {Special::kSingleQuote, 1};
  if (c == '"') return {Special::kDoubleQuote, 1};
  if (static_cast<uint8_t>(c) == 0xE2 && i + 2 < s.size() &&
      static_cast<uint8_t>(s[i + 1]) == 0x80) {
    const uint8_t third = static_cast<uint8_t>(s[i + 2]);
    if (third >= 0x93 && third <= 0x95) return {Special::kDash, 3};         // – — ―
    if (third >= 0x98 && third <= 0x9B) return {Special::kSingleQuote, 3};  // ‘ ’ ‚ ‛
    if (third >= 0x9C && third <= 0x9E) return {Special::kDoubleQuote, 3};  // “ ” „
  }
  return {};
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// The character produced by a backtick escape (`n, `t, ...); others stand for themselves.
char Unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case '0':
      return '\0';
    case 'a':
      return '\a';
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'v':
      return '\v';
    default:
      return c;
  }
}

class Lexer {
 public:
  Lexer(std::string_view input, const LexerLimits& limits) : in_(input), limits_(limits) {}

  Result<std::vector<Token>> Run() {
    if (in_.size() > limits_.max_line_bytes) {
      return Error{limits_.max_line_bytes, 1,
                   "The command line is " + std::to_string(in_.size()) +
                       " bytes long; the limit is " + std::to_string(limits_.max_line_bytes) +
                       " bytes."};
    }
    while (true) {
      SkipSpaceAndComments();
      if (pos_ >= in_.size()) break;
      if (tokens_.size() >= limits_.max_tokens) {
        return Error{
            pos_, 1,
            "The command line has more than " + std::to_string(limits_.max_tokens) + " tokens."};
      }
      if (auto error = Next(); !error.message.empty()) return error;
    }
    Token end;
    end.kind = TokenKind::kEnd;
    end.offset = in_.size();
    tokens_.push_back(end);
    return std::move(tokens_);
  }

 private:
  void SkipSpaceAndComments() {
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (IsSpace(c)) {
        ++pos_;
      } else if (c == '`' && pos_ + 1 < in_.size() &&
                 (in_[pos_ + 1] == '\n' || in_[pos_ + 1] == '\r')) {
        // Line continuation: backtick at the end of a line.
        pos_ += 2;
        if (pos_ < in_.size() && in_[pos_ - 1] == '\r' && in_[pos_] == '\n') ++pos_;
      } else if (c == '#') {
        while (pos_ < in_.size() && in_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  void Push(TokenKind kind, size_t start, std::string text = {}) {
    Token t;
    t.kind = kind;
    t.offset = start;
    t.length = pos_ - start;
    t.text = std::move(text);
    tokens_.push_back(std::move(t));
  }

  bool InHash() const { return !brackets_.empty() && brackets_.back() == '{'; }

  void Close(char open) {
    if (!brackets_.empty() && brackets_.back() == open) brackets_.pop_back();
  }

  // Lexes one token at pos_. Returns an Error with an empty message on success.
  Error Next() {
    const size_t start = pos_;
    const char c = in_[pos_];
    switch (c) {
      case '\n':
        ++pos_;
        Push(TokenKind::kSemicolon, start, "\n");
        return {};
      case ';':
        ++pos_;
        Push(TokenKind::kSemicolon, start, ";");
        return {};
      case ',':
        ++pos_;
        Push(TokenKind::kComma, start, ",");
        return {};
      case '|':
        ++pos_;
        Push(TokenKind::kPipe, start, "|");
        return {};
      case '(':
        ++pos_;
        brackets_.push_back('(');
        Push(TokenKind::kLParen, start, "(");
        return {};
      case ')':
        ++pos_;
        Close('(');
        Push(TokenKind::kRParen, start, ")");
        return {};
      case '}':
        ++pos_;
        Close('{');
        Push(TokenKind::kRBrace, start, "}");
        return {};
      case '{':
        return Error{start, 1, "Script blocks ({ ... }) are not supported."};
      default:
        break;
    }
    if (c == '=' && InHash()) {
      ++pos_;
      Push(TokenKind::kEquals, start, "=");
      return {};
    }
    if (c == '@' && pos_ + 1 < in_.size() && in_[pos_ + 1] == '{') {
      pos_ += 2;
      brackets_.push_back('{');
      Push(TokenKind::kHashStart, start, "@{");
      return {};
    }
    if (c == '$' && pos_ + 1 < in_.size() && IsNameChar(in_[pos_ + 1])) {
      ++pos_;
      while (pos_ < in_.size() && IsNameChar(in_[pos_])) ++pos_;
      Push(TokenKind::kVariable, start, std::string(in_.substr(start + 1, pos_ - start - 1)));
      return {};
    }
    const SpecialChar dash = SpecialAt(in_, pos_);
    if (dash.kind == Special::kDash && pos_ + dash.length < in_.size() &&
        (IsLetter(in_[pos_ + dash.length]) || in_[pos_ + dash.length] == '?')) {
      return Parameter(start, dash.length);
    }
    return Word(start);
  }

  bool EndsBareWord(size_t i) const {
    const char c = in_[i];
    if (IsSpace(c)) return true;
    switch (c) {
      case '\n':
      case ';':
      case ',':
      case '|':
      case '(':
      case ')':
      case '{':
      case '}':
        return true;
      case '=':
        return InHash();
      default:
        return false;
    }
  }

  Error Parameter(size_t start, size_t dash_length) {
    pos_ += dash_length;
    const size_t name_start = pos_;
    while (pos_ < in_.size() && !EndsBareWord(pos_) && in_[pos_] != ':' &&
           SpecialAt(in_, pos_).kind != Special::kSingleQuote &&
           SpecialAt(in_, pos_).kind != Special::kDoubleQuote) {
      ++pos_;
    }
    std::string name(in_.substr(name_start, pos_ - name_start));
    bool colon = false;
    if (pos_ < in_.size() && in_[pos_] == ':') {
      colon = true;
      ++pos_;
    }
    Push(TokenKind::kParameter, start, std::move(name));
    tokens_.back().has_colon = colon;
    return {};
  }

  // A word: adjacent bare, single-quoted and double-quoted pieces, concatenated.
  Error Word(size_t start) {
    std::string text;
    bool quoted = false;
    while (pos_ < in_.size() && !EndsBareWord(pos_)) {
      const SpecialChar sc = SpecialAt(in_, pos_);
      if (sc.kind == Special::kSingleQuote) {
        quoted = true;
        if (auto e = SingleQuoted(sc.length, &text); !e.message.empty()) return e;
      } else if (sc.kind == Special::kDoubleQuote) {
        quoted = true;
        if (auto e = DoubleQuoted(sc.length, &text); !e.message.empty()) return e;
      } else if (in_[pos_] == '`') {
        ++pos_;
        if (pos_ < in_.size()) text.push_back(Unescape(in_[pos_++]));
      } else {
        text.push_back(in_[pos_++]);
      }
    }
    Push(TokenKind::kWord, start, std::move(text));
    tokens_.back().quoted = quoted;
    return {};
  }

  // 'text': no escapes except '' for one quote.
  Error SingleQuoted(size_t quote_length, std::string* text) {
    const size_t open = pos_;
    pos_ += quote_length;
    while (pos_ < in_.size()) {
      const SpecialChar sc = SpecialAt(in_, pos_);
      if (sc.kind == Special::kSingleQuote) {
        if (SpecialAt(in_, pos_ + sc.length).kind == Special::kSingleQuote) {
          text->push_back('\'');
          pos_ += sc.length + SpecialAt(in_, pos_ + sc.length).length;
          continue;
        }
        pos_ += sc.length;
        return {};
      }
      text->push_back(in_[pos_++]);
    }
    return Error{open, in_.size() - open, "The string is missing the terminator: '."};
  }

  // "text": backtick escapes (`" `` `$ `n ...) and "" for one quote; $variables are kept as
  // literal text (there is nothing to expand them to).
  Error DoubleQuoted(size_t quote_length, std::string* text) {
    const size_t open = pos_;
    pos_ += quote_length;
    while (pos_ < in_.size()) {
      const SpecialChar sc = SpecialAt(in_, pos_);
      if (sc.kind == Special::kDoubleQuote) {
        if (SpecialAt(in_, pos_ + sc.length).kind == Special::kDoubleQuote) {
          text->push_back('"');
          pos_ += sc.length + SpecialAt(in_, pos_ + sc.length).length;
          continue;
        }
        pos_ += sc.length;
        return {};
      }
      if (in_[pos_] == '`' && pos_ + 1 < in_.size()) {
        const SpecialChar escaped = SpecialAt(in_, pos_ + 1);
        if (escaped.kind == Special::kDoubleQuote) {
          text->append(in_.substr(pos_ + 1, escaped.length));
          pos_ += 1 + escaped.length;
        } else {
          text->push_back(Unescape(in_[pos_ + 1]));
          pos_ += 2;
        }
        continue;
      }
      text->push_back(in_[pos_++]);
    }
    return Error{open, in_.size() - open, "The string is missing the terminator: \"."};
  }

  std::string_view in_;
  const LexerLimits& limits_;
  size_t pos_ = 0;
  std::vector<char> brackets_;  // Open '(' and '{' (from "@{"), innermost last.
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> Lex(std::string_view input, const LexerLimits& limits) {
  return Lexer(input, limits).Run();
}

std::string TokenDisplay(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of line";
    case TokenKind::kSemicolon:
      return token.text == "\n" ? "newline" : "';'";
    case TokenKind::kParameter:
      return "'-" + token.text + (token.has_colon ? ":'" : "'");
    case TokenKind::kVariable:
      return "'$" + token.text + "'";
    default:
      return "'" + token.text + "'";
  }
}

}  // namespace adminctl::parser
