#include "cas/imap/codec/grammar.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cas/imap/codec/mutf7.h"
#include "cas/imap/codec/response.h"
#include "common/base64.h"

namespace cas::imap::internal {
namespace {

constexpr uint64_t kMax63 = (uint64_t{1} << 63) - 1;

char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Upper(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Upper(a[i]) != Upper(b[i])) return false;
  }
  return true;
}

bool IsDigit(int c) { return c >= '0' && c <= '9'; }
bool IsAlpha(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAstringChar(char c) { return IsAtomChar(c) || c == ']'; }
bool IsListChar(char c) { return IsAtomChar(c) || c == '%' || c == '*' || c == ']'; }
bool IsSetChar(char c) { return IsDigit(c) || c == ':' || c == ',' || c == '*' || c == '$'; }
// FETCH attribute and section-text names: "BODY.PEEK", "HEADER.FIELDS.NOT", "RFC822.SIZE".
bool IsNameChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '.'; }

// Known system flags, in canonical case.
constexpr std::string_view kSystemFlags[] = {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
                                             "\\Draft"};
// RFC 6154 special-use attributes.
constexpr std::string_view kUseAttributes[] = {"\\All",  "\\Archive", "\\Drafts", "\\Flagged",
                                               "\\Junk", "\\Sent",    "\\Trash"};

class Reader {
 public:
  Reader(Frame& frame, const ParserLimits& limits, const ParserOptions& options)
      : frame_(frame), line_(frame.line), limits_(limits), options_(options) {}

  bool failed() const { return failed_; }
  ParseErrorKind error_kind() const { return kind_; }
  const char* error_text() const { return text_; }
  const ParserOptions& options() const { return options_; }
  const ParserLimits& limits() const { return limits_; }

  bool AtEnd() const { return pos_ >= line_.size(); }
  int Peek(size_t ahead = 0) const {
    return pos_ + ahead < line_.size() ? static_cast<unsigned char>(line_[pos_ + ahead]) : -1;
  }
  bool Consume(char c) {
    if (Peek() != static_cast<unsigned char>(c)) return false;
    ++pos_;
    return true;
  }

  bool Fail(ParseErrorKind kind, const char* text) {
    if (!failed_) {
      failed_ = true;
      kind_ = kind;
      text_ = text;
    }
    return false;
  }
  bool Fail(const char* text) { return Fail(ParseErrorKind::kSyntax, text); }

  bool Expect(char c, const char* text = "Invalid arguments") { return Consume(c) || Fail(text); }
  // The SP before an argument.
  bool Sp() {
    if (Consume(' ')) return true;
    return Fail(AtEnd() ? "Missing argument" : "Invalid arguments");
  }

  // Counts one argument or list item against max_items.
  bool Item() {
    if (++items_ > limits_.max_items) return Fail(ParseErrorKind::kTooManyItems, "Too many items");
    return true;
  }
  // One level of nesting (a parenthesised list, NOT, OR) against max_depth.
  bool Enter() {
    if (++depth_ > limits_.max_depth) return Fail(ParseErrorKind::kTooDeep, "Nesting too deep");
    return true;
  }
  void Leave() { --depth_; }

  template <typename Pred>
  std::string_view Run(Pred pred) {
    const size_t start = pos_;
    while (pos_ < line_.size() && pred(line_[pos_])) ++pos_;
    return std::string_view(line_).substr(start, pos_ - start);
  }
  std::string_view Atom() { return Run(IsAtomChar); }
  // An atom in upper case, empty if there is none.
  std::string Keyword() { return ToUpper(Atom()); }
  // True if the next atom is `kw` (any case); consumes it only then.
  bool ConsumeKeyword(std::string_view kw) {
    const size_t start = pos_;
    if (EqualsIgnoreCase(Atom(), kw)) return true;
    pos_ = start;
    return false;
  }

  // number / nz-number / number64 / mod-sequence-value: decimal digits up to `max`.
  bool Number(uint64_t* out, uint64_t max, bool nonzero) {
    if (!IsDigit(Peek())) return Fail("Invalid number");
    if (nonzero && Peek() == '0') return Fail("Invalid number");
    uint64_t v = 0;
    while (IsDigit(Peek())) {
      const auto d = static_cast<uint64_t>(Peek() - '0');
      if (v > (max - d) / 10) return Fail("Invalid number");
      v = v * 10 + d;
      ++pos_;
    }
    *out = v;
    return true;
  }
  bool Number32(uint32_t* out, bool nonzero) {
    uint64_t v;
    if (!Number(&v, UINT32_MAX, nonzero)) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }

  bool Set(SequenceSet* out) {
    const std::string_view text = Run(IsSetChar);
    if (text.empty()) return Fail("Invalid sequence set");
    size_t ranges = 1;
    for (char c : text) ranges += c == ',';
    if (ranges > limits_.max_sequence_ranges) {
      return Fail(ParseErrorKind::kTooManyItems, "Too many sequence set ranges");
    }
    std::optional<SequenceSet> set = ParseSequenceSet(text, limits_.max_sequence_ranges);
    if (!set.has_value()) return Fail("Invalid sequence set");
    *out = std::move(*set);
    return true;
  }

  // quoted = DQUOTE *QUOTED-CHAR DQUOTE, with only DQUOTE and "\" escaped. 8-bit bytes are
  // kept (UTF-8 from RFC 6855/9051 clients); NUL, CR and LF are refused.
  bool Quoted(std::string* out) {
    if (!Consume('"')) return Fail("Invalid string");
    std::string s;
    while (true) {
      const int c = Peek();
      if (c < 0) return Fail("Unterminated quoted string");
      ++pos_;
      if (c == '"') break;
      if (c == '\\') {
        const int next = Peek();
        if (next != '"' && next != '\\') return Fail("Invalid quoted string");
        ++pos_;
        s.push_back(static_cast<char>(next));
        continue;
      }
      if (c == 0 || c == '\r' || c == '\n') return Fail("Invalid quoted string");
      s.push_back(static_cast<char>(c));
    }
    *out = std::move(s);
    return true;
  }

  // string = quoted / literal. literal8 is refused (only APPEND takes it).
  bool String(std::string* out) {
    if (Peek() == '"') return Quoted(out);
    if (Peek() == '{' || (Peek() == '~' && Peek(1) == '{')) {
      size_t index;
      if (!LiteralRef(&index, /*allow_binary=*/false)) return false;
      const std::string& data = frame_.literals[index].data;
      if (data.find('\0') != std::string::npos) return Fail("NUL in literal");
      *out = data;
      return true;
    }
    return Fail(AtEnd() ? "Missing argument" : "Invalid string");
  }
  bool Astring(std::string* out) {
    if (Peek() == '"' || Peek() == '{' || (Peek() == '~' && Peek(1) == '{')) return String(out);
    const std::string_view atom = Run(IsAstringChar);
    if (atom.empty()) return Fail(AtEnd() ? "Missing argument" : "Invalid string");
    *out = atom;
    return true;
  }
  bool NString(std::optional<std::string>* out) {
    if (ConsumeKeyword("NIL")) {
      out->reset();
      return true;
    }
    std::string s;
    if (!String(&s)) return false;
    *out = std::move(s);
    return true;
  }
  // list-mailbox = 1*list-char / string
  bool ListMailboxRaw(std::string* out) {
    if (Peek() == '"' || Peek() == '{' || (Peek() == '~' && Peek(1) == '{')) return String(out);
    const std::string_view atom = Run(IsListChar);
    if (atom.empty()) return Fail(AtEnd() ? "Missing argument" : "Invalid mailbox pattern");
    *out = atom;
    return true;
  }

  // Wire mailbox text to UTF-8.
  bool DecodeMailbox(std::string* name) {
    if (options_.utf8_accept) {
      if (!IsValidUtf8(*name)) {
        return Fail(ParseErrorKind::kInvalidMailboxName, "Mailbox name is not valid UTF-8");
      }
      return true;
    }
    common::StatusOr<std::string> decoded = Mutf7ToUtf8(*name);
    if (!decoded.ok()) {
      return Fail(ParseErrorKind::kInvalidMailboxName, "Mailbox name is not valid modified UTF-7");
    }
    *name = std::move(*decoded);
    return true;
  }
  // mailbox = "INBOX" / astring, decoded, INBOX in any case normalised.
  bool Mailbox(std::string* out) {
    if (!Astring(out) || !DecodeMailbox(out)) return false;
    if (EqualsIgnoreCase(*out, "INBOX")) *out = "INBOX";
    return true;
  }
  bool ListMailbox(std::string* out) { return ListMailboxRaw(out) && DecodeMailbox(out); }

  // flag: a known system flag (canonical case) or a keyword atom. "\Recent" and "\*" are not
  // valid in STORE and APPEND.
  bool Flag(std::string* out) {
    if (Consume('\\')) {
      const std::string_view name = Atom();
      for (std::string_view flag : kSystemFlags) {
        if (EqualsIgnoreCase(name, flag.substr(1))) {
          *out = flag;
          return true;
        }
      }
      return Fail("Invalid system flag");
    }
    const std::string_view atom = Atom();
    if (atom.empty()) return Fail("Invalid flag");
    *out = atom;
    return true;
  }
  // flag-list = "(" [flag *(SP flag)] ")"
  bool FlagList(std::vector<std::string>* out) {
    if (!Expect('(', "Invalid flag list") || !Enter()) return false;
    if (!Consume(')')) {
      do {
        std::string flag;
        if (!Item() || !Flag(&flag)) return false;
        out->push_back(std::move(flag));
      } while (Consume(' '));
      if (!Expect(')', "Invalid flag list")) return false;
    }
    Leave();
    return true;
  }

  // A literal whose bytes are moved out (APPEND message data).
  bool TakeLiteral(std::string* out, bool* binary) {
    size_t index;
    if (!LiteralRef(&index, /*allow_binary=*/true)) return false;
    *out = std::move(frame_.literals[index].data);
    *binary = frame_.literals[index].binary;
    return true;
  }
  bool AtLiteral() const { return Peek() == '{' || (Peek() == '~' && Peek(1) == '{'); }

 private:
  // Reads a literal header "{n}", "{n+}", "~{n}" and finds its bytes: the framer only accepts
  // headers at the end of a line, so the literal must begin right after the "}".
  bool LiteralRef(size_t* index, bool allow_binary) {
    const bool binary = Consume('~');
    if (binary && !allow_binary) return Fail("literal8 not allowed here");
    if (!Consume('{')) return Fail("Invalid literal");
    if (!IsDigit(Peek())) return Fail("Invalid literal");
    while (IsDigit(Peek())) ++pos_;
    Consume('+');
    if (!Consume('}')) return Fail("Invalid literal");
    if (next_literal_ >= frame_.literals.size() || frame_.literals[next_literal_].offset != pos_) {
      return Fail("Literal must end the line");
    }
    *index = next_literal_++;
    return true;
  }

  Frame& frame_;
  const std::string& line_;
  const ParserLimits& limits_;
  const ParserOptions& options_;
  size_t pos_ = 0;
  size_t next_literal_ = 0;
  size_t items_ = 0;
  size_t depth_ = 0;
  bool failed_ = false;
  ParseErrorKind kind_ = ParseErrorKind::kSyntax;
  const char* text_ = "";
};

// ---------------------------------------------------------------------------------------------
// Shared argument grammar.

bool ParseStatusItem(Reader& r, StatusItem* out) {
  static constexpr StatusItem kItems[] = {
      StatusItem::kMessages, StatusItem::kUidNext,       StatusItem::kUidValidity,
      StatusItem::kUnseen,   StatusItem::kDeleted,       StatusItem::kSize,
      StatusItem::kRecent,   StatusItem::kHighestModSeq, StatusItem::kAppendLimit};
  const std::string name = r.Keyword();
  for (StatusItem item : kItems) {
    if (name == StatusItemName(item)) {
      *out = item;
      return true;
    }
  }
  return r.Fail("Unknown STATUS item");
}

// "(" status-att *(SP status-att) ")"
bool ParseStatusItems(Reader& r, std::vector<StatusItem>* out) {
  if (!r.Expect('(') || !r.Enter()) return false;
  do {
    StatusItem item;
    if (!r.Item() || !ParseStatusItem(r, &item)) return false;
    out->push_back(item);
  } while (r.Consume(' '));
  if (!r.Expect(')')) return false;
  r.Leave();
  return true;
}

// date = date-text / DQUOTE date-text DQUOTE; date-text = 1*2DIGIT "-" Mon "-" 4DIGIT
bool ParseDate(Reader& r, Date* out) {
  std::string text;
  if (r.Peek() == '"') {
    if (!r.String(&text)) return false;
  } else {
    text = r.Atom();
  }
  const size_t d1 = text.find('-');
  if (d1 == std::string::npos || d1 < 1 || d1 > 2 || text.size() != d1 + 9 || text[d1 + 4] != '-') {
    return r.Fail("Invalid date");
  }
  int day = 0;
  for (size_t i = 0; i < d1; ++i) {
    if (!IsDigit(text[i])) return r.Fail("Invalid date");
    day = day * 10 + (text[i] - '0');
  }
  const int month = ParseMonthName(std::string_view(text).substr(d1 + 1, 3));
  int year = 0;
  for (size_t i = d1 + 5; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return r.Fail("Invalid date");
    year = year * 10 + (text[i] - '0');
  }
  if (month == 0 || !IsValidDate(year, month, day)) return r.Fail("Invalid date");
  *out = Date{year, month, day};
  return true;
}

// ---------------------------------------------------------------------------------------------
// Commands without arguments.

template <typename Args>
bool ParseNoArgs(Reader&, bool, CommandArgs* out) {
  *out = Args{};
  return true;
}

// ---------------------------------------------------------------------------------------------
// Not authenticated.

// AUTHENTICATE SP auth-type [SP (base64 / "=")]
bool ParseAuthenticate(Reader& r, bool, CommandArgs* out) {
  AuthenticateArgs args;
  if (!r.Sp()) return false;
  args.mechanism = r.Keyword();
  if (args.mechanism.empty()) return r.Fail("Invalid SASL mechanism");
  if (r.Consume(' ')) {
    const std::string_view ir = r.Run([](char c) { return c != ' '; });
    if (ir == "=") {
      args.initial_response = std::string();
    } else {
      std::optional<std::string> decoded = common::Base64Decode(ir);
      if (!decoded.has_value() || ir.empty()) {
        return r.Fail(ParseErrorKind::kInvalidBase64, "Invalid base64 initial response");
      }
      args.initial_response = std::move(*decoded);
    }
  }
  *out = std::move(args);
  return true;
}

// LOGIN SP userid SP password
bool ParseLogin(Reader& r, bool, CommandArgs* out) {
  LoginArgs args;
  if (!r.Sp() || !r.Astring(&args.user) || !r.Sp() || !r.Astring(&args.password)) return false;
  *out = std::move(args);
  return true;
}

// ID SP ("(" [string SP nstring *(SP string SP nstring)] ")" / NIL)   (RFC 2971)
bool ParseId(Reader& r, bool, CommandArgs* out) {
  IdArgs args;
  if (!r.Sp()) return false;
  if (!r.ConsumeKeyword("NIL")) {
    if (!r.Expect('(') || !r.Enter()) return false;
    args.params.emplace();
    if (!r.Consume(')')) {
      do {
        std::pair<std::string, std::optional<std::string>> param;
        if (!r.Item() || !r.Astring(&param.first) || !r.Sp() || !r.NString(&param.second)) {
          return false;
        }
        args.params->push_back(std::move(param));
      } while (r.Consume(' '));
      if (!r.Expect(')')) return false;
    }
    r.Leave();
  }
  *out = std::move(args);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Authenticated.

// ENABLE 1*(SP capability)   (RFC 5161)
bool ParseEnable(Reader& r, bool, CommandArgs* out) {
  EnableArgs args;
  do {
    if (!r.Sp() || !r.Item()) return false;
    std::string name = r.Keyword();
    if (name.empty()) return r.Fail("Invalid capability name");
    args.capabilities.push_back(std::move(name));
  } while (!r.AtEnd());
  *out = std::move(args);
  return true;
}

// Known UIDs and sequence numbers in QRESYNC are explicit numbers: "*" and "$" are not allowed
// (RFC 7162 section 7, known-uids and seq-match-data).
bool IsExplicitSet(const SequenceSet& set) { return !set.saved && !set.HasStar(); }

// How many numbers an explicit set names (a range written "5:2" counts as 2:5).
uint64_t CountNumbers(const SequenceSet& set) {
  uint64_t n = 0;
  for (const SeqRange& range : set.ranges) {
    n += uint64_t{std::max(range.first, range.last)} - std::min(range.first, range.last) + 1;
  }
  return n;
}

// "(" known-sequence-set SP known-uid-set ")": both sets name the same number of messages.
bool ParseSeqMatch(Reader& r, QresyncParams* q) {
  std::pair<SequenceSet, SequenceSet> match;
  if (!r.Expect('(') || !r.Enter() || !r.Set(&match.first) || !r.Sp() || !r.Set(&match.second) ||
      !r.Expect(')')) {
    return false;
  }
  r.Leave();
  if (!IsExplicitSet(match.first) || !IsExplicitSet(match.second) ||
      CountNumbers(match.first) != CountNumbers(match.second)) {
    return r.Fail("Invalid QRESYNC sequence match data");
  }
  q->seq_match = std::move(match);
  return true;
}

// QRESYNC SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
bool ParseQresync(Reader& r, QresyncParams* q) {
  uint64_t modseq;
  if (!r.Sp() || !r.Expect('(') || !r.Enter() || !r.Number32(&q->uid_validity, true) || !r.Sp() ||
      !r.Number(&modseq, kMax63, true)) {
    return false;
  }
  q->mod_seq = modseq;
  if (r.Consume(' ')) {
    if (r.Peek() == '(') {
      if (!ParseSeqMatch(r, q)) return false;
    } else {
      SequenceSet known;
      if (!r.Set(&known)) return false;
      if (!IsExplicitSet(known)) return r.Fail("Invalid QRESYNC known UIDs");
      q->known_uids = std::move(known);
      if (r.Consume(' ') && !ParseSeqMatch(r, q)) return false;
    }
  }
  if (!r.Expect(')')) return false;
  r.Leave();
  return true;
}

// SELECT/EXAMINE SP mailbox [SP "(" select-param *(SP select-param) ")"]
bool ParseSelect(Reader& r, SelectArgs args, CommandArgs* out) {
  if (!r.Sp() || !r.Mailbox(&args.mailbox)) return false;
  if (r.Consume(' ')) {
    if (!r.Expect('(') || !r.Enter()) return false;
    if (!r.Consume(')')) {
      do {
        if (!r.Item()) return false;
        const std::string name = r.Keyword();
        if (name == "CONDSTORE" && !args.condstore) {
          args.condstore = true;
        } else if (name == "QRESYNC" && !args.qresync.has_value()) {
          args.qresync.emplace();
          if (!ParseQresync(r, &*args.qresync)) return false;
        } else {
          return r.Fail("Unknown SELECT parameter");
        }
      } while (r.Consume(' '));
      if (!r.Expect(')')) return false;
    }
    r.Leave();
  }
  *out = std::move(args);
  return true;
}

bool ParseSelectCommand(Reader& r, bool, CommandArgs* out) { return ParseSelect(r, {}, out); }

bool ParseExamine(Reader& r, bool, CommandArgs* out) {
  SelectArgs args;
  args.read_only = true;
  return ParseSelect(r, std::move(args), out);
}

// CREATE SP mailbox [SP "(" "USE" SP "(" [use-attr *(SP use-attr)] ")" ")"]   (RFC 6154)
bool ParseCreate(Reader& r, bool, CommandArgs* out) {
  CreateArgs args;
  if (!r.Sp() || !r.Mailbox(&args.mailbox)) return false;
  if (r.Consume(' ')) {
    if (!r.Expect('(') || !r.Enter()) return false;
    bool seen_use = false;
    do {
      if (!r.Item()) return false;
      if (r.Keyword() != "USE" || seen_use) return r.Fail("Unknown CREATE parameter");
      seen_use = true;
      if (!r.Sp() || !r.Expect('(') || !r.Enter()) return false;
      if (!r.Consume(')')) {
        do {
          if (!r.Item() || !r.Expect('\\', "Invalid special-use attribute")) return false;
          const std::string_view name = r.Atom();
          if (name.empty()) return r.Fail("Invalid special-use attribute");
          std::string attr = "\\" + std::string(name);
          for (std::string_view known : kUseAttributes) {
            if (EqualsIgnoreCase(known, attr)) attr = known;
          }
          args.special_use.push_back(std::move(attr));
        } while (r.Consume(' '));
        if (!r.Expect(')')) return false;
      }
      r.Leave();
    } while (r.Consume(' '));
    if (!r.Expect(')')) return false;
    r.Leave();
  }
  *out = std::move(args);
  return true;
}

template <typename Args>
bool ParseOneMailbox(Reader& r, bool, CommandArgs* out) {
  Args args;
  if (!r.Sp() || !r.Mailbox(&args.mailbox)) return false;
  *out = std::move(args);
  return true;
}

bool ParseRename(Reader& r, bool, CommandArgs* out) {
  RenameArgs args;
  if (!r.Sp() || !r.Mailbox(&args.from) || !r.Sp() || !r.Mailbox(&args.to)) return false;
  *out = std::move(args);
  return true;
}

// LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]   (RFC 5258)
bool ParseList(Reader& r, bool, CommandArgs* out) {
  ListArgs args;
  if (!r.Sp()) return false;
  if (r.Peek() == '(') {
    args.extended = true;
    r.Consume('(');
    if (!r.Enter()) return false;
    if (!r.Consume(')')) {
      do {
        if (!r.Item()) return false;
        const std::string name = r.Keyword();
        if (name == "SUBSCRIBED") {
          args.select_subscribed = true;
        } else if (name == "REMOTE") {
          args.select_remote = true;
        } else if (name == "RECURSIVEMATCH") {
          args.select_recursive_match = true;
        } else if (name == "SPECIAL-USE") {
          args.select_special_use = true;
        } else {
          return r.Fail("Unknown LIST selection option");
        }
      } while (r.Consume(' '));
      if (!r.Expect(')')) return false;
    }
    r.Leave();
    // RECURSIVEMATCH needs a selection option it modifies (RFC 5258 section 3).
    if (args.select_recursive_match && !args.select_subscribed && !args.select_special_use) {
      return r.Fail("RECURSIVEMATCH needs another selection option");
    }
    if (!r.Sp()) return false;
  }
  if (!r.ListMailbox(&args.reference) || !r.Sp()) return false;
  if (r.Peek() == '(') {
    args.extended = true;
    r.Consume('(');
    if (!r.Enter()) return false;
    do {
      std::string pattern;
      if (!r.Item() || !r.ListMailbox(&pattern)) return false;
      args.patterns.push_back(std::move(pattern));
    } while (r.Consume(' '));
    if (!r.Expect(')')) return false;
    r.Leave();
  } else {
    std::string pattern;
    if (!r.ListMailbox(&pattern)) return false;
    args.patterns.push_back(std::move(pattern));
  }
  if (r.Consume(' ')) {
    if (!r.ConsumeKeyword("RETURN")) return r.Fail("Invalid arguments");
    args.extended = true;
    if (!r.Sp() || !r.Expect('(') || !r.Enter()) return false;
    if (!r.Consume(')')) {
      do {
        if (!r.Item()) return false;
        const std::string name = r.Keyword();
        if (name == "SUBSCRIBED") {
          args.return_subscribed = true;
        } else if (name == "CHILDREN") {
          args.return_children = true;
        } else if (name == "SPECIAL-USE") {
          args.return_special_use = true;
        } else if (name == "STATUS" && !args.return_status.has_value()) {
          args.return_status.emplace();
          if (!r.Sp() || !ParseStatusItems(r, &*args.return_status)) return false;
        } else {
          return r.Fail("Unknown LIST return option");
        }
      } while (r.Consume(' '));
      if (!r.Expect(')')) return false;
    }
    r.Leave();
  }
  *out = std::move(args);
  return true;
}

// LSUB SP mailbox SP list-mailbox
bool ParseLsub(Reader& r, bool, CommandArgs* out) {
  LsubArgs args;
  if (!r.Sp() || !r.ListMailbox(&args.reference) || !r.Sp() || !r.ListMailbox(&args.pattern)) {
    return false;
  }
  *out = std::move(args);
  return true;
}

// STATUS SP mailbox SP "(" status-att *(SP status-att) ")"
bool ParseStatus(Reader& r, bool, CommandArgs* out) {
  StatusArgs args;
  if (!r.Sp() || !r.Mailbox(&args.mailbox) || !r.Sp() || !ParseStatusItems(r, &args.items)) {
    return false;
  }
  *out = std::move(args);
  return true;
}

// APPEND SP mailbox 1*append-message                              (RFC 3502 MULTIAPPEND)
// append-message = [SP flag-list] [SP date-time] SP append-data
// append-data    = literal / literal8 / "UTF8" SP "(" literal8 ")"   (RFC 3516, RFC 6855)
bool ParseAppend(Reader& r, bool, CommandArgs* out) {
  AppendArgs args;
  if (!r.Sp() || !r.Mailbox(&args.mailbox)) return false;
  do {
    AppendMessage message;
    if (!r.Item() || !r.Sp()) return false;
    if (r.Peek() == '(') {
      if (!r.FlagList(&message.flags) || !r.Sp()) return false;
    }
    if (r.Peek() == '"') {
      std::string text;
      if (!r.String(&text)) return false;
      common::StatusOr<DateTime> date = ParseDateTime(text);
      if (!date.ok()) return r.Fail("Invalid date-time");
      message.internal_date = date->unix_seconds;
      message.zone_offset_minutes = date->zone_offset_minutes;
      if (!r.Sp()) return false;
    }
    if (r.ConsumeKeyword("UTF8")) {
      message.utf8 = true;
      if (!r.Sp() || !r.Expect('(') || r.Peek() != '~') return r.Fail("Invalid UTF8 message");
      if (!r.TakeLiteral(&message.data, &message.binary) || !r.Expect(')')) return false;
    } else {
      if (!r.AtLiteral()) return r.Fail("Message must be a literal");
      if (!r.TakeLiteral(&message.data, &message.binary)) return false;
    }
    args.messages.push_back(std::move(message));
  } while (!r.AtEnd());
  *out = std::move(args);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Selected.

// EXPUNGE, or UID EXPUNGE SP sequence-set (RFC 4315).
bool ParseExpunge(Reader& r, bool uid, CommandArgs* out) {
  ExpungeArgs args;
  if (uid) {
    SequenceSet set;
    if (!r.Sp() || !r.Set(&set)) return false;
    args.uid_set = std::move(set);
  }
  *out = std::move(args);
  return true;
}

bool ParseSearchKey(Reader& r, SearchKey* key);

// search-key *(SP search-key), inside parentheses or at the top level: a kAnd node.
bool ParseSearchKeys(Reader& r, SearchKey* key) {
  key->type = SearchKeyType::kAnd;
  do {
    SearchKey child;
    if (!ParseSearchKey(r, &child)) return false;
    key->children.push_back(std::move(child));
  } while (r.Consume(' '));
  return true;
}

bool ParseSearchKey(Reader& r, SearchKey* key) {
  if (!r.Item()) return false;
  if (r.Peek() == '(') {
    r.Consume('(');
    if (!r.Enter() || !ParseSearchKeys(r, key) || !r.Expect(')')) return false;
    r.Leave();
    return true;
  }
  if (IsDigit(r.Peek()) || r.Peek() == '*' || r.Peek() == '$') {
    key->type = SearchKeyType::kSequenceSet;
    return r.Set(&key->set);
  }
  static constexpr SearchKeyType kNoArg[] = {
      SearchKeyType::kAll,        SearchKeyType::kAnswered,  SearchKeyType::kDeleted,
      SearchKeyType::kDraft,      SearchKeyType::kFlagged,   SearchKeyType::kNew,
      SearchKeyType::kOld,        SearchKeyType::kRecent,    SearchKeyType::kSeen,
      SearchKeyType::kUnanswered, SearchKeyType::kUndeleted, SearchKeyType::kUndraft,
      SearchKeyType::kUnflagged,  SearchKeyType::kUnseen};
  static constexpr SearchKeyType kText[] = {
      SearchKeyType::kBcc,     SearchKeyType::kBody, SearchKeyType::kCc, SearchKeyType::kFrom,
      SearchKeyType::kSubject, SearchKeyType::kText, SearchKeyType::kTo};
  static constexpr SearchKeyType kDates[] = {SearchKeyType::kBefore, SearchKeyType::kOn,
                                             SearchKeyType::kSince,  SearchKeyType::kSentBefore,
                                             SearchKeyType::kSentOn, SearchKeyType::kSentSince};
  const std::string name = r.Keyword();
  if (name.empty()) return r.Fail(r.AtEnd() ? "Missing search key" : "Invalid search key");
  for (SearchKeyType t : kNoArg) {
    if (name == SearchKeyName(t)) {
      key->type = t;
      return true;
    }
  }
  for (SearchKeyType t : kText) {
    if (name == SearchKeyName(t)) {
      key->type = t;
      return r.Sp() && r.Astring(&key->value);
    }
  }
  for (SearchKeyType t : kDates) {
    if (name == SearchKeyName(t)) {
      key->type = t;
      return r.Sp() && ParseDate(r, &key->date);
    }
  }
  if (name == "KEYWORD" || name == "UNKEYWORD") {
    key->type = name == "KEYWORD" ? SearchKeyType::kKeyword : SearchKeyType::kUnkeyword;
    if (!r.Sp()) return false;
    key->value = r.Atom();
    return !key->value.empty() || r.Fail("Invalid keyword");
  }
  if (name == "HEADER") {
    key->type = SearchKeyType::kHeader;
    return r.Sp() && r.Astring(&key->field) && r.Sp() && r.Astring(&key->value);
  }
  if (name == "LARGER" || name == "SMALLER") {
    key->type = name == "LARGER" ? SearchKeyType::kLarger : SearchKeyType::kSmaller;
    return r.Sp() && r.Number(&key->number, kMax63, false);
  }
  if (name == "OLDER" || name == "YOUNGER") {
    key->type = name == "OLDER" ? SearchKeyType::kOlder : SearchKeyType::kYounger;
    return r.Sp() && r.Number(&key->number, UINT32_MAX, true);
  }
  if (name == "UID") {
    key->type = SearchKeyType::kUid;
    return r.Sp() && r.Set(&key->set);
  }
  if (name == "NOT") {
    key->type = SearchKeyType::kNot;
    key->children.resize(1);
    if (!r.Sp() || !r.Enter() || !ParseSearchKey(r, &key->children[0])) return false;
    r.Leave();
    return true;
  }
  if (name == "OR") {
    key->type = SearchKeyType::kOr;
    key->children.resize(2);
    if (!r.Sp() || !r.Enter() || !ParseSearchKey(r, &key->children[0]) || !r.Sp() ||
        !ParseSearchKey(r, &key->children[1])) {
      return false;
    }
    r.Leave();
    return true;
  }
  if (name == "MODSEQ") {
    // "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer   (RFC 7162)
    key->type = SearchKeyType::kModSeq;
    if (!r.Sp()) return false;
    if (r.Peek() == '"') {
      if (!r.String(&key->field) || !r.Sp()) return false;
      // entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE; attr-flag = ["\\"] atom
      const std::string_view flag =
          std::string_view(key->field)
              .substr(key->field.rfind("/flags/", 0) == 0 ? 7 : key->field.size());
      const std::string_view atom = flag.substr(!flag.empty() && flag[0] == '\\' ? 1 : 0);
      if (atom.empty() || !std::all_of(atom.begin(), atom.end(), IsAtomChar)) {
        return r.Fail("Invalid MODSEQ entry name");
      }
      key->value = r.Atom();
      for (char& c : key->value) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      if (key->value != "priv" && key->value != "shared" && key->value != "all") {
        return r.Fail("Invalid MODSEQ entry type");
      }
      if (!r.Sp()) return false;
    }
    return r.Number(&key->number, kMax63, false);
  }
  return r.Fail("Unknown search key");
}

// SEARCH [SP "RETURN" SP "(" [opt *(SP opt)] ")"] [SP "CHARSET" SP astring] 1*(SP search-key)
bool ParseSearch(Reader& r, bool, CommandArgs* out) {
  SearchArgs args;
  if (!r.Sp()) return false;
  if (r.ConsumeKeyword("RETURN")) {
    args.return_options.emplace();
    if (!r.Sp() || !r.Expect('(') || !r.Enter()) return false;
    if (!r.Consume(')')) {
      do {
        if (!r.Item()) return false;
        const std::string name = r.Keyword();
        static constexpr SearchReturnOption kOptions[] = {
            SearchReturnOption::kMin, SearchReturnOption::kMax, SearchReturnOption::kAll,
            SearchReturnOption::kCount, SearchReturnOption::kSave};
        bool found = false;
        for (SearchReturnOption o : kOptions) {
          if (name == SearchReturnOptionName(o)) {
            args.return_options->push_back(o);
            found = true;
          }
        }
        if (!found) return r.Fail("Unknown SEARCH return option");
      } while (r.Consume(' '));
      if (!r.Expect(')')) return false;
    }
    r.Leave();
    if (!r.Sp()) return false;
  }
  if (r.ConsumeKeyword("CHARSET")) {
    args.charset.emplace();
    if (!r.Sp() || !r.Astring(&*args.charset) || !r.Sp()) return false;
  }
  if (!ParseSearchKeys(r, &args.key)) return false;
  *out = std::move(args);
  return true;
}

// section = "[" [section-spec] "]"; `binary` allows part numbers only (section-binary).
bool ParseSection(Reader& r, Section* s, bool binary) {
  if (!r.Expect('[', "Invalid section")) return false;
  if (r.Consume(']')) return true;
  if (IsDigit(r.Peek())) {
    do {
      uint32_t part;
      if (!r.Item() || !r.Number32(&part, true)) return r.Fail("Invalid section");
      s->part.push_back(part);
    } while (r.Peek() == '.' && IsDigit(r.Peek(1)) && r.Consume('.'));
    if (r.Consume(']')) return true;
    if (binary || !r.Consume('.')) return r.Fail("Invalid section");
  } else if (binary) {
    return r.Fail("Invalid section");
  }
  const std::string name = ToUpper(r.Run(IsNameChar));
  if (name == "HEADER") {
    s->text = SectionText::kHeader;
  } else if (name == "TEXT") {
    s->text = SectionText::kText;
  } else if (name == "MIME" && !s->part.empty()) {
    s->text = SectionText::kMime;
  } else if (name == "HEADER.FIELDS" || name == "HEADER.FIELDS.NOT") {
    s->text = name == "HEADER.FIELDS" ? SectionText::kHeaderFields : SectionText::kHeaderFieldsNot;
    if (!r.Sp() || !r.Expect('(') || !r.Enter()) return false;
    do {
      std::string field;
      if (!r.Item() || !r.Astring(&field)) return false;
      s->header_fields.push_back(std::move(field));
    } while (r.Consume(' '));
    if (!r.Expect(')')) return false;
    r.Leave();
  } else {
    return r.Fail("Invalid section");
  }
  return r.Expect(']', "Invalid section");
}

// fetch-att (RFC 3501, RFC 3516, RFC 7162).
bool ParseFetchItem(Reader& r, FetchItem* item) {
  if (!r.Item()) return false;
  const std::string name = ToUpper(r.Run(IsNameChar));
  static constexpr std::pair<std::string_view, FetchItemType> kSimple[] = {
      {"ENVELOPE", FetchItemType::kEnvelope},
      {"FLAGS", FetchItemType::kFlags},
      {"INTERNALDATE", FetchItemType::kInternalDate},
      {"RFC822", FetchItemType::kRfc822},
      {"RFC822.HEADER", FetchItemType::kRfc822Header},
      {"RFC822.SIZE", FetchItemType::kRfc822Size},
      {"RFC822.TEXT", FetchItemType::kRfc822Text},
      {"BODYSTRUCTURE", FetchItemType::kBodyStructure},
      {"UID", FetchItemType::kUid},
      {"MODSEQ", FetchItemType::kModSeq}};
  for (const auto& [n, type] : kSimple) {
    if (name == n) {
      item->type = type;
      return true;
    }
  }
  bool partial_allowed = true;
  if (name == "BODY" && r.Peek() != '[') {
    item->type = FetchItemType::kBody;
    return true;
  } else if (name == "BODY" || name == "BODY.PEEK") {
    item->type = FetchItemType::kBodySection;
    item->peek = name == "BODY.PEEK";
    if (!ParseSection(r, &item->section, false)) return false;
  } else if (name == "BINARY" || name == "BINARY.PEEK" || name == "BINARY.SIZE") {
    item->type = name == "BINARY.SIZE" ? FetchItemType::kBinarySize : FetchItemType::kBinary;
    item->peek = name == "BINARY.PEEK";
    partial_allowed = name != "BINARY.SIZE";
    if (!ParseSection(r, &item->section, true)) return false;
  } else {
    return r.Fail(name.empty() && r.AtEnd() ? "Missing argument" : "Unknown FETCH item");
  }
  if (partial_allowed && r.Consume('<')) {
    Partial p;
    if (!r.Number32(&p.offset, false) || !r.Expect('.', "Invalid partial") ||
        !r.Number32(&p.count, true) || !r.Expect('>', "Invalid partial")) {
      return r.Fail("Invalid partial");
    }
    item->partial = p;
  }
  return true;
}

void AddSimple(std::vector<FetchItem>* items, std::initializer_list<FetchItemType> types) {
  for (FetchItemType t : types) {
    FetchItem item;
    item.type = t;
    items->push_back(std::move(item));
  }
}

// FETCH SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP
// fetch-att) ")") [SP "(" fetch-modifier *(SP fetch-modifier) ")"]
bool ParseFetch(Reader& r, bool uid, CommandArgs* out) {
  FetchArgs args;
  if (!r.Sp() || !r.Set(&args.set) || !r.Sp()) return false;
  if (r.Consume('(')) {
    if (!r.Enter()) return false;
    do {
      FetchItem item;
      if (!ParseFetchItem(r, &item)) return false;
      args.items.push_back(std::move(item));
    } while (r.Consume(' '));
    if (!r.Expect(')')) return false;
    r.Leave();
  } else if (r.ConsumeKeyword("ALL")) {
    AddSimple(&args.items, {FetchItemType::kFlags, FetchItemType::kInternalDate,
                            FetchItemType::kRfc822Size, FetchItemType::kEnvelope});
  } else if (r.ConsumeKeyword("FAST")) {
    AddSimple(&args.items,
              {FetchItemType::kFlags, FetchItemType::kInternalDate, FetchItemType::kRfc822Size});
  } else if (r.ConsumeKeyword("FULL")) {
    AddSimple(&args.items,
              {FetchItemType::kFlags, FetchItemType::kInternalDate, FetchItemType::kRfc822Size,
               FetchItemType::kEnvelope, FetchItemType::kBody});
  } else {
    FetchItem item;
    if (!ParseFetchItem(r, &item)) return false;
    args.items.push_back(std::move(item));
  }
  if (r.Consume(' ')) {
    if (!r.Expect('(') || !r.Enter()) return false;
    do {
      if (!r.Item()) return false;
      const std::string name = r.Keyword();
      if (name == "CHANGEDSINCE" && !args.changed_since.has_value()) {
        uint64_t modseq;
        if (!r.Sp() || !r.Number(&modseq, kMax63, true)) return false;
        args.changed_since = modseq;
      } else if (name == "VANISHED" && !args.vanished) {
        args.vanished = true;
      } else {
        return r.Fail("Unknown FETCH modifier");
      }
    } while (r.Consume(' '));
    if (!r.Expect(')')) return false;
    r.Leave();
    // RFC 7162 section 3.2.6: VANISHED only in UID FETCH, and only with CHANGEDSINCE.
    if (args.vanished && (!uid || !args.changed_since.has_value())) {
      return r.Fail("VANISHED needs UID FETCH and CHANGEDSINCE");
    }
  }
  *out = std::move(args);
  return true;
}

// STORE SP sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"] SP
//   ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / (flag *(SP flag)))
bool ParseStore(Reader& r, bool, CommandArgs* out) {
  StoreArgs args;
  if (!r.Sp() || !r.Set(&args.set) || !r.Sp()) return false;
  if (r.Consume('(')) {
    if (!r.Enter()) return false;
    do {
      if (!r.Item()) return false;
      if (r.Keyword() != "UNCHANGEDSINCE" || args.unchanged_since.has_value()) {
        return r.Fail("Unknown STORE modifier");
      }
      uint64_t modseq;
      if (!r.Sp() || !r.Number(&modseq, kMax63, false)) return false;
      args.unchanged_since = modseq;
    } while (r.Consume(' '));
    if (!r.Expect(')') || !r.Sp()) return false;
    r.Leave();
  }
  std::string name = r.Keyword();
  if (!name.empty() && name[0] == '+') {
    args.operation = StoreOperation::kAdd;
    name.erase(0, 1);
  } else if (!name.empty() && name[0] == '-') {
    args.operation = StoreOperation::kRemove;
    name.erase(0, 1);
  }
  if (name == "FLAGS.SILENT") {
    args.silent = true;
  } else if (name != "FLAGS") {
    return r.Fail("Invalid STORE data item");
  }
  if (!r.Sp()) return false;
  if (r.Peek() == '(') {
    if (!r.FlagList(&args.flags)) return false;
  } else {
    do {
      std::string flag;
      if (!r.Item() || !r.Flag(&flag)) return false;
      args.flags.push_back(std::move(flag));
    } while (r.Consume(' '));
  }
  *out = std::move(args);
  return true;
}

// COPY/MOVE SP sequence-set SP mailbox
template <typename Args>
bool ParseCopyMove(Reader& r, bool, CommandArgs* out) {
  Args args;
  if (!r.Sp() || !r.Set(&args.set) || !r.Sp() || !r.Mailbox(&args.mailbox)) return false;
  *out = std::move(args);
  return true;
}

// ---------------------------------------------------------------------------------------------
// QUOTA (RFC 9208).

bool ParseGetQuota(Reader& r, bool, CommandArgs* out) {
  GetQuotaArgs args;
  if (!r.Sp() || !r.Astring(&args.root)) return false;
  *out = std::move(args);
  return true;
}

// SETQUOTA SP quota-root SP "(" [resource-name SP number64 *(SP ...)] ")"
bool ParseSetQuota(Reader& r, bool, CommandArgs* out) {
  SetQuotaArgs args;
  if (!r.Sp() || !r.Astring(&args.root) || !r.Sp() || !r.Expect('(') || !r.Enter()) {
    return false;
  }
  if (!r.Consume(')')) {
    do {
      std::pair<std::string, uint64_t> limit;
      if (!r.Item()) return false;
      limit.first = r.Keyword();
      if (limit.first.empty()) return r.Fail("Invalid quota resource");
      if (!r.Sp() || !r.Number(&limit.second, kMax63, false)) return false;
      args.limits.push_back(std::move(limit));
    } while (r.Consume(' '));
    if (!r.Expect(')')) return false;
  }
  r.Leave();
  *out = std::move(args);
  return true;
}

// ---------------------------------------------------------------------------------------------
// The command table.

using ParseFn = bool (*)(Reader&, bool uid, CommandArgs*);

struct CommandSpec {
  std::string_view name;
  ParseFn parse;
  bool takes_arguments;
  bool uid_allowed;
};

constexpr CommandSpec kCommands[] = {
    {"CAPABILITY", ParseNoArgs<CapabilityArgs>, false, false},
    {"NOOP", ParseNoArgs<NoopArgs>, false, false},
    {"LOGOUT", ParseNoArgs<LogoutArgs>, false, false},
    {"STARTTLS", ParseNoArgs<StartTlsArgs>, false, false},
    {"AUTHENTICATE", ParseAuthenticate, true, false},
    {"LOGIN", ParseLogin, true, false},
    {"ID", ParseId, true, false},
    {"ENABLE", ParseEnable, true, false},
    {"SELECT", ParseSelectCommand, true, false},
    {"EXAMINE", ParseExamine, true, false},
    {"CREATE", ParseCreate, true, false},
    {"DELETE", ParseOneMailbox<DeleteArgs>, true, false},
    {"RENAME", ParseRename, true, false},
    {"SUBSCRIBE", ParseOneMailbox<SubscribeArgs>, true, false},
    {"UNSUBSCRIBE", ParseOneMailbox<UnsubscribeArgs>, true, false},
    {"LIST", ParseList, true, false},
    {"LSUB", ParseLsub, true, false},
    {"NAMESPACE", ParseNoArgs<NamespaceArgs>, false, false},
    {"STATUS", ParseStatus, true, false},
    {"APPEND", ParseAppend, true, false},
    {"IDLE", ParseNoArgs<IdleArgs>, false, false},
    {"CHECK", ParseNoArgs<CheckArgs>, false, false},
    {"CLOSE", ParseNoArgs<CloseArgs>, false, false},
    {"UNSELECT", ParseNoArgs<UnselectArgs>, false, false},
    {"EXPUNGE", ParseExpunge, false, true},
    {"SEARCH", ParseSearch, true, true},
    {"FETCH", ParseFetch, true, true},
    {"STORE", ParseStore, true, true},
    {"COPY", ParseCopyMove<CopyArgs>, true, true},
    {"MOVE", ParseCopyMove<MoveArgs>, true, true},
    {"GETQUOTA", ParseGetQuota, true, false},
    {"GETQUOTAROOT", ParseOneMailbox<GetQuotaRootArgs>, true, false},
    {"SETQUOTA", ParseSetQuota, true, false},
};

const CommandSpec* FindCommand(std::string_view name, bool uid) {
  for (const CommandSpec& spec : kCommands) {
    if (EqualsIgnoreCase(spec.name, name)) return (!uid || spec.uid_allowed) ? &spec : nullptr;
  }
  return nullptr;
}

}  // namespace

bool IsAtomChar(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

bool IsTagChar(char c) { return (IsAtomChar(c) || c == ']') && c != '+'; }

bool LookupCommand(std::string_view name, bool uid, bool* takes_arguments) {
  const CommandSpec* spec = FindCommand(name, uid);
  if (spec == nullptr) return false;
  *takes_arguments = spec->takes_arguments || uid;
  return true;
}

std::variant<Command, ParseError> ParseFrame(Frame& frame, const ParserLimits& limits,
                                             const ParserOptions& options) {
  Reader r(frame, limits, options);
  Command command;
  ParseError error;
  const std::string_view tag = r.Run(IsTagChar);
  if (tag.empty() || (!r.AtEnd() && r.Peek() != ' ')) {
    error.text = "Invalid tag";
    return error;
  }
  error.tag = std::string(tag);
  command.tag = std::string(tag);
  if (!r.Consume(' ')) {
    error.text = "Missing command";
    return error;
  }
  std::string name = r.Keyword();
  if (name == "UID") {
    command.uid = true;
    if (!r.Consume(' ')) {
      error.text = "Missing command";
      return error;
    }
    name = r.Keyword();
  }
  const CommandSpec* spec = FindCommand(name, command.uid);
  if (spec == nullptr) {
    error.kind = ParseErrorKind::kUnknownCommand;
    error.text = "Unknown command";
    return error;
  }
  // A character glued to the name ("NOOP(", "FETCH[") is not a separator.
  if (!r.AtEnd() && r.Peek() != ' ') {
    error.text = "Invalid arguments";
    return error;
  }
  if (spec->parse(r, command.uid, &command.args) && !r.AtEnd()) {
    r.Fail(r.Peek() == ' ' ? "Too many arguments" : "Invalid arguments");
  }
  if (r.failed()) {
    error.kind = r.error_kind();
    error.text = r.error_text();
    return error;
  }
  return command;
}

}  // namespace cas::imap::internal
