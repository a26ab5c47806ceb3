// MIME structure parser: an own line scanner computes exact byte offsets for every entity
// (RFC 2045/2046 boundaries, Dovecot-compatible leniency); GMime supplies the header
// semantics that are hard to get right (RFC 2047 words, charsets, dates, address display).
//
// The scanner is iterative (an explicit stack of open entities), visits every line once and
// checks lines that start with "--" against the boundaries of the open multiparts, so the cost
// is O(size * depth) with depth bounded by MimeLimits::max_depth (and kHardMaxDepth).

#include "mailboxstore/core/mime_parser.h"

#include <gmime/gmime.h>
#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mailboxstore {
namespace {

using ::google::protobuf::RepeatedPtrField;
using ::mail::v1::BodyPart;
using ::mail::v1::Envelope;
using ::mail::v1::EnvelopeAddress;
using ::mail::v1::MessageStructure;
using ::mail::v1::MimeParam;

// Nesting is also bounded by protobuf's recursion limit (100) when the structure is parsed
// back from the wire inside FetchResponse, so a caller's larger max_depth is clamped here.
constexpr int kHardMaxDepth = 80;
// Raw bytes of one header value that are decoded for decoded_headers (SEARCH needs no more).
constexpr size_t kMaxDecodedValueBytes = 16 * 1024;
// Total bytes kept in decoded_headers.
constexpr size_t kMaxDecodedHeaderBytes = 1024 * 1024;
// Addresses kept per envelope address field.
constexpr int kMaxAddressesPerField = 10000;
// Parameters kept per Content-Type / Content-Disposition.
constexpr size_t kMaxParams = 256;
constexpr size_t kPreviewChars = 200;
// Encoded body bytes looked at to build the preview.
constexpr size_t kPreviewScanBytes = 256 * 1024;
constexpr size_t kMaxDateBytes = 1024;

GMimeParserOptions* g_parser_options = nullptr;

// ---------------------------------------------------------------------------------------
// GLib helpers.

struct GFreeDeleter {
  void operator()(void* p) const { g_free(p); }
};
using GCharPtr = std::unique_ptr<char, GFreeDeleter>;

struct GDateTimeDeleter {
  void operator()(GDateTime* p) const {
    if (p != nullptr) g_date_time_unref(p);
  }
};

// ---------------------------------------------------------------------------------------
// String helpers.

bool IsWsp(char c) { return c == ' ' || c == '\t'; }
bool IsSpaceOrEol(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char UpperChar(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerChar(c);
  return out;
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = UpperChar(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerChar(a[i]) != LowerChar(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpaceOrEol(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpaceOrEol(s.back())) s.remove_suffix(1);
  return s;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

std::string StripNul(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c != '\0') out.push_back(c);
  }
  return out;
}

// RFC 5322 unfolding of a raw header value that may span continuation lines: CR, LF (and NUL,
// which no consumer can carry) are removed, surrounding white space trimmed.
std::string Unfold(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  }
  std::string_view trimmed = Trim(out);
  return std::string(trimmed);
}

// Protobuf string fields must hold UTF-8. Valid input is kept; 8-bit text is decoded with
// GMime's fallback charsets (UTF-8, then windows-1252); anything left invalid becomes U+FFFD.
std::string ToValidUtf8(std::string_view s) {
  std::string clean = StripNul(s);
  if (g_utf8_validate(clean.data(), static_cast<gssize>(clean.size()), nullptr)) return clean;
  GCharPtr decoded(g_mime_utils_decode_8bit(g_parser_options, clean.data(), clean.size()));
  if (decoded != nullptr && g_utf8_validate(decoded.get(), -1, nullptr)) {
    return std::string(decoded.get());
  }
  GCharPtr valid(g_utf8_make_valid(clean.data(), static_cast<gssize>(clean.size())));
  return std::string(valid.get());
}

bool IsAsciiCompatibleCharset(std::string_view charset) {
  static constexpr std::array<std::string_view, 6> kNames = {"",      "us-ascii", "ascii",
                                                             "utf-8", "utf8",     "ansi_x3.4-1968"};
  std::string lower = AsciiLower(Trim(charset));
  return std::find(kNames.begin(), kNames.end(), lower) != kNames.end();
}

// Converts bytes in `charset` to UTF-8. Invalid sequences become U+FFFD; an unknown charset
// falls back to the 8-bit heuristics of ToValidUtf8.
std::string ConvertToUtf8(std::string_view bytes, std::string_view charset) {
  std::string in = StripNul(bytes);
  if (IsAsciiCompatibleCharset(charset)) return ToValidUtf8(in);
  std::string charset_name = StripNul(Trim(charset));
  iconv_t cd = g_mime_iconv_open("UTF-8", charset_name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return ToValidUtf8(in);

  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out(in.size() * 2 + 16, '\0');
  size_t used = 0;
  char* in_ptr = in.data();
  size_t in_left = in.size();
  bool flushing = false;
  for (;;) {
    if (out.size() - used < 16) out.resize(out.size() * 2 + 16);
    char* out_ptr = out.data() + used;
    size_t out_left = out.size() - used;
    size_t rc = flushing ? iconv(cd, nullptr, nullptr, &out_ptr, &out_left)
                         : iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    const int err = errno;
    used = static_cast<size_t>(out_ptr - out.data());
    if (rc != static_cast<size_t>(-1)) {
      if (flushing) break;
      flushing = true;  // All input consumed: flush the shift state (ISO-2022-JP).
      continue;
    }
    if (err == E2BIG) {
      out.resize(out.size() * 2 + 16);
      continue;
    }
    if (flushing || in_left == 0) break;
    // EILSEQ / EINVAL: skip one byte.
    if (out.size() - used < kReplacement.size()) out.resize(out.size() * 2 + 16);
    std::memcpy(out.data() + used, kReplacement.data(), kReplacement.size());
    used += kReplacement.size();
    ++in_ptr;
    --in_left;
  }
  g_mime_iconv_close(cd);
  out.resize(used);
  return ToValidUtf8(out);
}

// RFC 2047 decoding of an unfolded header value into UTF-8.
std::string DecodeHeaderText(std::string_view unfolded) {
  std::string capped = StripNul(unfolded.substr(0, kMaxDecodedValueBytes));
  GCharPtr decoded(g_mime_utils_header_decode_text(g_parser_options, capped.c_str()));
  if (decoded == nullptr) return ToValidUtf8(capped);
  return ToValidUtf8(std::string(Trim(decoded.get())));
}

bool IsAddressHeader(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 11> kNames = {
      "from",        "sender",        "reply-to",  "to",        "cc",        "bcc",
      "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc"};
  return std::find(kNames.begin(), kNames.end(), lower_name) != kNames.end();
}

std::string EncodeRfc2047(std::string_view utf8) {
  GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(utf8.data()), utf8.size()));
  return "=?UTF-8?B?" + std::string(b64.get()) + "?=";
}

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  const char l = LowerChar(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Structured header values (RFC 2045 Content-Type / RFC 2183 Content-Disposition).

bool IsTSpecial(char c) { return c != '\0' && std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr; }

// Token characters; 8-bit bytes are accepted (lenient, as deployed servers are).
bool IsTokenChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f && !IsTSpecial(c);
}

class ValueScanner {
 public:
  explicit ValueScanner(std::string_view s) : s_(s) {}

  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return s_[pos_]; }
  void Advance() { ++pos_; }

  void SkipCfws() {
    while (!AtEnd()) {
      const char c = s_[pos_];
      if (IsSpaceOrEol(c)) {
        ++pos_;
      } else if (c == '(') {
        SkipComment();
      } else {
        break;
      }
    }
  }

  // At '(': skips a (nested) comment; an unterminated one runs to the end.
  void SkipComment() {
    int depth = 0;
    while (!AtEnd()) {
      const char c = s_[pos_++];
      if (c == '\\') {
        if (!AtEnd()) ++pos_;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (--depth == 0) return;
      }
    }
  }

  std::string_view ReadToken() {
    const size_t start = pos_;
    while (!AtEnd() && IsTokenChar(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // At '"': returns the content with quoted-pairs resolved; unterminated runs to the end.
  std::string ReadQuoted() {
    std::string out;
    ++pos_;
    while (!AtEnd()) {
      char c = s_[pos_++];
      if (c == '"') break;
      if (c == '\\' && !AtEnd()) c = s_[pos_++];
      out.push_back(c);
    }
    return out;
  }

  // An unquoted parameter value, leniently up to ';' or a comment ("name=a b.pdf" and
  // "name==?UTF-8?B?...?=" are common in the wild).
  std::string ReadLenientValue() {
    const size_t start = pos_;
    while (!AtEnd() && s_[pos_] != ';' && s_[pos_] != '(') ++pos_;
    return std::string(Trim(s_.substr(start, pos_ - start)));
  }

  // Moves to the next ';' outside quoted strings and comments (or the end).
  void SkipToSemicolon() {
    while (!AtEnd()) {
      const char c = s_[pos_];
      if (c == ';') return;
      if (c == '"') {
        ReadQuoted();
      } else if (c == '(') {
        SkipComment();
      } else {
        ++pos_;
      }
    }
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

struct RawParam {
  std::string name;   // As written, e.g. "filename*0*".
  std::string value;  // Unquoted bytes.
};

std::vector<RawParam> ParseRawParams(ValueScanner& sc) {
  std::vector<RawParam> out;
  while (out.size() < kMaxParams) {
    sc.SkipCfws();
    if (sc.AtEnd()) break;
    if (sc.Peek() != ';') {
      sc.SkipToSemicolon();
      if (sc.AtEnd()) break;
    }
    sc.Advance();  // ';'
    sc.SkipCfws();
    const std::string_view name = sc.ReadToken();
    sc.SkipCfws();
    if (name.empty() || sc.AtEnd() || sc.Peek() != '=') continue;
    sc.Advance();  // '='
    sc.SkipCfws();
    std::string value = (!sc.AtEnd() && sc.Peek() == '"') ? sc.ReadQuoted() : sc.ReadLenientValue();
    out.push_back({std::string(name), std::move(value)});
  }
  return out;
}

// RFC 2231 parameter name analysis: "name*" (extended), "name*N" (continuation),
// "name*N*" (extended continuation).
struct ParamName {
  std::string_view base;
  int section = 0;
  bool extended = false;
  bool rfc2231 = false;
};

ParamName AnalyzeParamName(std::string_view name) {
  ParamName result;
  result.base = name;
  std::string_view n = name;
  bool extended = false;
  if (!n.empty() && n.back() == '*') {
    extended = true;
    n.remove_suffix(1);
  }
  int section = 0;
  const size_t star = n.rfind('*');
  if (star != std::string_view::npos && star + 1 < n.size() && n.size() - star - 1 <= 6 &&
      std::all_of(n.begin() + static_cast<std::ptrdiff_t>(star) + 1, n.end(), IsDigit)) {
    for (size_t i = star + 1; i < n.size(); ++i) section = section * 10 + (n[i] - '0');
    n = n.substr(0, star);
  } else if (!extended) {
    return result;  // A plain parameter.
  }
  if (n.empty()) return result;
  result.base = n;
  result.section = section;
  result.extended = extended;
  result.rfc2231 = true;
  return result;
}

struct ParamSegment {
  int section;
  bool extended;
  std::string value;
};

struct ParamGroup {
  std::string name;  // Base name as first written.
  std::optional<std::string> plain;
  std::vector<ParamSegment> segments;
};

// Joins RFC 2231 continuations and decodes values. MimeParam.value is what BODYSTRUCTURE
// sends: the raw unquoted value for plain parameters; for RFC 2231 parameters (whose name
// we report without '*'), the sender's own plain fallback when there is one, else the decoded
// text, RFC 2047-encoded when it is not ASCII (what IMAP clients decode in parameters).
void BuildParams(const std::vector<RawParam>& raw, RepeatedPtrField<MimeParam>* out) {
  std::vector<ParamGroup> groups;
  for (const RawParam& p : raw) {
    const ParamName pn = AnalyzeParamName(p.name);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const ParamGroup& g) { return EqualsIgnoreCase(g.name, pn.base); });
    if (it == groups.end()) {
      groups.push_back(ParamGroup{std::string(pn.base), std::nullopt, {}});
      it = groups.end() - 1;
    }
    if (!pn.rfc2231) {
      if (!it->plain) it->plain = p.value;
      continue;
    }
    const bool duplicate =
        std::any_of(it->segments.begin(), it->segments.end(),
                    [&](const ParamSegment& s) { return s.section == pn.section; });
    if (!duplicate) it->segments.push_back({pn.section, pn.extended, p.value});
  }

  for (ParamGroup& g : groups) {
    MimeParam* param = out->Add();
    param->set_name(ToValidUtf8(g.name));
    if (g.segments.empty()) {
      param->set_value(ToValidUtf8(*g.plain));
      param->set_decoded(DecodeHeaderText(*g.plain));
      continue;
    }
    std::sort(g.segments.begin(), g.segments.end(),
              [](const ParamSegment& a, const ParamSegment& b) { return a.section < b.section; });
    std::string charset;
    std::string bytes;
    for (size_t i = 0; i < g.segments.size(); ++i) {
      std::string_view value = g.segments[i].value;
      if (!g.segments[i].extended) {
        bytes.append(value);
        continue;
      }
      if (i == 0) {  // charset'language'data
        const size_t q1 = value.find('\'');
        const size_t q2 = q1 == std::string_view::npos ? q1 : value.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
          charset = std::string(value.substr(0, q1));
          value = value.substr(q2 + 1);
        }
      }
      bytes.append(PercentDecode(value));
    }
    std::string decoded = ConvertToUtf8(bytes, charset);
    if (g.plain) {
      param->set_value(ToValidUtf8(*g.plain));
    } else {
      param->set_value(IsAscii(decoded) ? decoded : EncodeRfc2047(decoded));
    }
    param->set_decoded(std::move(decoded));
  }
}

struct ContentType {
  bool valid = false;
  std::string type;
  std::string subtype;
  std::vector<RawParam> params;
};

ContentType ParseContentType(std::string_view value) {
  ContentType ct;
  ValueScanner sc(value);
  sc.SkipCfws();
  const std::string_view type = sc.ReadToken();
  sc.SkipCfws();
  if (type.empty() || sc.AtEnd() || sc.Peek() != '/') return ct;
  sc.Advance();
  sc.SkipCfws();
  const std::string_view subtype = sc.ReadToken();
  if (subtype.empty()) return ct;
  ct.valid = true;
  ct.type = AsciiLower(type);
  ct.subtype = AsciiLower(subtype);
  ct.params = ParseRawParams(sc);
  return ct;
}

const MimeParam* FindParam(const RepeatedPtrField<MimeParam>& params, std::string_view name) {
  for (const MimeParam& p : params) {
    if (EqualsIgnoreCase(p.name(), name)) return &p;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// RFC 5322 address lists for ENVELOPE, kept raw (display names stay RFC 2047-encoded),
// Dovecot-compatible: groups become group_start/group_end entries, a missing local part or
// domain is filled with MISSING_MAILBOX / MISSING_DOMAIN (a NIL host would read as a group
// end marker to IMAP clients), a trailing comment stands in for a missing display name.

bool IsAtext(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;  // RFC 6532 UTF-8 or legacy 8-bit.
  if (IsAlnum(c)) return true;
  return c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

class AddressParser {
 public:
  // `fill_missing`: MISSING_MAILBOX / MISSING_DOMAIN for absent parts (ENVELOPE); otherwise
  // absent parts stay unset.
  AddressParser(std::string_view s, bool fill_missing, RepeatedPtrField<EnvelopeAddress>* out)
      : s_(s), fill_missing_(fill_missing), out_(out) {}

  void Parse() {
    while (!AtEnd() && out_->size() < kMaxAddressesPerField) {
      SkipCfws();
      if (AtEnd()) break;
      const char c = s_[pos_];
      if (c == ',' || c == ';' || c == '>') {
        ++pos_;
        continue;
      }
      const size_t before = pos_;
      ParseAddress(/*allow_group=*/true);
      if (pos_ == before) ++pos_;
    }
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }

  void SkipCfws() {
    while (!AtEnd()) {
      const char c = s_[pos_];
      if (IsSpaceOrEol(c)) {
        ++pos_;
      } else if (c == '(') {
        ReadComment();
      } else {
        break;
      }
    }
  }

  // At '(': remembers the comment text (outer parentheses removed) as last_comment_.
  void ReadComment() {
    std::string text;
    int depth = 0;
    while (!AtEnd()) {
      char c = s_[pos_++];
      if (c == '\\' && !AtEnd()) {
        c = s_[pos_++];
      } else if (c == '(') {
        if (depth++ == 0) continue;
      } else if (c == ')') {
        if (--depth == 0) break;
      }
      text.push_back(c);
    }
    last_comment_ = std::string(Trim(text));
  }

  std::string ReadQuoted() {
    std::string out;
    ++pos_;
    while (!AtEnd()) {
      char c = s_[pos_++];
      if (c == '"') break;
      if (c == '\\' && !AtEnd()) c = s_[pos_++];
      if (c != '\r' && c != '\n') out.push_back(c);
    }
    return out;
  }

  // display-name: words (atoms, dots, quoted strings) joined by single spaces.
  std::string ParsePhrase() {
    std::string phrase;
    for (;;) {
      SkipCfws();
      if (AtEnd()) break;
      std::string word;
      if (s_[pos_] == '"') {
        word = ReadQuoted();
      } else if (IsAtext(s_[pos_]) || s_[pos_] == '.') {
        const size_t start = pos_;
        while (!AtEnd() && (IsAtext(s_[pos_]) || s_[pos_] == '.')) ++pos_;
        word = std::string(s_.substr(start, pos_ - start));
      } else {
        break;
      }
      if (!phrase.empty()) phrase.push_back(' ');
      phrase += word;
    }
    return phrase;
  }

  std::string ParseLocalPart() {
    std::string local;
    while (!AtEnd()) {
      const char c = s_[pos_];
      if (c == '"') {
        local += ReadQuoted();
      } else if (IsAtext(c) || c == '.') {
        local.push_back(c);
        ++pos_;
      } else {
        break;
      }
    }
    return local;
  }

  std::string ParseDomain() {
    SkipCfws();
    std::string domain;
    if (!AtEnd() && s_[pos_] == '[') {
      const size_t start = pos_;
      while (!AtEnd() && s_[pos_] != ']') ++pos_;
      if (!AtEnd()) ++pos_;
      domain = std::string(s_.substr(start, pos_ - start));
    } else {
      while (!AtEnd() && (IsAtext(s_[pos_]) || s_[pos_] == '.')) domain.push_back(s_[pos_++]);
    }
    SkipCfws();
    return domain;
  }

  void ParseAddress(bool allow_group) {
    const size_t start = pos_;
    std::string phrase = ParsePhrase();
    SkipCfws();
    if (!AtEnd() && s_[pos_] == '<') {
      ParseAngleAddr(phrase);
      return;
    }
    if (allow_group && !AtEnd() && s_[pos_] == ':' && !phrase.empty()) {
      ParseGroup(phrase);
      return;
    }
    pos_ = start;
    ParseAddrSpec();
  }

  void ParseGroup(const std::string& name) {
    ++pos_;  // ':'
    EnvelopeAddress* start = out_->Add();
    start->set_mailbox(ToValidUtf8(name));
    start->set_group_start(true);
    while (!AtEnd() && out_->size() < kMaxAddressesPerField) {
      SkipCfws();
      if (AtEnd()) break;
      const char c = s_[pos_];
      if (c == ';') {
        ++pos_;
        break;
      }
      if (c == ',' || c == '>') {
        ++pos_;
        continue;
      }
      const size_t before = pos_;
      ParseAddress(/*allow_group=*/false);
      if (pos_ == before) ++pos_;
    }
    out_->Add()->set_group_end(true);
  }

  void ParseAngleAddr(const std::string& name) {
    ++pos_;  // '<'
    SkipCfws();
    std::string adl;
    if (!AtEnd() && s_[pos_] == '@') {  // obs-route: "@a,@b:"
      const size_t route_start = pos_;
      while (!AtEnd() && s_[pos_] != ':' && s_[pos_] != '>') ++pos_;
      if (!AtEnd() && s_[pos_] == ':') {
        for (char c : s_.substr(route_start, pos_ - route_start)) {
          if (!IsSpaceOrEol(c)) adl.push_back(c);
        }
        ++pos_;
      } else {
        pos_ = route_start;
      }
    }
    SkipCfws();
    const std::string local = ParseLocalPart();
    SkipCfws();
    std::string domain;
    if (!AtEnd() && s_[pos_] == '@') {
      ++pos_;
      domain = ParseDomain();
    }
    while (!AtEnd() && s_[pos_] != '>' && s_[pos_] != ',' && s_[pos_] != ';') ++pos_;
    if (!AtEnd() && s_[pos_] == '>') ++pos_;
    Emit(name, adl, local, domain);
  }

  void ParseAddrSpec() {
    last_comment_.clear();
    SkipCfws();
    const std::string local = ParseLocalPart();
    SkipCfws();
    std::string domain;
    if (!AtEnd() && s_[pos_] == '@') {
      ++pos_;
      domain = ParseDomain();
    }
    SkipCfws();
    const std::string name = last_comment_;
    // Whatever else precedes the next separator is garbage.
    while (!AtEnd() && s_[pos_] != ',' && s_[pos_] != ';') {
      if (s_[pos_] == '"') {
        ReadQuoted();
      } else if (s_[pos_] == '(') {
        ReadComment();
      } else {
        ++pos_;
      }
    }
    Emit(name, "", local, domain);
  }

  void Emit(std::string_view name, std::string_view adl, std::string_view local,
            std::string_view domain) {
    if (name.empty() && local.empty() && domain.empty()) return;
    if (out_->size() >= kMaxAddressesPerField) return;
    EnvelopeAddress* a = out_->Add();
    if (!name.empty()) a->set_name(ToValidUtf8(name));
    if (!adl.empty()) a->set_adl(ToValidUtf8(adl));
    if (!local.empty()) {
      a->set_mailbox(ToValidUtf8(local));
    } else if (fill_missing_) {
      a->set_mailbox("MISSING_MAILBOX");
    }
    if (!domain.empty()) {
      a->set_host(ToValidUtf8(domain));
    } else if (fill_missing_) {
      a->set_host("MISSING_DOMAIN");
    }
  }

  std::string_view s_;
  const bool fill_missing_;
  size_t pos_ = 0;
  std::string last_comment_;
  RepeatedPtrField<EnvelopeAddress>* out_;
};

// A display name for decoded output: quoted when it holds RFC 5322 specials.
std::string QuoteIfNeeded(const std::string& name) {
  if (name.find_first_of("()<>[]:;@\\,.\"") == std::string::npos) return name;
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// An address header for SEARCH, display names decoded: "Jörg Müller <j@example.de>". The
// structure comes from AddressParser (linear); GMime's internet_address_list_parse is
// quadratic on inputs like "a,a,a,...", too slow for hostile messages.
std::string DecodeAddressHeader(std::string_view unfolded) {
  const std::string_view capped = unfolded.substr(0, kMaxDecodedValueBytes);
  RepeatedPtrField<EnvelopeAddress> list;
  AddressParser(capped, /*fill_missing=*/false, &list).Parse();
  if (list.empty()) return DecodeHeaderText(capped);
  std::string out;
  bool in_group = false;
  bool first_member = false;
  for (const EnvelopeAddress& a : list) {
    if (a.group_start()) {
      if (!out.empty()) out += ", ";
      out += QuoteIfNeeded(DecodeHeaderText(a.mailbox())) + ":";
      in_group = true;
      first_member = true;
      continue;
    }
    if (a.group_end()) {
      out += ";";
      in_group = false;
      continue;
    }
    if (in_group) {
      out += first_member ? " " : ", ";
      first_member = false;
    } else if (!out.empty()) {
      out += ", ";
    }
    std::string addr = a.mailbox();
    if (a.has_host()) addr += "@" + a.host();
    if (a.has_name()) {
      out += QuoteIfNeeded(DecodeHeaderText(a.name())) + " <" + addr + ">";
    } else {
      out += addr;
    }
  }
  return ToValidUtf8(out);
}

// ---------------------------------------------------------------------------------------
// Header fields the structure needs (first occurrence wins).

enum FieldId : int {
  kContentType,
  kContentTransferEncoding,
  kContentId,
  kContentDescription,
  kContentMd5,
  kContentDisposition,
  kContentLanguage,
  kContentLocation,
  kDate,
  kSubject,
  kFrom,
  kSender,
  kReplyTo,
  kTo,
  kCc,
  kBcc,
  kInReplyTo,
  kMessageId,
  kFieldCount,
  kOtherField = kFieldCount,
};

constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-description",
    "content-md5",
    "content-disposition",
    "content-language",
    "content-location",
    "date",
    "subject",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "in-reply-to",
    "message-id",
};

int LookupField(std::string_view name) {
  for (int i = 0; i < kFieldCount; ++i) {
    if (EqualsIgnoreCase(name, kFieldNames[static_cast<size_t>(i)])) return i;
  }
  return kOtherField;
}

struct Span {
  size_t begin = 0;
  size_t end = 0;
};

// ---------------------------------------------------------------------------------------
// The structure scanner.

enum class EntityState {
  kHeader,     // Reading the entity's header.
  kLeaf,       // Opaque body: lines need no work.
  kMultipart,  // Preamble, parts (children above on the stack) or epilogue.
  kMessage,    // message/rfc822: the encapsulated message is above on the stack.
};

struct Frame {
  BodyPart* part = nullptr;
  Envelope* envelope = nullptr;  // Set for message roots (the message, message/rfc822 bodies).
  int depth = 0;
  bool is_root = false;
  bool in_digest = false;  // Default Content-Type is message/rfc822.
  EntityState state = EntityState::kHeader;
  std::array<std::optional<Span>, kFieldCount> fields;
  bool has_pending = false;
  Span pending_name;
  Span pending_value;
  // Multipart state.
  std::string boundary;
  bool is_digest = false;
  bool closed = false;    // Close delimiter seen; what follows is the epilogue.
  bool skipping = false;  // max_parts reached: further parts are not recorded.
};

struct BoundaryMatch {
  size_t frame;
  bool close;
};

bool IsIdentityEncoding(std::string_view enc) {
  return enc == "7BIT" || enc == "8BIT" || enc == "BINARY";
}

void MakeOpaque(BodyPart* part) {
  part->set_type("application");
  part->set_subtype("octet-stream");
  part->set_malformed(true);
}

uint32_t CountLines(std::string_view body) {
  size_t lines = static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
  if (!body.empty() && body.back() != '\n') ++lines;
  return static_cast<uint32_t>(std::min<size_t>(lines, UINT32_MAX));
}

bool CountsLines(const BodyPart& part) {
  return part.type() == "text" || (part.type() == "message" && part.subtype() == "rfc822");
}

void AddDefaultCharset(BodyPart* part) {
  if (part->type() != "text" || FindParam(part->params(), "charset") != nullptr) return;
  MimeParam* charset = part->add_params();
  charset->set_name("charset");
  charset->set_value("us-ascii");
  charset->set_decoded("us-ascii");
}

class StructureParser {
 public:
  StructureParser(std::string_view raw, const MimeLimits& limits, MessageStructure* out)
      : raw_(raw),
        max_depth_(std::clamp(limits.max_depth, 0, kHardMaxDepth)),
        max_parts_(std::max(limits.max_parts, 1)),
        max_header_fields_(std::max(limits.max_header_fields, 0)),
        out_(out) {}

  void Run() {
    frames_.reserve(static_cast<size_t>(max_depth_) + 4);
    out_->set_size(raw_.size());
    parts_used_ = 1;
    PushEntity(out_->mutable_body(), out_->mutable_envelope(), 0, 0, false);
    frames_.back().is_root = true;

    const size_t n = raw_.size();
    size_t pos = 0;
    size_t prev_eol = 0;
    while (pos < n) {
      const void* nl = std::memchr(raw_.data() + pos, '\n', n - pos);
      size_t content_end = n;
      size_t next = n;
      size_t eol = 0;
      if (nl != nullptr) {
        content_end = static_cast<size_t>(static_cast<const char*>(nl) - raw_.data());
        next = content_end + 1;
        eol = 1;
        if (content_end > pos && raw_[content_end - 1] == '\r') {
          --content_end;
          eol = 2;
        }
      }
      OnLine(pos, content_end, next, prev_eol);
      prev_eol = eol;
      pos = next;
    }
    FinishTruncatedHeaders(n);
    CloseFramesAbove(0, n);
  }

 private:
  void PushEntity(BodyPart* part, Envelope* envelope, size_t offset, int depth, bool in_digest) {
    part->set_header_offset(offset);
    part->set_body_offset(offset);
    Frame& f = frames_.emplace_back();
    f.part = part;
    f.envelope = envelope;
    f.depth = depth;
    f.in_digest = in_digest;
  }

  void OnLine(size_t start, size_t content_end, size_t next, size_t prev_eol) {
    const std::string_view content = raw_.substr(start, content_end - start);
    if (content.size() >= 2 && content[0] == '-' && content[1] == '-') {
      if (std::optional<BoundaryMatch> m = MatchBoundary(content.substr(2))) {
        OnBoundary(*m, start - prev_eol, next);
        return;
      }
    }
    Frame& top = frames_.back();
    if (top.state != EntityState::kHeader) return;  // Body lines need no work.
    if (content.empty()) {
      FinishHeader(frames_.size() - 1, next);
    } else {
      HeaderLine(top, start, content_end);
    }
  }

  // Longest matching boundary of an open multipart wins, the innermost on a tie (Dovecot).
  std::optional<BoundaryMatch> MatchBoundary(std::string_view rest) const {
    std::optional<BoundaryMatch> best;
    size_t best_len = 0;
    for (size_t i = frames_.size(); i-- > 0;) {
      const Frame& f = frames_[i];
      if (f.state != EntityState::kMultipart || f.closed || f.boundary.empty()) continue;
      const size_t len = f.boundary.size();
      if (len > rest.size() || rest.compare(0, len, f.boundary) != 0) continue;
      if (!best || len > best_len) {
        best = BoundaryMatch{i, false};
        best_len = len;
      }
    }
    if (best) best->close = rest.size() >= best_len + 2 && rest.substr(best_len, 2) == "--";
    return best;
  }

  // `end` is where the entities inside the multipart end: before the CRLF that precedes the
  // delimiter line (RFC 2046 5.1.1); `next` is the first byte after the delimiter line.
  void OnBoundary(BoundaryMatch m, size_t end, size_t next) {
    FinishTruncatedHeaders(end);
    CloseFramesAbove(m.frame + 1, end);
    Frame& mp = frames_[m.frame];
    if (m.close) {
      mp.closed = true;
      return;
    }
    if (mp.skipping) return;
    if (parts_used_ >= max_parts_) {
      mp.skipping = true;
      mp.part->set_malformed(true);
      return;
    }
    ++parts_used_;
    const int depth = mp.depth + 1;
    const bool in_digest = mp.is_digest;
    PushEntity(mp.part->add_children(), nullptr, next, depth, in_digest);
  }

  void HeaderLine(Frame& f, size_t start, size_t content_end) {
    if (IsWsp(raw_[start])) {  // Continuation of the pending field.
      if (f.has_pending) f.pending_value.end = content_end;
      return;
    }
    FlushPendingField(f);
    const void* colon = std::memchr(raw_.data() + start, ':', content_end - start);
    if (colon == nullptr) return;  // Not a header field: ignored, still part of the header.
    const size_t colon_pos = static_cast<size_t>(static_cast<const char*>(colon) - raw_.data());
    size_t name_end = colon_pos;
    while (name_end > start && IsWsp(raw_[name_end - 1])) --name_end;
    if (name_end == start) return;
    f.has_pending = true;
    f.pending_name = {start, name_end};
    f.pending_value = {colon_pos + 1, content_end};
  }

  std::string_view Slice(Span s) const { return raw_.substr(s.begin, s.end - s.begin); }

  void FlushPendingField(Frame& f) {
    if (!f.has_pending) return;
    f.has_pending = false;
    const std::string_view name = Slice(f.pending_name);
    const int id = LookupField(name);
    if (id != kOtherField && !f.fields[static_cast<size_t>(id)]) {
      f.fields[static_cast<size_t>(id)] = f.pending_value;
    }
    if (f.is_root) AddDecodedHeader(name, f.pending_value);
  }

  void AddDecodedHeader(std::string_view name, Span value) {
    if (out_->decoded_headers_size() >= max_header_fields_) return;
    if (decoded_bytes_ >= kMaxDecodedHeaderBytes || name.size() > kMaxDecodedValueBytes) return;
    const std::string_view raw_value = Slice(value).substr(0, 2 * kMaxDecodedValueBytes);
    const std::string unfolded = Unfold(raw_value).substr(0, kMaxDecodedValueBytes);
    const std::string lower = ToValidUtf8(AsciiLower(name));
    std::string decoded =
        IsAddressHeader(lower) ? DecodeAddressHeader(unfolded) : DecodeHeaderText(unfolded);
    decoded_bytes_ += lower.size() + decoded.size();
    mail::v1::HeaderField* field = out_->add_decoded_headers();
    field->set_name(lower);
    field->set_decoded(std::move(decoded));
  }

  std::optional<std::string> FieldValue(const Frame& f, int id) const {
    const std::optional<Span>& span = f.fields[static_cast<size_t>(id)];
    if (!span) return std::nullopt;
    return Unfold(Slice(*span));
  }

  // The header ends at `header_end` (after its blank line, or truncated); the body follows.
  void FinishHeader(size_t index, size_t header_end) {
    {
      Frame& f = frames_[index];
      FlushPendingField(f);
      BodyPart* part = f.part;
      part->set_header_size(header_end - part->header_offset());
      part->set_body_offset(header_end);
      std::string boundary = ApplyContentFields(f, part);
      if (f.envelope != nullptr) FillEnvelope(f, f.envelope);
      if (f.is_root) SetSentDate(f);

      const bool can_nest = f.depth < max_depth_ && parts_used_ < max_parts_;
      f.state = EntityState::kLeaf;
      if (part->type() == "multipart") {
        if (!can_nest) {
          MakeOpaque(part);
          return;
        }
        f.state = EntityState::kMultipart;
        f.boundary = std::move(boundary);
        f.is_digest = part->subtype() == "digest";
        return;
      }
      if (part->type() != "message" || part->subtype() != "rfc822") return;
      if (!can_nest || !IsIdentityEncoding(part->encoding())) {
        MakeOpaque(part);
        return;
      }
      f.state = EntityState::kMessage;
    }
    // Push after the block: the push may move frames_ (it never does given the reserve,
    // but references are not kept across it anyway).
    Frame& f = frames_[index];
    ++parts_used_;
    const int depth = f.depth + 1;
    PushEntity(f.part->add_children(), f.part->mutable_envelope(), header_end, depth, false);
  }

  // Headers still open when their entity ends (no blank line): they end at `end`.
  void FinishTruncatedHeaders(size_t end) {
    while (frames_.back().state == EntityState::kHeader) {
      const size_t index = frames_.size() - 1;
      const size_t header_end = std::max<size_t>(end, frames_[index].part->header_offset());
      FinishHeader(index, header_end);
    }
  }

  // Closes every frame at index >= keep; their bodies end at `end`. The lowest of them never
  // ends before its own body starts (an empty part whose blank line precedes the delimiter);
  // the entities nested in it are clipped to that end, so children always lie inside their
  // parent's body (e.g. an encapsulated header whose blank line is the CRLF that belongs to
  // the delimiter loses that CRLF).
  void CloseFramesAbove(size_t keep, size_t end) {
    if (frames_.size() <= keep) return;
    end = std::max<size_t>(end, frames_[keep].part->body_offset());
    while (frames_.size() > keep) {
      CloseFrame(frames_.back(), end);
      frames_.pop_back();
    }
  }

  void CloseFrame(const Frame& f, size_t end) {
    BodyPart* part = f.part;
    if (part->body_offset() > end) {
      const size_t header_offset = std::min<size_t>(part->header_offset(), end);
      part->set_header_offset(header_offset);
      part->set_header_size(end - header_offset);
      part->set_body_offset(end);
    }
    part->set_body_size(end - part->body_offset());
    if (f.state == EntityState::kMultipart) {
      if (!f.closed) part->set_malformed(true);
      if (part->children_size() == 0) {
        // No boundary found (or none declared): IMAP needs at least one part, and the user
        // is best served by seeing the raw text, so the body becomes one text/plain part.
        part->set_malformed(true);
        ++parts_used_;
        BodyPart* child = part->add_children();
        child->set_type("text");
        child->set_subtype("plain");
        AddDefaultCharset(child);
        child->set_encoding("7BIT");
        child->set_header_offset(part->body_offset());
        child->set_header_size(0);
        child->set_body_offset(part->body_offset());
        child->set_body_size(part->body_size());
        child->set_body_lines(CountLines(raw_.substr(child->body_offset(), child->body_size())));
      }
    }
    if (CountsLines(*part)) {
      part->set_body_lines(CountLines(raw_.substr(part->body_offset(), part->body_size())));
    }
  }

  // Fills type, parameters and the other Content-* fields; returns the raw boundary.
  std::string ApplyContentFields(const Frame& f, BodyPart* part) {
    std::string boundary;
    bool have_type = false;
    if (std::optional<std::string> value = FieldValue(f, kContentType)) {
      ContentType ct = ParseContentType(*value);
      if (ct.valid) {
        have_type = true;
        part->set_type(ToValidUtf8(ct.type));
        part->set_subtype(ToValidUtf8(ct.subtype));
        BuildParams(ct.params, part->mutable_params());
        for (const RawParam& p : ct.params) {
          if (EqualsIgnoreCase(p.name, "boundary")) {
            boundary = p.value;
            break;
          }
        }
      }
    }
    if (!have_type) {
      // RFC 2045 5.2 (absent or invalid) and RFC 2046 5.1.5 (digest).
      part->set_type(f.in_digest ? "message" : "text");
      part->set_subtype(f.in_digest ? "rfc822" : "plain");
    }
    AddDefaultCharset(part);

    std::string encoding;
    if (std::optional<std::string> value = FieldValue(f, kContentTransferEncoding)) {
      ValueScanner sc(*value);
      sc.SkipCfws();
      encoding = AsciiUpper(ToValidUtf8(sc.ReadToken()));
    }
    part->set_encoding(encoding.empty() ? std::string("7BIT") : encoding);

    if (std::optional<std::string> v = FieldValue(f, kContentId)) part->set_id(ToValidUtf8(*v));
    if (std::optional<std::string> v = FieldValue(f, kContentDescription)) {
      part->set_description(ToValidUtf8(*v));
    }
    if (std::optional<std::string> v = FieldValue(f, kContentMd5)) part->set_md5(ToValidUtf8(*v));
    if (std::optional<std::string> v = FieldValue(f, kContentLocation)) {
      part->set_location(ToValidUtf8(*v));
    }
    if (std::optional<std::string> v = FieldValue(f, kContentLanguage)) {
      std::string_view rest = *v;
      while (!rest.empty() && part->language_size() < static_cast<int>(kMaxParams)) {
        const size_t comma = rest.find(',');
        const std::string_view tag = Trim(rest.substr(0, comma));
        if (!tag.empty()) part->add_language(ToValidUtf8(tag));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
    if (std::optional<std::string> v = FieldValue(f, kContentDisposition)) {
      ValueScanner sc(*v);
      sc.SkipCfws();
      const std::string_view disposition = sc.ReadToken();
      if (!disposition.empty()) {
        part->set_disposition(ToValidUtf8(AsciiLower(disposition)));
        BuildParams(ParseRawParams(sc), part->mutable_disposition_params());
      }
    }
    return boundary;
  }

  void FillEnvelope(const Frame& f, Envelope* env) {
    if (std::optional<std::string> v = FieldValue(f, kDate)) env->set_date(ToValidUtf8(*v));
    if (std::optional<std::string> v = FieldValue(f, kSubject)) env->set_subject(ToValidUtf8(*v));
    if (std::optional<std::string> v = FieldValue(f, kInReplyTo)) {
      env->set_in_reply_to(ToValidUtf8(*v));
    }
    if (std::optional<std::string> v = FieldValue(f, kMessageId)) {
      env->set_message_id(ToValidUtf8(*v));
    }
    const std::array<std::pair<int, RepeatedPtrField<EnvelopeAddress>*>, 6> lists = {{
        {kFrom, env->mutable_from()},
        {kSender, env->mutable_sender()},
        {kReplyTo, env->mutable_reply_to()},
        {kTo, env->mutable_to()},
        {kCc, env->mutable_cc()},
        {kBcc, env->mutable_bcc()},
    }};
    for (const auto& [id, list] : lists) {
      if (std::optional<std::string> v = FieldValue(f, id))
        AddressParser(*v, /*fill_missing=*/true, list).Parse();
    }
    // RFC 3501 7.4.2: absent or empty Sender / Reply-To take the From value.
    if (env->sender_size() == 0) *env->mutable_sender() = env->from();
    if (env->reply_to_size() == 0) *env->mutable_reply_to() = env->from();
  }

  void SetSentDate(const Frame& f) {
    std::optional<std::string> v = FieldValue(f, kDate);
    if (!v || v->size() > kMaxDateBytes) return;
    std::unique_ptr<GDateTime, GDateTimeDeleter> date(g_mime_utils_header_decode_date(v->c_str()));
    if (date != nullptr) out_->set_sent_date_unix(g_date_time_to_unix(date.get()));
  }

  std::string_view raw_;
  const int max_depth_;
  const int max_parts_;
  const int max_header_fields_;
  MessageStructure* out_;
  std::vector<Frame> frames_;
  int parts_used_ = 0;
  size_t decoded_bytes_ = 0;
};

// ---------------------------------------------------------------------------------------
// Preview and attachment detection.

std::string DecodeTransferEncoding(std::string_view body, std::string_view encoding) {
  GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_DEFAULT;
  if (encoding == "BASE64") {
    enc = GMIME_CONTENT_ENCODING_BASE64;
  } else if (encoding == "QUOTED-PRINTABLE") {
    enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
  } else {
    return std::string(body);
  }
  GMimeEncoding state;
  g_mime_encoding_init_decode(&state, enc);
  std::string out(g_mime_encoding_outlen(&state, body.size()) + 16, '\0');
  const size_t n = g_mime_encoding_step(&state, body.data(), body.size(), out.data());
  out.resize(std::min(n, out.size()));
  return out;
}

size_t FindIgnoreCase(std::string_view haystack, std::string_view needle, size_t from) {
  if (needle.empty() || haystack.size() < needle.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= haystack.size(); ++i) {
    if (LowerChar(haystack[i]) == LowerChar(needle[0]) &&
        EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) {
      return i;
    }
  }
  return std::string_view::npos;
}

void AppendUnichar(gunichar c, std::string* out) {
  if (!g_unichar_validate(c) || c == 0) return;
  char buf[8];
  const int len = g_unichar_to_utf8(c, buf);
  out->append(buf, static_cast<size_t>(len));
}

// Decodes one HTML character reference at html[i] == '&'; returns the bytes consumed (0 if
// it is not one).
size_t DecodeEntity(std::string_view html, size_t i, std::string* out) {
  const size_t semi = html.substr(0, i + 12).find(';', i);  // Bounded look-ahead.
  if (semi == std::string_view::npos) return 0;
  const std::string_view name = html.substr(i + 1, semi - i - 1);
  if (name.size() >= 2 && name[0] == '#') {
    gunichar c = 0;
    const bool hex = name[1] == 'x' || name[1] == 'X';
    for (size_t k = hex ? 2 : 1; k < name.size(); ++k) {
      const int d = hex ? HexValue(name[k]) : (IsDigit(name[k]) ? name[k] - '0' : -1);
      if (d < 0 || c > 0x10FFFF) return 0;
      c = c * (hex ? 16 : 10) + static_cast<gunichar>(d);
    }
    AppendUnichar(c, out);
    return semi - i + 1;
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kNamed = {{
      {"amp", "&"},
      {"lt", "<"},
      {"gt", ">"},
      {"quot", "\""},
      {"apos", "'"},
      {"nbsp", " "},
  }};
  for (const auto& [entity, text] : kNamed) {
    if (name == entity) {
      out->append(text);
      return semi - i + 1;
    }
  }
  return 0;
}

bool IsBlockTag(std::string_view lower) {
  static constexpr std::array<std::string_view, 16> kTags = {
      "br", "p",  "div", "tr", "td", "th", "li",    "ul",
      "ol", "h1", "h2",  "h3", "h4", "hr", "table", "blockquote"};
  return std::find(kTags.begin(), kTags.end(), lower) != kTags.end();
}

std::string HtmlToText(std::string_view html) {
  std::string out;
  size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '&') {
      const size_t used = DecodeEntity(html, i, &out);
      if (used > 0) {
        i += used;
        continue;
      }
    }
    if (c != '<') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (html.substr(i, 4) == "<!--") {
      const size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    size_t j = i + 1;
    const bool closing = j < html.size() && html[j] == '/';
    if (closing) ++j;
    const size_t name_start = j;
    while (j < html.size() && IsAlnum(html[j])) ++j;
    const std::string name = AsciiLower(html.substr(name_start, j - name_start));
    const size_t gt = html.find('>', j);
    i = gt == std::string_view::npos ? html.size() : gt + 1;
    if (!closing && (name == "script" || name == "style" || name == "head" || name == "title")) {
      const size_t close = FindIgnoreCase(html, "</" + name, i);
      if (close == std::string_view::npos) {
        i = html.size();
      } else {
        const size_t close_gt = html.find('>', close);
        i = close_gt == std::string_view::npos ? html.size() : close_gt + 1;
      }
      continue;
    }
    if (IsBlockTag(name)) out.push_back(' ');
  }
  return out;
}

// Collapses white space (and control characters) to single spaces and keeps the first
// `max_chars` characters. `text` is valid UTF-8.
std::string CollapseWhitespace(std::string_view text, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  bool pending_space = false;
  size_t i = 0;
  while (i < text.size() && chars < max_chars) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    const std::string_view ch = text.substr(i, len);
    i += len;
    const bool space = (len == 1 && lead <= 0x20) || lead == 0x7f || ch == "\xC2\xA0" ||
                       ch == "\xE2\x80\x8B" || ch == "\xEF\xBB\xBF" || ch == "\xE2\x80\x8C";
    if (space) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      if (chars + 2 > max_chars) break;  // No room for the space and a character.
      out.push_back(' ');
      ++chars;
      pending_space = false;
    }
    out.append(ch);
    ++chars;
  }
  return out;
}

std::string MakePreview(std::string_view raw, const BodyPart& part) {
  if (part.body_offset() > raw.size()) return "";
  const std::string_view body =
      raw.substr(part.body_offset(), std::min<uint64_t>(part.body_size(), kPreviewScanBytes));
  const std::string bytes = DecodeTransferEncoding(body, part.encoding());
  const MimeParam* charset = FindParam(part.params(), "charset");
  std::string text = ConvertToUtf8(bytes, charset != nullptr ? charset->decoded() : "");
  if (part.subtype() == "html") text = HtmlToText(text);
  return CollapseWhitespace(text, kPreviewChars);
}

bool IsAttachmentLike(const BodyPart& part) {
  if (part.type() == "multipart") return false;
  if (part.disposition() == "attachment") return true;
  return FindParam(part.disposition_params(), "filename") != nullptr ||
         FindParam(part.params(), "name") != nullptr;
}

// Pre-order walk without recursion. `enter_messages`: descend into message/rfc822.
template <typename Visit>
void Walk(const BodyPart& root, bool enter_messages, Visit visit) {
  std::vector<const BodyPart*> stack = {&root};
  while (!stack.empty()) {
    const BodyPart* part = stack.back();
    stack.pop_back();
    if (!visit(*part)) return;
    if (!enter_messages && part->type() == "message") continue;
    for (int i = part->children_size(); i-- > 0;) stack.push_back(&part->children(i));
  }
}

void ComputeSummary(std::string_view raw, MessageStructure* out) {
  // The main text: the first non-empty text/plain that is not an attachment, else text/html;
  // the message's own parts first, then those of encapsulated messages (digests, forwards).
  const BodyPart* main_text = nullptr;
  for (const bool enter_messages : {false, true}) {
    for (const std::string_view subtype : {"plain", "html"}) {
      Walk(out->body(), enter_messages, [&](const BodyPart& part) {
        if (part.type() != "text" || part.subtype() != subtype) return true;
        if (part.disposition() == "attachment") return true;
        std::string preview = MakePreview(raw, part);
        if (preview.empty()) return true;
        out->set_preview(std::move(preview));
        main_text = &part;
        return false;
      });
      if (main_text != nullptr) break;
    }
    if (main_text != nullptr) break;
  }
  bool has_attachments = false;
  Walk(out->body(), /*enter_messages=*/true, [&](const BodyPart& part) {
    if (&part != main_text && IsAttachmentLike(part)) has_attachments = true;
    return !has_attachments;
  });
  out->set_has_attachments(has_attachments);
}

}  // namespace

void InitMimeLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_mime_init();
    // Unlabelled 8-bit text: UTF-8 if it validates, else windows-1252 (a latin-1 superset).
    g_parser_options = g_mime_parser_options_new();
    const char* charsets[] = {"UTF-8", "windows-1252", nullptr};
    g_mime_parser_options_set_fallback_charsets(g_parser_options, charsets);
  });
}

MessageStructure ParseMessage(std::string_view raw, const MimeLimits& limits) {
  InitMimeLibrary();
  MessageStructure out;
  StructureParser(raw, limits, &out).Run();
  ComputeSummary(raw, &out);
  return out;
}

}  // namespace mailboxstore
