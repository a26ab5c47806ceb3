// A small, independent recursive-descent reader for the IMAP response values the formatter
// writes (RFC 3501 9 / RFC 9051 9): NIL, numbers, quoted strings, literals and parenthesized
// lists, plus shape checks for ENVELOPE and BODY / BODYSTRUCTURE on top of the generic tree.
// Written from the formal syntax only, so it shares no code (and no mistakes) with the
// formatter under test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cas::imap::testing {

struct Node {
  enum class Kind { kNil, kNumber, kString, kList };
  Kind kind = Kind::kNil;
  std::string text;  // kString: the content (escapes resolved); kNumber: the digits.
  bool literal = false;
  std::vector<Node> items;   // kList.
  std::vector<bool> spaced;  // kList: spaced[i] = a SP preceded items[i] (false for i = 0).

  bool IsNil() const { return kind == Kind::kNil; }
  bool IsString() const { return kind == Kind::kString; }
  bool IsNString() const { return IsNil() || IsString(); }
  bool IsNumber() const { return kind == Kind::kNumber; }
  bool IsList() const { return kind == Kind::kList; }
};

class ImapReader {
 public:
  // `utf8`: quoted strings may hold UTF-8 (RFC 9051 QUOTED-CHAR / RFC 6855).
  explicit ImapReader(std::string_view s, bool utf8 = false) : s_(s), utf8_(utf8) {}

  // Parses one value that must cover all of the input. On failure returns false and sets
  // error() to what went wrong and where.
  bool ParseAll(Node* out) {
    if (!ParseValue(out, 0)) return false;
    if (pos_ != s_.size()) return Fail("trailing bytes after the value");
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  static constexpr int kMaxDepth = 200;

  bool Fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at offset " + std::to_string(pos_);
    return false;
  }

  bool AtEnd() const { return pos_ >= s_.size(); }

  bool ParseValue(Node* out, int depth) {
    if (AtEnd()) return Fail("value expected");
    const char c = s_[pos_];
    if (c == '(') return ParseList(out, depth);
    if (c == '"') return ParseQuoted(out);
    if (c == '{') return ParseLiteral(out);
    if (c >= '0' && c <= '9') return ParseNumber(out);
    if (s_.substr(pos_, 3) == "NIL") {
      pos_ += 3;
      if (!AtEnd() && s_[pos_] != ' ' && s_[pos_] != ')') return Fail("atom after NIL");
      out->kind = Node::Kind::kNil;
      return true;
    }
    return Fail(std::string("unexpected byte ") + std::to_string(static_cast<unsigned char>(c)));
  }

  bool ParseNumber(Node* out) {
    const size_t start = pos_;
    while (!AtEnd() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    out->kind = Node::Kind::kNumber;
    out->text = std::string(s_.substr(start, pos_ - start));
    if (out->text.size() > 19) return Fail("number too large");  // number64 (RFC 9051).
    if (!AtEnd() && s_[pos_] != ' ' && s_[pos_] != ')') return Fail("junk after number");
    return true;
  }

  bool ParseQuoted(Node* out) {
    ++pos_;
    out->kind = Node::Kind::kString;
    while (!AtEnd()) {
      const char c = s_[pos_];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return Fail("backslash at end");
        const char e = s_[pos_ + 1];
        if (e != '"' && e != '\\') return Fail("backslash before a non-special");
        out->text.push_back(e);
        pos_ += 2;
        continue;
      }
      if (c == '\0' || c == '\r' || c == '\n') return Fail("NUL, CR or LF in a quoted string");
      if (u >= 0x80) {
        if (!utf8_) return Fail("8-bit byte in a quoted string");
        const size_t len = Utf8SequenceLength(s_.substr(pos_));
        if (len == 0) return Fail("invalid UTF-8 in a quoted string");
        out->text.append(s_.substr(pos_, len));
        pos_ += len;
        continue;
      }
      out->text.push_back(c);
      ++pos_;
    }
    return Fail("unterminated quoted string");
  }

  bool ParseLiteral(Node* out) {
    ++pos_;
    const size_t start = pos_;
    while (!AtEnd() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    if (pos_ == start || pos_ - start > 10) return Fail("bad literal length");
    const uint64_t n = std::stoull(std::string(s_.substr(start, pos_ - start)));
    if (s_.substr(pos_, 3) != "}\r\n") return Fail("literal length not followed by } CRLF");
    pos_ += 3;
    if (s_.size() - pos_ < n) return Fail("literal shorter than its count");
    out->kind = Node::Kind::kString;
    out->literal = true;
    out->text = std::string(s_.substr(pos_, n));
    if (out->text.find('\0') != std::string::npos) return Fail("NUL in a literal");
    pos_ += n;
    if (!AtEnd() && s_[pos_] != ' ' && s_[pos_] != ')') return Fail("literal count too small");
    return true;
  }

  bool ParseList(Node* out, int depth) {
    if (depth >= kMaxDepth) return Fail("nesting too deep");
    ++pos_;
    out->kind = Node::Kind::kList;
    bool first = true;
    while (true) {
      if (AtEnd()) return Fail("unterminated list");
      if (s_[pos_] == ')') {
        if (!first && s_[pos_ - 1] == ' ') return Fail("space before )");
        ++pos_;
        return true;
      }
      bool spaced = false;
      if (!first) {
        if (s_[pos_] == ' ') {
          spaced = true;
          ++pos_;
        } else if (!(s_[pos_] == '(' && s_[pos_ - 1] == ')')) {
          // Only lists may follow lists without a space ("1*body", "1*address").
          return Fail("missing space between list items");
        }
      } else if (s_[pos_] == ' ') {
        return Fail("space after (");
      }
      Node item;
      if (!ParseValue(&item, depth + 1)) return false;
      out->items.push_back(std::move(item));
      out->spaced.push_back(spaced);
      first = false;
    }
  }

  // Length of the valid UTF-8 sequence at the start of `s` (RFC 3629), 0 if invalid.
  static size_t Utf8SequenceLength(std::string_view s) {
    const auto c = static_cast<unsigned char>(s[0]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (s.size() < len) return 0;
    for (size_t i = 1; i < len; ++i) {
      const auto cc = static_cast<unsigned char>(s[i]);
      if ((cc & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return len;
  }

  std::string_view s_;
  bool utf8_;
  size_t pos_ = 0;
  std::string error_;
};

// ---------------------------------------------------------------------------------------
// Shape checks. Each returns "" when `n` has the shape, else the first problem found.

inline bool AllSpaced(const Node& list, size_t from = 1) {
  for (size_t i = from; i < list.items.size(); ++i) {
    if (!list.spaced[i]) return false;
  }
  return true;
}

inline bool EqualsUpper(const Node& n, std::string_view upper) {
  if (!n.IsString() || n.text.size() != upper.size()) return false;
  for (size_t i = 0; i < upper.size(); ++i) {
    char c = n.text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != upper[i]) return false;
  }
  return true;
}

// address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
inline std::string CheckAddressList(const Node& n) {
  if (n.IsNil()) return "";
  if (!n.IsList() || n.items.empty()) return "address list is neither NIL nor a list";
  int open_groups = 0;
  for (size_t i = 0; i < n.items.size(); ++i) {
    const Node& a = n.items[i];
    if (i > 0 && n.spaced[i]) return "space between addresses";
    if (!a.IsList() || a.items.size() != 4 || !AllSpaced(a)) return "address is not 4 items";
    for (const Node& f : a.items) {
      if (!f.IsNString()) return "address field is not an nstring";
    }
    const bool nil_host = a.items[3].IsNil();
    if (nil_host && a.items[2].IsString()) {  // Group start.
      if (!a.items[0].IsNil() || !a.items[1].IsNil()) return "group start with a name";
      if (open_groups > 0) return "nested group";
      ++open_groups;
    } else if (nil_host && a.items[2].IsNil()) {  // Group end.
      if (!a.items[0].IsNil() || !a.items[1].IsNil()) return "group end with a name";
      if (open_groups == 0) return "group end without a start";
      --open_groups;
    } else if (a.items[2].IsNil()) {
      return "address without a mailbox";
    }
  }
  return open_groups == 0 ? "" : "unterminated group";
}

// envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP env-to
//            SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
inline std::string CheckEnvelope(const Node& n) {
  if (!n.IsList() || n.items.size() != 10) return "envelope is not a list of 10";
  if (!AllSpaced(n)) return "envelope fields not separated by spaces";
  for (size_t i : {0u, 1u, 8u, 9u}) {
    if (!n.items[i].IsNString()) return "envelope field " + std::to_string(i) + " not nstring";
  }
  for (size_t i = 2; i < 8; ++i) {
    std::string e = CheckAddressList(n.items[i]);
    if (!e.empty()) return "envelope field " + std::to_string(i) + ": " + e;
  }
  return "";
}

// body-fld-param = "(" string SP string *(SP string SP string) ")" / nil
inline std::string CheckParams(const Node& n) {
  if (n.IsNil()) return "";
  if (!n.IsList() || n.items.empty() || n.items.size() % 2 != 0) return "bad body-fld-param";
  if (!AllSpaced(n)) return "params not separated by spaces";
  for (const Node& p : n.items) {
    if (!p.IsString()) return "param is not a string";
  }
  return "";
}

// SP body-fld-dsp SP body-fld-lang SP body-fld-loc, starting at items[i].
inline std::string CheckCommonExtension(const Node& body, size_t i) {
  const Node& dsp = body.items[i];
  if (!dsp.IsNil()) {
    if (!dsp.IsList() || dsp.items.size() != 2 || !AllSpaced(dsp) || !dsp.items[0].IsString()) {
      return "bad body-fld-dsp";
    }
    std::string e = CheckParams(dsp.items[1]);
    if (!e.empty()) return "disposition: " + e;
  }
  const Node& lang = body.items[i + 1];
  if (lang.IsList()) {
    if (lang.items.empty() || !AllSpaced(lang)) return "bad body-fld-lang list";
    for (const Node& l : lang.items) {
      if (!l.IsString()) return "language is not a string";
    }
  } else if (!lang.IsNString()) {
    return "bad body-fld-lang";
  }
  if (!body.items[i + 2].IsNString()) return "bad body-fld-loc";
  return "";
}

inline std::string CheckBody(const Node& n, bool extensible, int depth = 0) {
  if (depth > 100) return "too deep";
  if (!n.IsList() || n.items.empty()) return "body is not a non-empty list";
  if (n.items[0].IsList()) {
    // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
    size_t k = 0;
    while (k < n.items.size() && n.items[k].IsList()) {
      if (k > 0 && n.spaced[k]) return "space between multipart bodies";
      std::string e = CheckBody(n.items[k], extensible, depth + 1);
      if (!e.empty()) return "part " + std::to_string(k + 1) + ": " + e;
      ++k;
    }
    const size_t want = k + 1 + (extensible ? 4 : 0);
    if (n.items.size() != want) {
      return "multipart has " + std::to_string(n.items.size()) + " items, expected " +
             std::to_string(want);
    }
    if (!AllSpaced(n, k)) return "multipart fields not separated by spaces";
    if (!n.items[k].IsString()) return "media-subtype is not a string";
    if (!extensible) return "";
    std::string e = CheckParams(n.items[k + 1]);
    if (!e.empty()) return e;
    return CheckCommonExtension(n, k + 2);
  }
  // body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]
  if (!AllSpaced(n)) return "body fields not separated by spaces";
  if (n.items.size() < 7) return "single part with fewer than 7 fields";
  if (!n.items[0].IsString() || !n.items[1].IsString()) return "media type is not a string";
  std::string e = CheckParams(n.items[2]);
  if (!e.empty()) return e;
  if (!n.items[3].IsNString() || !n.items[4].IsNString()) return "bad body-fld-id/desc";
  if (!n.items[5].IsString()) return "body-fld-enc is not a string";
  if (!n.items[6].IsNumber()) return "body-fld-octets is not a number";
  size_t i = 7;
  if (EqualsUpper(n.items[0], "TEXT")) {
    if (n.items.size() <= i || !n.items[i].IsNumber()) return "text part without lines";
    ++i;
  } else if (EqualsUpper(n.items[0], "MESSAGE") && EqualsUpper(n.items[1], "RFC822")) {
    if (n.items.size() < i + 3) return "message/rfc822 part too short";
    e = CheckEnvelope(n.items[i]);
    if (!e.empty()) return "encapsulated " + e;
    e = CheckBody(n.items[i + 1], extensible, depth + 1);
    if (!e.empty()) return "encapsulated body: " + e;
    if (!n.items[i + 2].IsNumber()) return "message/rfc822 without lines";
    i += 3;
  }
  const size_t want = i + (extensible ? 4 : 0);
  if (n.items.size() != want) {
    return "single part has " + std::to_string(n.items.size()) + " items, expected " +
           std::to_string(want);
  }
  if (!extensible) return "";
  if (!n.items[i].IsNString()) return "bad body-fld-md5";
  return CheckCommonExtension(n, i + 1);
}

}  // namespace cas::imap::testing
