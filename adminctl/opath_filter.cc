#include "adminctl/opath_filter.h"

#include <cctype>
#include <limits>
#include <optional>
#include <utility>

#include "adminctl/parser/strings.h"

namespace adminctl {

enum class CompareOp { kEq, kNe, kLike, kNotLike, kGt, kLt, kGe, kLe };
enum class ValueKind { kText, kTrue, kFalse, kNull };

struct FilterNode {
  enum class Kind { kAnd, kOr, kNot, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<std::unique_ptr<FilterNode>> children;  // kAnd, kOr: two; kNot: one.
  std::string property;
  CompareOp op = CompareOp::kEq;
  ValueKind value_kind = ValueKind::kText;
  std::string value;
};

namespace {

using parser::AsciiLower;
using parser::EqualsIgnoreCase;

struct Token {
  enum class Kind { kLParen, kRParen, kDash, kVariable, kWord, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;     // kDash: the lower-case name without '-'; kVariable: without '$'.
  size_t position = 0;  // 1-based, as Exchange reports it.
};

struct SyntaxError {
  size_t position = 0;
  std::string reason;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool EndsWord(char c) { return IsSpace(c) || c == '(' || c == ')'; }

std::optional<SyntaxError> Tokenize(std::string_view in, std::vector<Token>* out) {
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    Token t;
    t.position = i + 1;
    if (c == '(' || c == ')') {
      t.kind = c == '(' ? Token::Kind::kLParen : Token::Kind::kRParen;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '\'' || c == '"') {
      // 'text' with '' for a quote; "text" with "" or `" for a quote and ` escapes.
      t.kind = Token::Kind::kWord;
      ++i;
      bool closed = false;
      while (i < in.size()) {
        if (in[i] == c) {
          if (i + 1 < in.size() && in[i + 1] == c) {
            t.text.push_back(c);
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (c == '"' && in[i] == '`' && i + 1 < in.size()) {
          t.text.push_back(in[i + 1]);
          i += 2;
          continue;
        }
        t.text.push_back(in[i++]);
      }
      if (!closed) {
        return SyntaxError{t.position,
                           std::string("The string is missing the terminator: ") + c + "."};
      }
    } else {
      size_t start = i;
      while (i < in.size() && !EndsWord(in[i])) ++i;
      std::string word(in.substr(start, i - start));
      if (word.size() > 1 && word[0] == '-' && std::isalpha(static_cast<unsigned char>(word[1]))) {
        t.kind = Token::Kind::kDash;
        t.text = AsciiLower(word.substr(1));
      } else if (word.size() > 1 && word[0] == '$') {
        t.kind = Token::Kind::kVariable;
        t.text = AsciiLower(word.substr(1));
      } else {
        t.kind = Token::Kind::kWord;
        t.text = std::move(word);
      }
    }
    out->push_back(std::move(t));
  }
  Token end;
  end.position = in.size() + 1;
  out->push_back(end);
  return std::nullopt;
}

std::optional<CompareOp> OperatorNamed(std::string_view name) {
  static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
      {"eq", CompareOp::kEq},           {"ne", CompareOp::kNe}, {"like", CompareOp::kLike},
      {"notlike", CompareOp::kNotLike}, {"gt", CompareOp::kGt}, {"lt", CompareOp::kLt},
      {"ge", CompareOp::kGe},           {"le", CompareOp::kLe},
  };
  for (const auto& [n, op] : kOps) {
    if (n == name) return op;
  }
  return std::nullopt;
}

bool IsPropertyName(std::string_view word) {
  if (word.empty() || !std::isalpha(static_cast<unsigned char>(word[0]))) return false;
  for (char c : word) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::vector<std::string>& properties)
      : tokens_(std::move(tokens)), properties_(properties) {}

  std::unique_ptr<FilterNode> ParseAll(std::optional<SyntaxError>* error,
                                       std::string* unknown_property) {
    auto root = Or(0);
    if (root && Peek().kind != Token::Kind::kEnd) {
      Fail(Peek(), Peek().kind == Token::Kind::kRParen
                       ? "There is a ')' without a matching '('."
                       : "Expected -and, -or or the end of the filter after a comparison.");
      root.reset();
    }
    *error = error_;
    *unknown_property = unknown_property_;
    return root;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool PeekDash(std::string_view name) const {
    return Peek().kind == Token::Kind::kDash && Peek().text == name;
  }

  std::nullptr_t Fail(const Token& at, std::string reason) {
    if (!error_) error_ = SyntaxError{at.position, std::move(reason)};
    return nullptr;
  }

  static std::unique_ptr<FilterNode> Join(FilterNode::Kind kind, std::unique_ptr<FilterNode> a,
                                          std::unique_ptr<FilterNode> b) {
    auto node = std::make_unique<FilterNode>();
    node->kind = kind;
    node->children.push_back(std::move(a));
    node->children.push_back(std::move(b));
    return node;
  }

  std::unique_ptr<FilterNode> Or(size_t depth) {
    auto left = And(depth);
    while (left && PeekDash("or")) {
      Take();
      auto right = And(depth);
      if (!right) return nullptr;
      left = Join(FilterNode::Kind::kOr, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<FilterNode> And(size_t depth) {
    auto left = Unary(depth);
    while (left && PeekDash("and")) {
      Take();
      auto right = Unary(depth);
      if (!right) return nullptr;
      left = Join(FilterNode::Kind::kAnd, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<FilterNode> Unary(size_t depth) {
    if (depth >= OpathFilter::kMaxDepth) {
      return Fail(Peek(), "The filter nests parentheses and -not too deeply.");
    }
    if (PeekDash("not")) {
      Take();
      auto operand = Unary(depth + 1);
      if (!operand) return nullptr;
      auto node = std::make_unique<FilterNode>();
      node->kind = FilterNode::Kind::kNot;
      node->children.push_back(std::move(operand));
      return node;
    }
    if (Peek().kind == Token::Kind::kLParen) {
      Take();
      auto inner = Or(depth + 1);
      if (!inner) return nullptr;
      if (Peek().kind != Token::Kind::kRParen) return Fail(Peek(), "Missing closing ')'.");
      Take();
      return inner;
    }
    return Comparison();
  }

  std::unique_ptr<FilterNode> Comparison() {
    const Token& name = Take();
    if (name.kind == Token::Kind::kEnd) {
      return Fail(name, "Expected a comparison such as PopEnabled -eq $false.");
    }
    if (name.kind != Token::Kind::kWord || !IsPropertyName(name.text)) {
      return Fail(name, "Expected a property name, found '" +
                            std::string(name.kind == Token::Kind::kDash ? "-" : "") + name.text +
                            "'.");
    }
    std::string property = name.text;
    if (!properties_.empty()) {
      bool known = false;
      for (const std::string& p : properties_) {
        if (EqualsIgnoreCase(p, name.text)) {
          property = p;
          known = true;
          break;
        }
      }
      if (!known) {
        unknown_property_ = name.text;
        return Fail(name, "");
      }
    }
    const Token& op_token = Take();
    std::optional<CompareOp> op;
    if (op_token.kind == Token::Kind::kDash) op = OperatorNamed(op_token.text);
    if (!op) {
      return Fail(
          op_token,
          "Expected an operator (-eq, -ne, -like, -notlike, -gt, -lt, -ge, "
          "-le) after '" +
              property + "'" +
              (op_token.kind == Token::Kind::kEnd
                   ? "."
                   : ", found '" + std::string(op_token.kind == Token::Kind::kDash ? "-" : "") +
                         op_token.text + "'."));
    }
    const Token& value = Take();
    auto node = std::make_unique<FilterNode>();
    node->property = property;
    node->op = *op;
    if (value.kind == Token::Kind::kVariable) {
      if (value.text == "true") {
        node->value_kind = ValueKind::kTrue;
      } else if (value.text == "false") {
        node->value_kind = ValueKind::kFalse;
      } else if (value.text == "null") {
        node->value_kind = ValueKind::kNull;
        if (*op != CompareOp::kEq && *op != CompareOp::kNe) {
          return Fail(value, "$null can only be compared with -eq or -ne.");
        }
      } else {
        return Fail(value, "Only $true, $false and $null can be used, not '$" + value.text + "'.");
      }
    } else if (value.kind == Token::Kind::kWord) {
      node->value = value.text;
    } else {
      return Fail(value,
                  "Expected a value after '" + property + " -" + op_token.text + "'" +
                      (value.kind == Token::Kind::kEnd ? "." : ", found '" + value.text + "'."));
    }
    return node;
  }

  std::vector<Token> tokens_;
  const std::vector<std::string>& properties_;
  size_t pos_ = 0;
  std::optional<SyntaxError> error_;
  std::string unknown_property_;
};

// A number for -eq/-gt and friends: an integer (with KB/MB/GB/TB), or a size as Exchange
// prints one ("1.2 MB (1,234,567 bytes)", "Unlimited" as the largest).
std::optional<double> AsNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (std::optional<int64_t> n = parser::ParseInteger(text)) return static_cast<double>(*n);
  if (std::optional<parser::ParsedSize> s = parser::ParseSize(text)) {
    return s->unlimited ? std::numeric_limits<double>::infinity() : static_cast<double>(s->bytes);
  }
  return std::nullopt;
}

// The values of a multi-valued display ("{a, b}"); a single value otherwise.
std::vector<std::string> Values(const std::string& display) {
  if (display.size() < 2 || display.front() != '{' || display.back() != '}') return {display};
  std::vector<std::string> out;
  std::string_view inner(display.data() + 1, display.size() - 2);
  while (!inner.empty()) {
    size_t comma = inner.find(", ");
    out.emplace_back(inner.substr(0, comma));
    if (comma == std::string_view::npos) break;
    inner.remove_prefix(comma + 2);
  }
  return out;
}

// -1, 0, 1: numbers as numbers, anything else as case-insensitive text.
int Order(const std::string& a, const std::string& b) {
  std::optional<double> x = AsNumber(a), y = AsNumber(b);
  if (x && y) return *x < *y ? -1 : (*x > *y ? 1 : 0);
  const std::string la = AsciiLower(a), lb = AsciiLower(b);
  return la < lb ? -1 : (la > lb ? 1 : 0);
}

bool Evaluate(const FilterNode& node, const Record& record) {
  switch (node.kind) {
    case FilterNode::Kind::kAnd:
      return Evaluate(*node.children[0], record) && Evaluate(*node.children[1], record);
    case FilterNode::Kind::kOr:
      return Evaluate(*node.children[0], record) || Evaluate(*node.children[1], record);
    case FilterNode::Kind::kNot:
      return !Evaluate(*node.children[0], record);
    case FilterNode::Kind::kCompare:
      break;
  }
  const std::string* found = record.Find(node.property);
  const std::string display = found != nullptr ? *found : "";
  const bool is_null = display.empty() || display == "{}";
  if (node.value_kind == ValueKind::kNull) {
    return node.op == CompareOp::kEq ? is_null : !is_null;
  }
  const std::string operand = node.value_kind == ValueKind::kTrue    ? "True"
                              : node.value_kind == ValueKind::kFalse ? "False"
                                                                     : node.value;
  const std::vector<std::string> values = Values(display);
  auto any = [&](auto&& pred) {
    for (const std::string& v : values) {
      if (pred(v)) return true;
    }
    return false;
  };
  switch (node.op) {
    case CompareOp::kEq:
      return any([&](const std::string& v) { return Order(v, operand) == 0; });
    case CompareOp::kNe:
      return !any([&](const std::string& v) { return Order(v, operand) == 0; });
    case CompareOp::kLike:
      return any([&](const std::string& v) { return parser::WildcardMatch(operand, v); });
    case CompareOp::kNotLike:
      return !any([&](const std::string& v) { return parser::WildcardMatch(operand, v); });
    case CompareOp::kGt:
      return !is_null && Order(display, operand) > 0;
    case CompareOp::kLt:
      return !is_null && Order(display, operand) < 0;
    case CompareOp::kGe:
      return !is_null && Order(display, operand) >= 0;
    case CompareOp::kLe:
      return !is_null && Order(display, operand) <= 0;
  }
  return false;
}

}  // namespace

OpathFilter::OpathFilter() = default;
OpathFilter::~OpathFilter() = default;
OpathFilter::OpathFilter(OpathFilter&&) noexcept = default;
OpathFilter& OpathFilter::operator=(OpathFilter&&) noexcept = default;

bool OpathFilter::Parse(std::string_view text, const std::vector<std::string>& properties,
                        std::string* error) {
  root_.reset();
  const std::string prefix =
      "Cannot bind parameter 'Filter' to the target. Exception setting "
      "\"Filter\": \"";
  // Shown in the message, so kept to one line.
  std::string shown(text.substr(0, 200));
  for (char& c : shown) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > kMaxLength) {
    *error = prefix + "The filter is longer than " + std::to_string(kMaxLength) + " characters.\"";
    return false;
  }
  std::vector<Token> tokens;
  std::optional<SyntaxError> syntax = Tokenize(text, &tokens);
  std::string unknown;
  std::unique_ptr<FilterNode> root;
  if (!syntax) root = Parser(std::move(tokens), properties).ParseAll(&syntax, &unknown);
  if (root) {
    root_ = std::move(root);
    return true;
  }
  const size_t position = syntax ? syntax->position : 1;
  if (!unknown.empty()) {
    *error = prefix + "'" + unknown +
             "' is not a recognized filterable property. The properties are those that "
             "Format-List shows for this cmdlet's objects. \"" +
             shown + "\" at position " + std::to_string(position) + ".\"";
  } else {
    *error = prefix + "Invalid filter syntax. " + (syntax ? syntax->reason : "") + " \"" + shown +
             "\" at position " + std::to_string(position) + ".\"";
  }
  return false;
}

bool OpathFilter::Matches(const Record& record) const {
  return root_ != nullptr && Evaluate(*root_, record);
}

}  // namespace adminctl
