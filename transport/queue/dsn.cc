#include "transport/queue/dsn.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <set>

#include "common/base64.h"
#include "common/status.h"

namespace transport::queue {
namespace {

using mail::v1::QueuedMessage;
using mail::v1::QueuedRecipient;

constexpr size_t kMaxLine = 998;  // RFC 5322 section 2.1.1, without the CRLF.
constexpr size_t kFoldAt = 78;    // The recommended limit.
// When only the header goes back, at most this much of the original is looked at.
constexpr size_t kMaxReturnedHeaderBytes = 256 * 1024;

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// Bare LF and bare CR become CRLF.
std::string NormalizeCrlf(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 32);
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

bool HasLongLine(std::string_view crlf_text) {
  size_t start = 0;
  while (start < crlf_text.size()) {
    size_t end = crlf_text.find("\r\n", start);
    if (end == std::string_view::npos) end = crlf_text.size();
    if (end - start > kMaxLine) return true;
    start = end + 2;
  }
  return false;
}

// The header section of a CRLF message, each line ending in CRLF, without the empty line.
std::string HeaderSection(std::string_view crlf_message) {
  if (crlf_message.substr(0, 2) == "\r\n") return "";
  size_t end = crlf_message.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    std::string all(crlf_message);
    if (all.size() < 2 || all.compare(all.size() - 2, 2, "\r\n") != 0) all += "\r\n";
    return all;
  }
  return std::string(crlf_message.substr(0, end + 2));
}

// The unfolded value of the first header field `name` (raw: encoded words stay encoded).
std::string FindHeader(std::string_view headers, std::string_view name) {
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t eol = headers.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = headers.size();
    std::string_view line = headers.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.size() <= name.size() || line[name.size()] != ':' ||
        !StartsWithIgnoreCase(line, name)) {
      continue;
    }
    std::string value(line.substr(name.size() + 1));
    while (pos < headers.size() && (headers[pos] == ' ' || headers[pos] == '\t')) {
      eol = headers.find("\r\n", pos);
      if (eol == std::string_view::npos) eol = headers.size();
      value += headers.substr(pos, eol - pos);
      pos = eol + 2;
    }
    return value;
  }
  return "";
}

// Control characters (CR, LF, TAB included) become spaces, runs of spaces collapse, ends are
// trimmed. Bytes >= 0x80 are kept.
std::string CleanText(std::string_view in) {
  std::string out;
  for (char c : in) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// For the delivery-status fields, which are US-ASCII: CleanText and '?' for other bytes.
std::string AsciiText(std::string_view in) {
  std::string out = CleanText(in);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  return out;
}

// A host name or address literal for Reporting-MTA, Remote-MTA and the Message-ID: other
// characters are dropped.
std::string HostName(std::string_view in) {
  std::string out;
  for (char c : in) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
        c == '[' || c == ']' || c == ':') {
      out += c;
    }
  }
  return out.substr(0, 255);
}

// Replaces invalid UTF-8 sequences with U+FFFD, so that a charset=utf-8 label is true.
std::string ValidUtf8(std::string_view in) {
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(in[i + k]) & 0xc0) == 0x80;
    }
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and values above U+10FFFF.
      uint32_t cp = c & (0x7f >> len);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (in[i + k] & 0x3f);
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    }
    if (!ok) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  return out;
}

// RFC 2047 "B" encoded words for UTF-8 text, each at most 75 characters, never splitting a
// character. Every word but the last holds a multiple of 3 octets when a character boundary
// allows, so it needs no base64 padding: GMime (which the mailbox store uses) joins adjacent
// words before decoding and stops at a padded one.
std::vector<std::string> EncodedWords(std::string_view utf8) {
  constexpr size_t kMaxBytes = 45;  // 60 base64 characters + 12 for =?UTF-8?B?...?=.
  auto boundary = [&](size_t pos) {
    return pos >= utf8.size() || (static_cast<unsigned char>(utf8[pos]) & 0xc0) != 0x80;
  };
  std::vector<std::string> words;
  size_t i = 0;
  while (i < utf8.size()) {
    size_t end = std::min(utf8.size(), i + kMaxBytes);
    if (end < utf8.size()) {
      size_t best = 0;
      size_t any = 0;
      for (size_t e = end; e > i && e + 24 > end; --e) {
        if (!boundary(e)) continue;
        if (any == 0) any = e;
        if ((e - i) % 3 == 0) {
          best = e;
          break;
        }
      }
      end = best != 0 ? best : any != 0 ? any : end;
    }
    words.push_back("=?UTF-8?B?" + common::Base64Encode(utf8.substr(i, end - i)) + "?=");
    i = end;
  }
  return words;
}

// "Name: value" folded at spaces to about 78 columns. A single token that would make a line
// longer than 998 octets is split (which inserts a space: only for absurd input).
std::string FoldField(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ':';
  size_t line_start = 0;
  size_t pos = 0;
  bool first = true;
  while (pos < value.size()) {
    size_t sp = value.find(' ', pos);
    if (sp == std::string_view::npos) sp = value.size();
    std::string_view word = value.substr(pos, sp - pos);
    pos = sp + 1;
    if (word.empty()) continue;
    size_t line_len = out.size() - line_start;
    if (!first && line_len + 1 + word.size() > kFoldAt) {
      out += "\r\n";
      line_start = out.size();
    }
    first = false;
    out += ' ';
    while (out.size() - line_start + word.size() > kMaxLine) {
      size_t room = kMaxLine - (out.size() - line_start);
      out.append(word.substr(0, room));
      word.remove_prefix(room);
      out += "\r\n ";
      line_start = out.size() - 1;
    }
    out += word;
  }
  out += "\r\n";
  return out;
}

// "Subject: <prefix><subject>", RFC 2047-encoding the subject when it is not ASCII (or has a
// word too long to fold). Encoded words the original already had stay as they were.
std::string SubjectField(std::string_view prefix, std::string_view subject) {
  std::string clean = CleanText(subject);
  bool has_long_word = false;
  size_t pos = 0;
  while (pos <= clean.size()) {
    size_t sp = clean.find(' ', pos);
    if (sp == std::string::npos) sp = clean.size();
    if (sp - pos > kMaxLine - 40) has_long_word = true;
    pos = sp + 1;
  }
  if (IsAscii(clean) && !has_long_word) {
    return FoldField("Subject", std::string(prefix) + clean);
  }
  std::string out = "Subject:";
  std::string_view lead = prefix;
  while (!lead.empty() && lead.back() == ' ') lead.remove_suffix(1);
  if (!lead.empty()) {
    out += ' ';
    out += lead;
  }
  size_t line_len = out.size();
  for (const std::string& word : EncodedWords(ValidUtf8(clean))) {
    if (line_len + 1 + word.size() > kFoldAt) {
      out += "\r\n ";
      line_len = 1;
    } else {
      out += ' ';
      ++line_len;
    }
    out += word;
    line_len += word.size();
  }
  out += "\r\n";
  return out;
}

// A space that Wrap does not break a line at (it becomes a space).
constexpr char kNoBreak = '\x01';

// Wraps text at spaces to `width` columns, each line prefixed with `indent`, CRLF ends.
std::string Wrap(std::string_view text, std::string_view indent, size_t width = 76) {
  std::string out;
  std::string line(indent);
  size_t pos = 0;
  bool empty = true;
  while (pos < text.size()) {
    size_t sp = text.find(' ', pos);
    if (sp == std::string_view::npos) sp = text.size();
    std::string_view word = text.substr(pos, sp - pos);
    pos = sp + 1;
    if (word.empty()) continue;
    if (!empty && line.size() + 1 + word.size() > width) {
      std::replace(line.begin(), line.end(), kNoBreak, ' ');
      out += line + "\r\n";
      line = std::string(indent);
      empty = true;
    }
    if (!empty) line += ' ';
    line += word;
    empty = false;
  }
  std::replace(line.begin(), line.end(), kNoBreak, ' ');
  out += line + "\r\n";
  return out;
}

// Quoted-printable (RFC 2045 section 6.7) of CRLF text, lines at most 76 characters.
std::string QuotedPrintable(std::string_view crlf_text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t start = 0;
  while (start <= crlf_text.size()) {
    size_t end = crlf_text.find("\r\n", start);
    bool last = end == std::string_view::npos;
    if (last) end = crlf_text.size();
    std::string_view line = crlf_text.substr(start, end - start);
    size_t col = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(line[i]);
      bool trailing_space = (c == ' ' || c == '\t') && i + 1 == line.size();
      std::string piece;
      if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !trailing_space)) {
        piece = static_cast<char>(c);
      } else {
        piece = {'=', kHex[c >> 4], kHex[c & 0xf]};
      }
      if (col + piece.size() > 75) {
        out += "=\r\n";
        col = 0;
      }
      out += piece;
      col += piece.size();
    }
    if (last) break;
    out += "\r\n";
    start = end + 2;
  }
  return out;
}

// RFC 3461 xtext ("+2B" for '+'): decoded when the result is printable ASCII.
std::string DecodeXtext(std::string_view in) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  for (char c : out) {
    if (c < 0x21 || c > 0x7e) return std::string(in);
  }
  return out;
}

// An address for Final-Recipient / Original-Recipient: "rfc822;addr" when ASCII, else the
// RFC 6533 "utf-8;" type with \x{HEX} for every non-ASCII character.
std::string TypedAddress(std::string_view address) {
  if (IsAscii(address)) return "rfc822;" + AsciiText(address);
  std::string valid = ValidUtf8(address);
  std::string out = "utf-8;";
  size_t i = 0;
  while (i < valid.size()) {
    unsigned char c = static_cast<unsigned char>(valid[i]);
    if (c < 0x80) {
      if (c > 0x20 && c != 0x7f && c != '\\') {
        out += static_cast<char>(c);
      } else {
        char buf[16];
        std::snprintf(buf, sizeof(buf), "\\x{%X}", c);
        out += buf;
      }
      ++i;
      continue;
    }
    size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
    uint32_t cp = c & (0x7f >> len);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (valid[i + k] & 0x3f);
    char buf[16];
    std::snprintf(buf, sizeof(buf), "\\x{%X}", cp);
    out += buf;
    i += len;
  }
  return out;
}

bool IsSmtpReply(std::string_view s) {
  return s.size() >= 3 && s[0] >= '2' && s[0] <= '5' &&
         std::isdigit(static_cast<unsigned char>(s[1])) &&
         std::isdigit(static_cast<unsigned char>(s[2])) &&
         (s.size() == 3 || s[3] == ' ' || s[3] == '-');
}

struct EnhancedCode {
  int klass = 0;
  int subject = 0;
  int detail = 0;
  std::string ToString() const {
    return std::to_string(klass) + "." + std::to_string(subject) + "." + std::to_string(detail);
  }
};

// The RFC 3463 code after the reply code: "550 5.1.1 ..." -> 5.1.1.
std::optional<EnhancedCode> ParseEnhancedCode(std::string_view reply) {
  if (!IsSmtpReply(reply) || reply.size() < 5) return std::nullopt;
  std::string_view s = reply.substr(4);
  int parts[3] = {0, 0, 0};
  size_t i = 0;
  for (int p = 0; p < 3; ++p) {
    size_t digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && digits < 3) {
      parts[p] = parts[p] * 10 + (s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || (p == 0 && digits != 1)) return std::nullopt;
    if (p < 2) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i < s.size() && s[i] != ' ') return std::nullopt;
  if (parts[0] != 2 && parts[0] != 4 && parts[0] != 5) return std::nullopt;
  return EnhancedCode{parts[0], parts[1], parts[2]};
}

EnhancedCode StatusFor(DsnAction action, const QueuedRecipient& r) {
  int expected = action == DsnAction::kFailed ? 5 : action == DsnAction::kDelayed ? 4 : 2;
  std::optional<EnhancedCode> code = ParseEnhancedCode(r.last_response());
  // A failure after temporary errors (expiry) keeps the last 4.x.x, as Postfix and Sendmail do.
  if (code && (code->klass == expected || (action == DsnAction::kFailed && code->klass == 4))) {
    return *code;
  }
  return EnhancedCode{expected, 0, 0};
}

const char* ActionName(DsnAction action) {
  switch (action) {
    case DsnAction::kFailed:
      return "failed";
    case DsnAction::kDelayed:
      return "delayed";
    case DsnAction::kDelivered:
      return "delivered";
    case DsnAction::kRelayed:
      return "relayed";
  }
  return "failed";
}

// What the sender can do about a failure, by RFC 3463 code.
std::string FailureAdvice(const EnhancedCode& code, bool expired) {
  if (code.subject == 1 && code.detail == 2) {
    return "The recipient's domain (the part after the @) does not seem to exist or accept "
           "mail. Check it for typing errors and send the message again.";
  }
  if (code.subject == 1) {
    return "The address may be misspelled or may no longer exist. Check it for typing errors "
           "and send the message again, or contact the recipient another way for a current "
           "address.";
  }
  if (code.subject == 2 && code.detail == 2) {
    return "The recipient's mailbox is full. Try sending again later, or contact the recipient "
           "another way.";
  }
  if ((code.subject == 2 && code.detail == 3) || (code.subject == 3 && code.detail == 4)) {
    return "Your message is too large for the recipient's mail system. Send it again with "
           "smaller or fewer attachments, or share large files as a link.";
  }
  if (code.subject == 7) {
    return "The receiving server refused your message because of its security or anti-spam "
           "policy; its reply above says why. If you think this is a mistake, contact the "
           "recipient another way and pass the reply on to their administrator.";
  }
  if (expired || code.subject == 4) {
    return "Our server could not reach the recipient's mail server for a long time and has "
           "stopped trying. The problem is on the recipient's side or in between; you can try "
           "again later, or contact the recipient another way.";
  }
  return "Check the recipient addresses and send the message again. If the problem "
         "continues, forward this report to your email administrator.";
}

std::string MessageIdOf(std::string_view headers) {
  std::string id = AsciiText(FindHeader(headers, "Message-ID"));
  size_t lt = id.find('<');
  size_t gt = id.find('>', lt == std::string::npos ? 0 : lt);
  if (lt == std::string::npos || gt == std::string::npos || gt - lt > 250) return "";
  id = id.substr(lt, gt - lt + 1);
  if (id.find(' ') != std::string::npos) return "";
  return id;
}

}  // namespace

std::string FormatRfc5322Date(int64_t unix_seconds) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  if (gmtime_r(&t, &tm) == nullptr) {
    t = 0;
    gmtime_r(&t, &tm);
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string BuildDsn(const DsnInput& in) {
  MAIL_CHECK(in.message != nullptr);
  const QueuedMessage& m = *in.message;

  // The recipients this report is about, in the order given, each once.
  std::vector<const QueuedRecipient*> rcpts;
  std::set<int> seen;
  for (int i : in.recipient_indexes) {
    if (i < 0 || i >= m.recipients_size() || !seen.insert(i).second) continue;
    rcpts.push_back(&m.recipients(i));
  }

  // The original, with CRLF line ends, and what of it goes back. RFC 3461 section 4.3: RET
  // applies to failure reports; the others return only the header.
  bool too_big = in.original.size() > kDsnMaxReturnedOriginal;
  bool full_wanted = in.action == DsnAction::kFailed && !m.ret_headers_only() && !too_big;
  std::string original =
      NormalizeCrlf(full_wanted ? in.original : in.original.substr(0, kMaxReturnedHeaderBytes));
  std::string headers = HeaderSection(original);
  // Overlong lines and NULs cannot travel in message/rfc822 (no encoding is allowed there).
  bool headers_only =
      !full_wanted || HasLongLine(original) || original.find('\0') != std::string::npos;

  std::string subject = m.subject();
  if (subject.empty()) subject = FindHeader(headers, "Subject");
  subject = CleanText(subject);
  std::string host = HostName(in.reporting_mta);
  if (host.empty()) host = "localhost";
  std::string remote = HostName(in.remote_mta);

  // Part 1: for the person who sent the message.
  std::string text;
  text += "This is the mail system at " + host + ".\r\n\r\n";
  switch (in.action) {
    case DsnAction::kFailed:
      text += Wrap(
          "Your message could not be delivered to one or more recipients. It will not "
          "be sent again.",
          "");
      break;
    case DsnAction::kDelayed:
      text += Wrap(
          "Your message has not been delivered to one or more recipients yet. This is "
          "only a warning: you do not need to send it again.",
          "");
      break;
    case DsnAction::kDelivered:
      text += Wrap("Your message was delivered to the recipients listed below.", "");
      break;
    case DsnAction::kRelayed:
      text += Wrap(
          "Your message was passed on for the recipients listed below to a server that does "
          "not send delivery notifications. This is the last notice you will get about their "
          "copies, whether or not they arrive.",
          "");
      break;
  }
  text += "\r\n";
  if (!subject.empty()) text += Wrap("Subject: " + ValidUtf8(subject), "  ");
  if (m.received_unix() > 0) text += "  Sent: " + FormatRfc5322Date(m.received_unix()) + "\r\n";
  text += "\r\n";
  switch (in.action) {
    case DsnAction::kFailed:
      text += "Delivery failed for:\r\n\r\n";
      break;
    case DsnAction::kDelayed:
      text += "Not delivered yet:\r\n\r\n";
      break;
    case DsnAction::kDelivered:
      text += "Delivered to:\r\n\r\n";
      break;
    case DsnAction::kRelayed:
      text += "Passed on for:\r\n\r\n";
      break;
  }
  std::vector<std::string> advice;
  bool expired =
      in.action == DsnAction::kFailed && m.expires_unix() > 0 && in.now_unix >= m.expires_unix();
  for (const QueuedRecipient* r : rcpts) {
    text += Wrap(ValidUtf8(CleanText(r->address())), "  ");
    std::string response = ValidUtf8(CleanText(r->last_response()));
    if (!response.empty()) {
      if (IsSmtpReply(response)) {
        text += remote.empty() ? "    The receiving server replied:\r\n"
                               : "    The receiving server (" + remote + ") replied:\r\n";
      } else {
        text += "    Reason:\r\n";
      }
      text += Wrap(response, "    ");
    }
    text += "\r\n";
    if (in.action == DsnAction::kFailed) {
      std::string a = FailureAdvice(StatusFor(in.action, *r), expired);
      if (std::find(advice.begin(), advice.end(), a) == advice.end()) advice.push_back(a);
    }
  }
  if (in.action == DsnAction::kFailed) {
    text += "What you can do:\r\n\r\n";
    for (const std::string& a : advice) text += Wrap(a, "  ") + "\r\n";
  } else if (in.action == DsnAction::kDelayed) {
    std::string until = "for a while";
    if (m.expires_unix() > 0) {
      until = "until " + FormatRfc5322Date(m.expires_unix());
      std::replace(until.begin(), until.end(), ' ', kNoBreak);
    }
    text += Wrap("Our server will keep trying to deliver it " + until +
                     ". If it still cannot be delivered by then, you will get another "
                     "message. If the message is urgent, contact the recipients another way.",
                 "") +
            "\r\n";
  }
  if (in.action != DsnAction::kFailed) {
    text += Wrap("The header of your message is attached for reference.", "");
  } else if (headers_only) {
    text += Wrap(std::string("Only the header of your original message is attached") +
                     (m.ret_headers_only() ? " (as requested when it was sent)."
                      : too_big            ? " (the message is too large to return)."
                                           : "."),
                 "");
  } else {
    text += Wrap("Your original message is attached.", "");
  }
  text += Wrap("The technical report for your administrator follows.", "");

  // Part 2: the machine-readable report (US-ASCII).
  std::string report;
  report += "Reporting-MTA: dns;" + host + "\r\n";
  if (!m.envid().empty()) report += FoldField("Original-Envelope-Id", AsciiText(m.envid()));
  if (m.received_unix() > 0) {
    report += "Arrival-Date: " + FormatRfc5322Date(m.received_unix()) + "\r\n";
  }
  for (const QueuedRecipient* r : rcpts) {
    report += "\r\n";
    if (!r->orcpt().empty()) {
      std::string orcpt = r->orcpt();
      size_t semi = orcpt.find(';');
      if (semi != std::string::npos && IsAscii(orcpt)) {
        report +=
            FoldField("Original-Recipient", AsciiText(orcpt.substr(0, semi)) + ";" +
                                                DecodeXtext(AsciiText(orcpt.substr(semi + 1))));
      }
    }
    report += FoldField("Final-Recipient", TypedAddress(r->address()));
    report += std::string("Action: ") + ActionName(in.action) + "\r\n";
    report += "Status: " + StatusFor(in.action, *r).ToString() + "\r\n";
    if (!remote.empty() && !r->last_response().empty()) {
      report += "Remote-MTA: dns;" + remote + "\r\n";
    }
    std::string response = AsciiText(r->last_response());
    if (!response.empty()) {
      report +=
          FoldField("Diagnostic-Code", (IsSmtpReply(response) ? "smtp; " : "X-Local; ") + response);
    }
    if (r->attempts() > 0 || in.action == DsnAction::kDelivered ||
        in.action == DsnAction::kRelayed) {
      report += "Last-Attempt-Date: " + FormatRfc5322Date(in.now_unix) + "\r\n";
    }
    if (in.action == DsnAction::kDelayed && m.expires_unix() > 0) {
      report += "Will-Retry-Until: " + FormatRfc5322Date(m.expires_unix()) + "\r\n";
    }
  }

  // Part 3: the original, or its header section.
  std::string returned;
  std::string returned_cte;
  if (headers_only) {
    returned = headers;
    if (HasLongLine(returned) || returned.find('\0') != std::string::npos) {
      returned = QuotedPrintable(returned);
      returned_cte = "quoted-printable";
    }
  } else {
    returned = std::move(original);
  }
  if (returned_cte.empty()) returned_cte = IsAscii(returned) ? "7bit" : "8bit";

  // Part 1 goes out as 7bit when it can.
  std::string text_cte = "7bit";
  if (!IsAscii(text) || HasLongLine(text)) {
    text = QuotedPrintable(text);
    text_cte = "quoted-printable";
  }

  // A boundary that occurs in none of the parts ("=_" never occurs in quoted-printable).
  std::string boundary = "=_dsn_" + std::to_string(m.id()) + "_" + std::to_string(in.now_unix);
  auto occurs = [&](const std::string& b) {
    std::string delimiter = "--" + b;
    return returned.find(delimiter) != std::string::npos ||
           text.find(delimiter) != std::string::npos || report.find(delimiter) != std::string::npos;
  };
  for (int n = 1; occurs(boundary); ++n) {
    boundary = "=_dsn_" + std::to_string(m.id()) + "_" + std::to_string(in.now_unix) + "_" +
               std::to_string(n);
  }

  // A Message-ID unique per message, action, time and recipient set.
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over the recipient indexes.
  for (int i : in.recipient_indexes) {
    hash = (hash ^ static_cast<uint64_t>(static_cast<uint32_t>(i))) * 1099511628211ull;
  }
  char hash_hex[20];
  std::snprintf(hash_hex, sizeof(hash_hex), "%08x", static_cast<uint32_t>(hash ^ (hash >> 32)));

  std::string out;
  out += "From: Mail Delivery System <" + AsciiText(in.postmaster_address) + ">\r\n";
  if (m.sender().empty()) {
    out += "To: undisclosed-recipients:;\r\n";
  } else {
    out += FoldField("To", "<" + ValidUtf8(CleanText(m.sender())) + ">");
  }
  const char* prefix = in.action == DsnAction::kFailed    ? "Undeliverable: "
                       : in.action == DsnAction::kDelayed ? "Delivery delayed: "
                       : in.action == DsnAction::kRelayed ? "Relayed: "
                                                          : "Delivered: ";
  out += SubjectField(prefix, subject);
  out += "Date: " + FormatRfc5322Date(in.now_unix) + "\r\n";
  out += "Message-ID: <dsn." + std::to_string(m.id()) + "." + ActionName(in.action) + "." +
         std::to_string(in.now_unix) + "." + hash_hex + "@" + host + ">\r\n";
  std::string original_id = MessageIdOf(headers);
  if (!original_id.empty()) {
    out += "In-Reply-To: " + original_id + "\r\n";
    out += "References: " + original_id + "\r\n";
  }
  out += "Auto-Submitted: auto-replied\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=delivery-status;\r\n";
  out += "\tboundary=\"" + boundary + "\"\r\n";
  out += std::string("Content-Transfer-Encoding: ") + (returned_cte == "8bit" ? "8bit" : "7bit") +
         "\r\n";
  out += "\r\n";
  out += "This is a MIME-encapsulated delivery status notification.\r\n";

  out += "\r\n--" + boundary + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Description: Notification\r\n";
  out += "Content-Transfer-Encoding: " + text_cte + "\r\n\r\n";
  out += text;

  out += "\r\n--" + boundary + "\r\n";
  out += "Content-Type: message/delivery-status\r\n";
  out += "Content-Description: Delivery report\r\n\r\n";
  out += report;

  out += "\r\n--" + boundary + "\r\n";
  if (headers_only) {
    out += "Content-Type: text/rfc822-headers; charset=utf-8\r\n";
    out += "Content-Description: Original message headers\r\n";
  } else {
    out += "Content-Type: message/rfc822\r\n";
    out += "Content-Description: Undelivered message\r\n";
  }
  out += "Content-Transfer-Encoding: " + returned_cte + "\r\n\r\n";
  out += returned;
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace transport::queue
