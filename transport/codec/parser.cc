#include "transport/codec/parser.h"

#include <algorithm>
#include <array>
#include <utility>

namespace transport::smtp {
namespace {

struct VerbEntry {
  std::string_view name;
  Verb verb;
};

constexpr std::array<VerbEntry, 14> kVerbs = {{
    {"HELO", Verb::kHelo},
    {"EHLO", Verb::kEhlo},
    {"MAIL", Verb::kMail},
    {"RCPT", Verb::kRcpt},
    {"DATA", Verb::kData},
    {"BDAT", Verb::kBdat},
    {"RSET", Verb::kRset},
    {"NOOP", Verb::kNoop},
    {"VRFY", Verb::kVrfy},
    {"EXPN", Verb::kExpn},
    {"HELP", Verb::kHelp},
    {"QUIT", Verb::kQuit},
    {"STARTTLS", Verb::kStartTls},
    {"AUTH", Verb::kAuth},
}};

// RFC 5321 section 4.5.3.1.1 and 4.5.3.1.3.
constexpr size_t kMaxLocalPart = 64;
constexpr size_t kMaxPath = 256;  // Counting the angle brackets.
constexpr size_t kMaxDomain = 255;
constexpr size_t kMaxLabel = 63;  // RFC 1035 section 2.3.4.
// RFC 3461 sections 4.2 and 4.4.
constexpr size_t kMaxOrcpt = 500;
constexpr size_t kMaxEnvid = 100;
// RFC 4422 section 3.1: sasl-mech = 1*20mech-char.
constexpr size_t kMaxMechanism = 20;
// BDAT chunk-size digits; 20 digits hold any uint64_t (the value is checked too).
constexpr size_t kMaxSizeDigits = 20;
// How much of an unknown parameter keyword an error text repeats.
constexpr size_t kMaxEchoedKeyword = 32;
// ValidateParserLimits ranges.
constexpr size_t kMinLine = 512;
constexpr size_t kMaxCommandLine = 64 * 1024;

char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }

bool IsControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool HasControl(std::string_view s) { return std::any_of(s.begin(), s.end(), IsControl); }

// RFC 5322 atext.
bool IsAtext(char c) {
  if (IsAlnum(c)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return kSpecials.find(c) != std::string_view::npos;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiUpper(a[i]) != AsciiUpper(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiUpper(c);
  return out;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Splits on runs of spaces; collects at most `max` words (one more than a command takes, so
// that "too many" shows).
template <size_t N>
struct Words {
  std::array<std::string_view, N> items;
  size_t count = 0;
};

template <size_t N>
Words<N> SplitWords(std::string_view s) {
  Words<N> words;
  size_t i = 0;
  while (i < s.size() && words.count < N) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) break;
    size_t end = s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    words.items[words.count++] = s.substr(i, end - i);
    i = end;
  }
  return words;
}

// 1..20 decimal digits whose value fits in uint64_t.
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > kMaxSizeDigits) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto t = static_cast<unsigned char>(s[i + k]);
      const unsigned char min = k == 1 ? lo : 0x80;
      const unsigned char max = k == 1 ? hi : 0xbf;
      if (t < min || t > max) return false;
    }
    i += len;
  }
  return true;
}

// --- Addresses (RFC 5321 section 4.1.2, RFC 6531 section 3.3) ------------------------------

bool IsValidIpv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t end = s.find('.', i);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view part = s.substr(i, end - i);
    if (part.empty() || part.size() > 3) return false;
    int value = 0;
    for (char c : part) {
      if (!IsDigit(c)) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    ++parts;
    if (end == s.size()) break;
    i = end + 1;
  }
  return parts == 4;
}

// Colon-separated groups of 1..4 hex digits; the last may be an IPv4 address (counted as two
// groups) when `allow_ipv4` holds. Empty input is zero groups.
bool CountIpv6Groups(std::string_view s, bool allow_ipv4, int* groups) {
  *groups = 0;
  if (s.empty()) return true;
  size_t i = 0;
  while (true) {
    size_t end = s.find(':', i);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view group = s.substr(i, end - i);
    const bool last = end == s.size();
    if (last && allow_ipv4 && group.find('.') != std::string_view::npos) {
      if (!IsValidIpv4(group)) return false;
      *groups += 2;
    } else {
      if (group.empty() || group.size() > 4) return false;
      if (!std::all_of(group.begin(), group.end(), IsHex)) return false;
      *groups += 1;
    }
    if (*groups > 8) return false;
    if (last) break;
    i = end + 1;
  }
  return true;
}

// RFC 5321 IPv6-addr: eight groups, or at most six around one "::" (an embedded IPv4 address
// counting as two).
bool IsValidIpv6(std::string_view s) {
  const size_t gap = s.find("::");
  int groups = 0;
  if (gap == std::string_view::npos) return CountIpv6Groups(s, true, &groups) && groups == 8;
  if (s.find("::", gap + 1) != std::string_view::npos) return false;
  int before = 0;
  int after = 0;
  if (!CountIpv6Groups(s.substr(0, gap), false, &before)) return false;
  if (!CountIpv6Groups(s.substr(gap + 2), true, &after)) return false;
  return before + after <= 6;
}

bool IsValidAddressLiteral(std::string_view s) {
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return false;
  const std::string_view inner = s.substr(1, s.size() - 2);
  if (StartsWithIgnoreCase(inner, "IPv6:")) return IsValidIpv6(inner.substr(5));
  return IsValidIpv4(inner);
}

// Dot-separated labels: letters, digits and hyphens, not starting or ending with a hyphen;
// with SMTPUTF8 a label may hold UTF-8 (a U-label; its IDNA validity is not checked here).
bool IsValidDomain(std::string_view s) {
  if (s.empty() || s.size() > kMaxDomain) return false;
  size_t i = 0;
  while (true) {
    size_t end = s.find('.', i);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view label = s.substr(i, end - i);
    if (label.empty() || label.size() > kMaxLabel) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-' && !IsNonAscii(c)) return false;
    }
    if (end == s.size()) return true;
    i = end + 1;
  }
}

bool IsValidDotString(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char previous = 0;
  for (char c : s) {
    if (c == '.') {
      if (previous == '.') return false;
    } else if (!IsAtext(c) && !IsNonAscii(c)) {
      return false;
    }
    previous = c;
  }
  return true;
}

enum class PathStatus { kOk, kSyntax, kBadAddress, kTooLong, kLocalPartTooLong };

// Local-part "@" (Domain / address-literal).
PathStatus CheckMailbox(std::string_view m) {
  size_t at = 0;
  if (!m.empty() && m.front() == '"') {
    size_t i = 1;
    for (; i < m.size(); ++i) {
      const auto c = static_cast<unsigned char>(m[i]);
      if (c == '\\') {
        if (i + 1 >= m.size()) return PathStatus::kBadAddress;
        const auto next = static_cast<unsigned char>(m[i + 1]);
        if (next < 32 || next > 126) return PathStatus::kBadAddress;  // quoted-pairSMTP.
        ++i;
      } else if (c == '"') {
        break;
      } else if ((c < 32 || c > 126) && c < 0x80) {
        return PathStatus::kBadAddress;  // Not qtextSMTP.
      }
    }
    at = i + 1;
    if (at >= m.size() || m[at] != '@') return PathStatus::kBadAddress;
  } else {
    at = m.find('@');
    if (at == std::string_view::npos || !IsValidDotString(m.substr(0, at))) {
      return PathStatus::kBadAddress;
    }
  }
  if (at > kMaxLocalPart) return PathStatus::kLocalPartTooLong;
  const std::string_view domain = m.substr(at + 1);
  const bool ok = !domain.empty() && domain.front() == '[' ? IsValidAddressLiteral(domain)
                                                           : IsValidDomain(domain);
  return ok ? PathStatus::kOk : PathStatus::kBadAddress;
}

struct Path {
  PathStatus status = PathStatus::kSyntax;
  std::string mailbox;
  bool utf8 = false;
  size_t consumed = 0;  // Through the closing ">".
};

// "<" [ A-d-l ":" ] Mailbox ">" at the start of `s`; an empty path "<>" is kOk with an empty
// mailbox (the caller decides whether it may be empty). For RCPT, "postmaster" without a
// domain is a mailbox too (RFC 5321 section 4.1.1.3).
Path ParsePath(std::string_view s, bool recipient) {
  Path path;
  if (s.empty() || s.front() != '<') return path;
  // The closing ">" is the first one outside a quoted string.
  size_t i = 1;
  bool quoted = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '>') {
      break;
    }
  }
  if (i >= s.size()) return path;
  path.consumed = i + 1;
  const std::string_view inner = s.substr(1, i - 1);
  if (inner.size() + 2 > kMaxPath) {
    path.status = PathStatus::kTooLong;
    return path;
  }
  path.status = PathStatus::kBadAddress;
  path.utf8 = std::any_of(inner.begin(), inner.end(), IsNonAscii);
  if (path.utf8 && !IsValidUtf8(inner)) return path;
  std::string_view mailbox = inner;
  if (!mailbox.empty() && mailbox.front() == '@') {
    // A source route: "@one,@two:" (RFC 5321 section 4.1.2 A-d-l), accepted and dropped.
    const size_t colon = mailbox.find(':');
    if (colon == std::string_view::npos) return path;
    std::string_view route = mailbox.substr(0, colon);
    while (true) {
      size_t end = route.find(',');
      if (end == std::string_view::npos) end = route.size();
      const std::string_view hop = route.substr(0, end);
      if (hop.size() < 2 || hop.front() != '@' || !IsValidDomain(hop.substr(1))) return path;
      if (end == route.size()) break;
      route.remove_prefix(end + 1);
    }
    mailbox.remove_prefix(colon + 1);
    if (mailbox.empty()) return path;
  }
  if (mailbox.empty() || (recipient && EqualsIgnoreCase(mailbox, "postmaster"))) {
    path.status = PathStatus::kOk;
  } else {
    path.status = CheckMailbox(mailbox);
  }
  if (path.status == PathStatus::kOk) path.mailbox = std::string(mailbox);
  return path;
}

// --- Commands -------------------------------------------------------------------------------

constexpr std::string_view kLineTooLongEnhanced = "5.5.6";
constexpr std::string_view kLineTooLongText = "Line too long";

ParseError Error(int code, std::string_view enhanced, std::string text) {
  return ParseError{code, std::string(enhanced), std::move(text)};
}

ParseError SyntaxError(std::string text) { return Error(501, "5.5.4", std::move(text)); }

ParseError PathError(PathStatus status, bool recipient) {
  // RFC 3463: X.1.7 bad sender's mailbox syntax, X.1.3 bad destination mailbox syntax.
  const std::string_view enhanced = recipient ? "5.1.3" : "5.1.7";
  switch (status) {
    case PathStatus::kTooLong:
      return Error(501, enhanced, "Path too long");
    case PathStatus::kLocalPartTooLong:
      return Error(501, enhanced, "Local part too long");
    default:
      return Error(501, enhanced,
                   recipient ? "Bad recipient address syntax" : "Bad sender address syntax");
  }
}

std::optional<Verb> LookupVerb(std::string_view keyword) {
  for (const VerbEntry& entry : kVerbs) {
    if (EqualsIgnoreCase(keyword, entry.name)) return entry.verb;
  }
  return std::nullopt;
}

bool IsParamKeyword(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

// esmtp-value: printable ASCII but "=", or UTF-8 (RFC 6531); checked for emptiness per
// parameter.
bool IsParamValue(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 33 && u <= 126 && c != '=') || u >= 0x80;
  });
}

// An xtext value decoded, non-empty and free of control characters (which would let a client
// put line breaks into DSN headers).
std::optional<std::string> DecodeXtextValue(std::string_view value) {
  if (value.empty()) return std::nullopt;
  bool ok = false;
  std::string decoded = XtextDecode(value, &ok);
  if (!ok || decoded.empty() || HasControl(decoded)) return std::nullopt;
  return decoded;
}

enum MailParam : unsigned {
  kSizeParam = 1u << 0,
  kBodyParam = 1u << 1,
  kSmtpUtf8Param = 1u << 2,
  kRetParam = 1u << 3,
  kEnvidParam = 1u << 4,
  kAuthParam = 1u << 5,
  kNotifyParam = 1u << 6,
  kOrcptParam = 1u << 7,
};

struct ParamEntry {
  std::string_view name;
  unsigned bit;
  bool mail;  // A MAIL parameter; else RCPT.
};

constexpr std::array<ParamEntry, 8> kParams = {{
    {"SIZE", kSizeParam, true},
    {"BODY", kBodyParam, true},
    {"SMTPUTF8", kSmtpUtf8Param, true},
    {"RET", kRetParam, true},
    {"ENVID", kEnvidParam, true},
    {"AUTH", kAuthParam, true},
    {"NOTIFY", kNotifyParam, false},
    {"ORCPT", kOrcptParam, false},
}};

std::optional<ParseError> ApplyParam(unsigned bit, std::optional<std::string_view> value,
                                     Command* command) {
  const std::string_view v = value.value_or(std::string_view());
  switch (bit) {
    case kSizeParam: {
      const std::optional<uint64_t> size = ParseDecimal(v);
      if (!size) return SyntaxError("Invalid SIZE value");
      command->mail.size = size;
      return std::nullopt;
    }
    case kBodyParam:
      if (EqualsIgnoreCase(v, "7BIT")) {
        command->mail.body = MailParams::Body::k7Bit;
      } else if (EqualsIgnoreCase(v, "8BITMIME")) {
        command->mail.body = MailParams::Body::k8BitMime;
      } else if (EqualsIgnoreCase(v, "BINARYMIME")) {
        command->mail.body = MailParams::Body::kBinaryMime;
      } else {
        return SyntaxError("Invalid BODY value");
      }
      return std::nullopt;
    case kSmtpUtf8Param:
      if (value) return SyntaxError("SMTPUTF8 takes no value");
      command->mail.smtputf8 = true;
      return std::nullopt;
    case kRetParam:
      if (EqualsIgnoreCase(v, "FULL")) {
        command->mail.ret = MailParams::Ret::kFull;
      } else if (EqualsIgnoreCase(v, "HDRS")) {
        command->mail.ret = MailParams::Ret::kHeaders;
      } else {
        return SyntaxError("Invalid RET value");
      }
      return std::nullopt;
    case kEnvidParam: {
      std::optional<std::string> envid = DecodeXtextValue(v);
      if (!envid || envid->size() > kMaxEnvid) return SyntaxError("Invalid ENVID value");
      command->mail.envid = *std::move(envid);
      return std::nullopt;
    }
    case kAuthParam: {
      if (v == "<>") {
        command->mail.auth = "<>";
        return std::nullopt;
      }
      std::optional<std::string> auth = DecodeXtextValue(v);
      if (!auth) return SyntaxError("Invalid AUTH value");
      command->mail.auth = *std::move(auth);
      return std::nullopt;
    }
    case kNotifyParam: {
      RcptParams& rcpt = command->rcpt;
      if (v.empty()) return SyntaxError("Invalid NOTIFY value");
      std::string_view rest = v;
      int items = 0;
      while (true) {
        size_t end = rest.find(',');
        if (end == std::string_view::npos) end = rest.size();
        const std::string_view item = rest.substr(0, end);
        ++items;
        if (EqualsIgnoreCase(item, "NEVER")) {
          rcpt.notify_never = true;
        } else if (EqualsIgnoreCase(item, "SUCCESS")) {
          rcpt.notify_success = true;
        } else if (EqualsIgnoreCase(item, "FAILURE")) {
          rcpt.notify_failure = true;
        } else if (EqualsIgnoreCase(item, "DELAY")) {
          rcpt.notify_delay = true;
        } else {
          return SyntaxError("Invalid NOTIFY value");
        }
        if (end == rest.size()) break;
        rest.remove_prefix(end + 1);
      }
      // RFC 3461 section 4.1: NEVER stands alone.
      if (rcpt.notify_never && items > 1) return SyntaxError("Invalid NOTIFY value");
      rcpt.notify_set = true;
      return std::nullopt;
    }
    case kOrcptParam: {
      const size_t semicolon = v.find(';');
      if (v.size() > kMaxOrcpt || semicolon == std::string_view::npos || semicolon == 0) {
        return SyntaxError("Invalid ORCPT value");
      }
      const std::string_view type = v.substr(0, semicolon);
      if (!std::all_of(type.begin(), type.end(), IsAtext)) {
        return SyntaxError("Invalid ORCPT value");
      }
      std::optional<std::string> address = DecodeXtextValue(v.substr(semicolon + 1));
      if (!address) return SyntaxError("Invalid ORCPT value");
      command->rcpt.orcpt = std::string(type) + ";" + *address;
      return std::nullopt;
    }
    default:
      break;
  }
  return SyntaxError("Syntax error in parameters");
}

// Space-separated esmtp-params after a MAIL or RCPT path.
std::optional<ParseError> ParseParams(std::string_view s, bool mail, Command* command) {
  unsigned seen = 0;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view param = s.substr(i, end - i);
    i = end;
    const size_t eq = param.find('=');
    const std::string_view keyword = param.substr(0, eq);
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = param.substr(eq + 1);
    if (!IsParamKeyword(keyword) || (value && !IsParamValue(*value))) {
      return SyntaxError("Syntax error in parameters");
    }
    const std::string name = ToUpper(keyword.substr(0, kMaxEchoedKeyword));
    const auto entry = std::find_if(kParams.begin(), kParams.end(), [&](const ParamEntry& p) {
      return p.mail == mail && EqualsIgnoreCase(p.name, keyword);
    });
    // RFC 5321 section 4.1.1.11: 555 for a parameter not recognized or not implemented.
    if (entry == kParams.end()) return Error(555, "5.5.4", "Unsupported parameter " + name);
    if ((seen & entry->bit) != 0) return Error(555, "5.5.4", "Duplicate parameter " + name);
    seen |= entry->bit;
    if (std::optional<ParseError> error = ApplyParam(entry->bit, value, command)) return error;
  }
  return std::nullopt;
}

// MAIL FROM:<path> [params] / RCPT TO:<path> [params]; `rest` follows "MAIL ".
ParseEvent ParseMailOrRcpt(std::string_view rest, Command command) {
  const bool recipient = command.verb == Verb::kRcpt;
  const std::string_view keyword = recipient ? "TO:" : "FROM:";
  const std::string usage = recipient ? "Syntax: RCPT TO:<address>" : "Syntax: MAIL FROM:<address>";
  if (!StartsWithIgnoreCase(rest, keyword)) return SyntaxError(usage);
  rest.remove_prefix(keyword.size());
  // "MAIL FROM: <a@b>" is common; Postfix and Exchange accept it.
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  Path path = ParsePath(rest, recipient);
  if (path.status == PathStatus::kSyntax) return SyntaxError(usage);
  if (path.status != PathStatus::kOk) return PathError(path.status, recipient);
  if (recipient && path.mailbox.empty()) return PathError(PathStatus::kBadAddress, recipient);
  rest.remove_prefix(path.consumed);
  if (!rest.empty() && rest.front() != ' ') return SyntaxError(usage);
  command.path = std::move(path.mailbox);
  command.path_has_utf8 = path.utf8;
  if (std::optional<ParseError> error = ParseParams(rest, !recipient, &command)) return *error;
  return command;
}

ParseEvent ParseBdat(std::string_view rest, Command command) {
  const Words<3> words = SplitWords<3>(rest);
  const std::optional<uint64_t> size =
      words.count >= 1 ? ParseDecimal(words.items[0]) : std::nullopt;
  const bool last = words.count == 2 && EqualsIgnoreCase(words.items[1], "LAST");
  if (!size || words.count > 2 || (words.count == 2 && !last)) {
    return SyntaxError("Syntax: BDAT size [LAST]");
  }
  command.bdat_size = *size;
  command.bdat_last = last;
  return command;
}

ParseEvent ParseAuth(std::string_view rest, Command command) {
  const Words<3> words = SplitWords<3>(rest);
  if (words.count == 0 || words.count > 2) {
    return SyntaxError("Syntax: AUTH mechanism [initial-response]");
  }
  const std::string_view mechanism = words.items[0];
  const bool valid = mechanism.size() <= kMaxMechanism &&
                     std::all_of(mechanism.begin(), mechanism.end(),
                                 [](char c) { return IsAlnum(c) || c == '-' || c == '_'; });
  if (!valid) return SyntaxError("Invalid authentication mechanism");
  command.argument = ToUpper(mechanism);
  if (words.count == 2) {
    command.argument += ' ';
    command.argument += words.items[1];
  }
  return command;
}

ParseEvent ParseCommandLine(std::string_view line) {
  if (line.find('\0') != std::string_view::npos) {
    return Error(500, "5.5.2", "NUL character not allowed");
  }
  if (line.find('\r') != std::string_view::npos) return Error(500, "5.5.2", "Bare CR not allowed");
  if (HasControl(line)) return Error(500, "5.5.2", "Invalid character in command");

  const size_t space = line.find(' ');
  const std::string_view keyword = line.substr(0, space);
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  const std::optional<Verb> verb = LookupVerb(keyword);
  if (!verb) return Error(500, "5.5.2", "Command unrecognized");

  Command command;
  command.verb = *verb;
  const std::string_view argument = TrimSpaces(rest);
  switch (*verb) {
    case Verb::kHelo:
    case Verb::kEhlo:
      if (argument.empty() || argument.find(' ') != std::string_view::npos) {
        return SyntaxError(*verb == Verb::kHelo ? "Syntax: HELO hostname"
                                                : "Syntax: EHLO hostname");
      }
      command.argument = std::string(argument);
      return command;

    case Verb::kMail:
    case Verb::kRcpt:
      return ParseMailOrRcpt(rest, std::move(command));

    case Verb::kBdat:
      return ParseBdat(rest, std::move(command));

    case Verb::kAuth:
      return ParseAuth(rest, std::move(command));

    case Verb::kVrfy:
    case Verb::kExpn:
      if (argument.empty()) {
        return SyntaxError(*verb == Verb::kVrfy ? "Syntax: VRFY address"
                                                : "Syntax: EXPN mailing-list");
      }
      command.argument = std::string(argument);
      return command;

    case Verb::kNoop:
    case Verb::kHelp:
      command.argument = std::string(argument);
      return command;

    case Verb::kData:
    case Verb::kRset:
    case Verb::kQuit:
    case Verb::kStartTls:
      if (!argument.empty()) return SyntaxError("Syntax: " + std::string(VerbName(*verb)));
      return command;
  }
  return Error(500, "5.5.2", "Command unrecognized");
}

ParseEvent ParseSaslLine(std::string_view line) {
  if (line.find('\0') != std::string_view::npos) {
    return Error(500, "5.5.2", "NUL character not allowed");
  }
  if (line.find('\r') != std::string_view::npos) return Error(500, "5.5.2", "Bare CR not allowed");
  return SaslResponse{std::string(line)};
}

}  // namespace

bool IsLineTooLong(const ParseError& error) {
  return error.code == 500 && error.enhanced == kLineTooLongEnhanced &&
         error.text == kLineTooLongText;
}

common::Status ValidateParserLimits(const ParserLimits& limits) {
  if (limits.max_command_line < kMinLine || limits.max_command_line > kMaxCommandLine) {
    return common::InvalidArgumentError("SMTP max_command_line must be in 512..65536");
  }
  if (limits.max_sasl_line < kMinLine) {
    return common::InvalidArgumentError("SMTP max_sasl_line must be at least 512");
  }
  if (limits.max_pipelined_commands < 1) {
    return common::InvalidArgumentError("SMTP max_pipelined_commands must be at least 1");
  }
  return common::Status::Ok();
}

std::string_view VerbName(Verb verb) {
  for (const VerbEntry& entry : kVerbs) {
    if (entry.verb == verb) return entry.name;
  }
  return "?";
}

bool HasBareLineEnding(std::string_view content) {
  for (size_t i = content.find_first_of("\r\n"); i != std::string_view::npos;
       i = content.find_first_of("\r\n", i + 1)) {
    if (content[i] == '\n') return true;  // Not after a CR: those are skipped below.
    if (i + 1 == content.size() || content[i + 1] != '\n') return true;
    ++i;  // The LF of this CRLF.
  }
  return false;
}

std::string XtextDecode(std::string_view text, bool* ok) {
  std::string out;
  out.reserve(text.size());
  *ok = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      if (i + 2 >= text.size() || !IsHex(text[i + 1]) || !IsHex(text[i + 2])) return out;
      auto nibble = [](char h) { return IsDigit(h) ? h - '0' : AsciiUpper(h) - 'A' + 10; };
      out.push_back(static_cast<char>(nibble(text[i + 1]) * 16 + nibble(text[i + 2])));
      i += 2;
    } else if (c >= '!' && c <= '~' && c != '=') {
      out.push_back(c);
    } else {
      return out;
    }
  }
  *ok = true;
  return out;
}

std::string XtextEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c >= '!' && c <= '~' && c != '+' && c != '=') {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('+');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

// --- Parser -----------------------------------------------------------------------------------

Parser::Parser(ParserLimits limits) : limits_(limits) {
  MAIL_CHECK(ValidateParserLimits(limits_).ok());
}

void Parser::set_limits(const ParserLimits& limits) {
  MAIL_CHECK(ValidateParserLimits(limits).ok());
  limits_ = limits;
}

size_t Parser::buffered() const { return queued_octets_ + current_octets_; }

void Parser::ExpectSaslResponse() { sasl_expected_ = true; }

void Parser::BeginData() {
  if (mode_ != Mode::kLines) return;
  mode_ = Mode::kData;
  data_ = DataDone();
  data_state_ = DataState::kLineStart;
  sasl_expected_ = false;
  // Feed() takes nothing past a DATA line until Next() returned it, so nothing is held here
  // when the session follows the protocol. Should it not, a partial line becomes content.
  skipping_ = false;
  current_octets_ = 0;
  if (!partial_.empty()) {
    const std::string held = std::exchange(partial_, std::string());
    (void)FeedData(held);  // Holds no LF, so it cannot end the data.
  }
}

void Parser::Reset() {
  mode_ = Mode::kLines;
  queue_.clear();
  queued_octets_ = 0;
  current_octets_ = 0;
  sasl_expected_ = false;
  partial_ = std::string();
  skipping_ = false;
  data_state_ = DataState::kLineStart;
  data_ = DataDone();
  chunk_ = ChunkDone();
  chunk_remaining_ = 0;
}

void Parser::Enqueue(ParseEvent event, size_t octets, bool barrier) {
  queued_octets_ += octets;
  queue_.push_back(Pending{std::move(event), octets, barrier});
}

ParseEvent Parser::Next() {
  if (queue_.empty()) return NeedMore{};
  Pending pending = std::move(queue_.front());
  queue_.pop_front();
  queued_octets_ -= pending.octets;
  return std::move(pending.event);
}

bool Parser::Blocked() const {
  if (queue_.empty()) return false;
  return queue_.back().barrier || queue_.size() >= limits_.max_pipelined_commands;
}

size_t Parser::Feed(std::string_view bytes) {
  size_t taken = 0;
  while (taken < bytes.size()) {
    const std::string_view rest = bytes.substr(taken);
    switch (mode_) {
      case Mode::kData:
        taken += FeedData(rest);
        break;
      case Mode::kChunk:
        taken += FeedChunk(rest);
        break;
      case Mode::kLines:
        // Skipping the rest of a too-long line stores nothing, so it goes on even when
        // blocked; anything else waits for Next().
        if (!skipping_ && Blocked()) return taken;
        taken += FeedLines(rest);
        break;
    }
  }
  return taken;
}

size_t Parser::LineLimit(std::string_view segment) const {
  if (sasl_expected_) return limits_.max_sasl_line;
  // An AUTH command may carry a long initial response (RFC 4954 section 4).
  constexpr std::string_view kAuth = "AUTH ";
  std::array<char, 5> head{};
  size_t n = 0;
  for (; n < head.size() && n < partial_.size(); ++n) head[n] = partial_[n];
  for (size_t i = 0; n < head.size() && i < segment.size(); ++n, ++i) head[n] = segment[i];
  if (n == head.size() && EqualsIgnoreCase(std::string_view(head.data(), n), kAuth)) {
    return std::max(limits_.max_command_line, limits_.max_sasl_line);
  }
  return limits_.max_command_line;
}

size_t Parser::FeedLines(std::string_view bytes) {
  const size_t lf = bytes.find('\n');
  const bool complete = lf != std::string_view::npos;
  const std::string_view segment = bytes.substr(0, lf);  // The bytes before the LF, if any.
  const size_t taken = complete ? lf + 1 : bytes.size();
  current_octets_ += taken;

  if (skipping_) {
    if (complete) {
      skipping_ = false;
      current_octets_ = 0;
    }
    return taken;
  }
  // The line with its LF would pass the limit: report it now, keep none of it, and skip to
  // its end. A SASL line ends the exchange this way too.
  if (partial_.size() + segment.size() + 1 > LineLimit(segment)) {
    const bool sasl = std::exchange(sasl_expected_, false);
    partial_ = std::string();
    Enqueue(Error(500, kLineTooLongEnhanced, std::string(kLineTooLongText)), current_octets_,
            /*barrier=*/sasl);
    current_octets_ = 0;
    skipping_ = !complete;
    return taken;
  }
  if (!complete) {
    partial_.append(segment);
    return taken;
  }
  const size_t octets = std::exchange(current_octets_, 0);
  if (partial_.empty()) {
    CompleteLine(segment, octets);
  } else {
    partial_.append(segment);
    const std::string line = std::exchange(partial_, std::string());
    CompleteLine(line, octets);
  }
  return taken;
}

void Parser::CompleteLine(std::string_view line, size_t octets) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (std::exchange(sasl_expected_, false)) {
    Enqueue(ParseSaslLine(line), octets, /*barrier=*/true);
    return;
  }
  ParseEvent event = ParseCommandLine(line);
  const auto* command = std::get_if<Command>(&event);
  if (command == nullptr) {
    Enqueue(std::move(event), octets, /*barrier=*/false);
    return;
  }
  const Verb verb = command->verb;
  if (verb != Verb::kBdat) {
    // What follows DATA or AUTH depends on the session's answer.
    Enqueue(std::move(event), octets, /*barrier=*/verb == Verb::kData || verb == Verb::kAuth);
    return;
  }
  chunk_ = ChunkDone();
  chunk_.size = command->bdat_size;
  chunk_.last = command->bdat_last;
  chunk_.too_big = chunk_.size > limits_.max_message_size;
  chunk_remaining_ = chunk_.size;
  Enqueue(std::move(event), octets, /*barrier=*/false);
  if (chunk_remaining_ == 0) {
    Enqueue(std::exchange(chunk_, ChunkDone()), 0, /*barrier=*/true);
  } else {
    mode_ = Mode::kChunk;
  }
}

size_t Parser::FeedChunk(std::string_view bytes) {
  const auto n = static_cast<size_t>(std::min<uint64_t>(bytes.size(), chunk_remaining_));
  // Not reserved up front: a client announcing a big chunk must send it to make us hold it.
  if (!chunk_.too_big) chunk_.bytes.append(bytes.data(), n);
  chunk_remaining_ -= n;
  current_octets_ += n;
  if (chunk_remaining_ == 0) {
    mode_ = Mode::kLines;
    Enqueue(std::exchange(chunk_, ChunkDone()), std::exchange(current_octets_, 0),
            /*barrier=*/true);
  }
  return n;
}

void Parser::KeepContent(std::string_view bytes) {
  data_.octets += bytes.size();
  if (data_.too_big) return;
  if (data_.octets > limits_.max_message_size) {
    data_.too_big = true;
    data_.message = std::string();
    return;
  }
  data_.message.append(bytes);
}

// A byte-at-a-time state machine, except that the inside of a line is kept in runs. Only
// CRLF "." CRLF ends the content (or "." CRLF at its very start); a bare CR or LF never does
// and is flagged (SMTP smuggling: a next hop may see such an end where we do not).
size_t Parser::FeedData(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const char c = bytes[i];
    switch (data_state_) {
      case DataState::kLineStart:
        if (c == '.') {
          ++i;
          data_state_ = DataState::kDot;
        } else {
          data_state_ = DataState::kInLine;  // Look at `c` again there.
        }
        break;

      case DataState::kInLine: {
        size_t end = bytes.find_first_of("\r\n", i);
        if (end == std::string_view::npos) end = bytes.size();
        if (end > i) {
          KeepContent(bytes.substr(i, end - i));
          i = end;
          break;
        }
        KeepContent(bytes.substr(i, 1));
        ++i;
        if (c == '\r') {
          data_state_ = DataState::kCr;
        } else {
          data_.bare_line_ending = true;  // LF without CR.
        }
        break;
      }

      case DataState::kCr:
        if (c == '\n') {
          ++i;
          KeepContent("\n");
          data_state_ = DataState::kLineStart;
        } else {
          data_.bare_line_ending = true;  // CR without LF.
          data_state_ = DataState::kInLine;
        }
        break;

      case DataState::kDot:
        // Dot-unstuffing: the line's first "." goes.
        if (c == '\r') {
          ++i;
          data_state_ = DataState::kDotCr;
        } else {
          data_state_ = DataState::kInLine;
        }
        break;

      case DataState::kDotCr:
        if (c == '\n') {
          ++i;
          current_octets_ += i;
          mode_ = Mode::kLines;
          data_state_ = DataState::kLineStart;
          Enqueue(std::exchange(data_, DataDone()), std::exchange(current_octets_, 0),
                  /*barrier=*/true);
          return i;
        }
        // "." CR then something else: the dot goes, the CR is a bare one.
        KeepContent("\r");
        data_.bare_line_ending = true;
        data_state_ = DataState::kInLine;
        break;
    }
  }
  current_octets_ += i;
  return i;
}

}  // namespace transport::smtp
