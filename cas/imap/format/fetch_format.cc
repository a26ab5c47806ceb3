// FETCH data item rendering. The output follows RFC 3501 9 / RFC 9051 9 (formal syntax) and
// the way Dovecot's lib-imap writes the same items (imap-envelope.c, imap-bodystructure.c):
// every field of the extension data is written, address lists and multipart children are
// concatenated without separators, and a multipart without parts becomes one empty
// text/plain part.

#include "cas/imap/format/fetch_format.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cas::imap {
namespace {

using ::google::protobuf::RepeatedPtrField;
using ::mail::v1::BodyPart;
using ::mail::v1::Envelope;
using ::mail::v1::EnvelopeAddress;
using ::mail::v1::MimeParam;

// ---------------------------------------------------------------------------------------
// Characters and strings.

char UpperChar(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsWsp(char c) { return c == ' ' || c == '\t'; }

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

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t min = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      min = 0x80;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      min = 0x800;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// True if `s` (free of NUL) can be a quoted string: no CR or LF; 8-bit bytes only as valid
// UTF-8 and only when `utf8`.
bool CanQuote(std::string_view s, bool utf8) {
  bool eight_bit = false;
  for (char c : s) {
    if (c == '\r' || c == '\n') return false;
    if ((static_cast<unsigned char>(c) & 0x80) != 0) eight_bit = true;
  }
  if (!eight_bit) return true;
  return utf8 && IsValidUtf8(s);
}

// string = quoted / literal. NUL bytes are dropped: no IMAP string can carry them.
void AppendString(std::string* out, std::string_view s, bool utf8) {
  std::string without_nul;
  if (s.find('\0') != std::string_view::npos) {
    without_nul.reserve(s.size());
    for (char c : s) {
      if (c != '\0') without_nul.push_back(c);
    }
    s = without_nul;
  }
  if (CanQuote(s, utf8)) {
    out->push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') out->push_back('\\');
      out->push_back(c);
    }
    out->push_back('"');
    return;
  }
  out->push_back('{');
  out->append(std::to_string(s.size()));
  out->append("}\r\n");
  out->append(s);
}

// nstring for a proto `optional string` field.
void AppendNString(std::string* out, bool present, std::string_view s, bool utf8) {
  if (present) {
    AppendString(out, s, utf8);
  } else {
    out->append("NIL");
  }
}

// Dovecot's imap_append_string_for_humans() clean-up for subjects and display names: CR, LF
// and TAB count as white space, runs of white space become one space, leading and trailing
// white space goes.
std::string ForHumans(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = !out.empty();
      continue;
    }
    if (c == '\0') continue;
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// ENVELOPE.

void AppendAddress(std::string* out, const EnvelopeAddress& a, bool utf8) {
  if (a.group_end()) {
    out->append("(NIL NIL NIL NIL)");
    return;
  }
  if (a.group_start()) {
    // The group name travels in the mailbox field; name, route and host are NIL.
    out->append("(NIL NIL ");
    AppendString(out, a.mailbox(), utf8);
    out->append(" NIL)");
    return;
  }
  out->push_back('(');
  if (a.has_name()) {
    AppendString(out, ForHumans(a.name()), utf8);
  } else {
    out->append("NIL");
  }
  out->push_back(' ');
  AppendNString(out, a.has_adl(), a.adl(), utf8);
  out->push_back(' ');
  AppendNString(out, a.has_mailbox(), a.mailbox(), utf8);
  out->push_back(' ');
  AppendNString(out, a.has_host(), a.host(), utf8);
  out->push_back(')');
}

void AppendAddressList(std::string* out, const RepeatedPtrField<EnvelopeAddress>& list, bool utf8) {
  if (list.empty()) {
    out->append("NIL");
    return;
  }
  out->push_back('(');
  for (const EnvelopeAddress& a : list) AppendAddress(out, a, utf8);
  out->push_back(')');
}

void AppendEnvelope(std::string* out, const Envelope& e, bool utf8) {
  out->push_back('(');
  AppendNString(out, e.has_date(), e.date(), utf8);
  out->push_back(' ');
  if (e.has_subject()) {
    AppendString(out, ForHumans(e.subject()), utf8);
  } else {
    out->append("NIL");
  }
  for (const RepeatedPtrField<EnvelopeAddress>* list :
       {&e.from(), &e.sender(), &e.reply_to(), &e.to(), &e.cc(), &e.bcc()}) {
    out->push_back(' ');
    AppendAddressList(out, *list, utf8);
  }
  out->push_back(' ');
  AppendNString(out, e.has_in_reply_to(), e.in_reply_to(), utf8);
  out->push_back(' ');
  AppendNString(out, e.has_message_id(), e.message_id(), utf8);
  out->push_back(')');
}

// ---------------------------------------------------------------------------------------
// BODY / BODYSTRUCTURE.

// Written where the grammar needs a body and the structure has none (a multipart without
// parts, which RFC 3501 does not allow), as Dovecot does: an empty text/plain part.
void AppendEmptyBody(std::string* out, bool ext) {
  out->append(R"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0)");
  if (ext) out->append(" NIL NIL NIL NIL");
  out->push_back(')');
}

// body-fld-param: ("NAME" "value" ...) or NIL.
void AppendParams(std::string* out, const RepeatedPtrField<MimeParam>& params, bool utf8) {
  if (params.empty()) {
    out->append("NIL");
    return;
  }
  out->push_back('(');
  bool first = true;
  for (const MimeParam& p : params) {
    if (!first) out->push_back(' ');
    first = false;
    AppendString(out, AsciiUpper(p.name()), utf8);
    out->push_back(' ');
    AppendString(out, p.value(), utf8);
  }
  out->push_back(')');
}

// SP body-fld-dsp SP body-fld-lang SP body-fld-loc: the extension data every part ends with.
void AppendCommonExtension(std::string* out, const BodyPart& p, bool utf8) {
  out->push_back(' ');
  if (p.has_disposition()) {
    out->push_back('(');
    AppendString(out, AsciiUpper(p.disposition()), utf8);
    out->push_back(' ');
    AppendParams(out, p.disposition_params(), utf8);
    out->push_back(')');
  } else {
    out->append("NIL");
  }
  out->push_back(' ');
  if (p.language().empty()) {
    out->append("NIL");
  } else {
    out->push_back('(');
    bool first = true;
    for (const std::string& tag : p.language()) {
      if (!first) out->push_back(' ');
      first = false;
      AppendString(out, tag, utf8);
    }
    out->push_back(')');
  }
  out->push_back(' ');
  AppendNString(out, p.has_location(), p.location(), utf8);
}

void AppendBody(std::string* out, const BodyPart& p, bool ext, bool utf8);

void AppendMultipartFields(std::string* out, const BodyPart& p, bool ext, bool utf8) {
  if (p.children().empty()) AppendEmptyBody(out, ext);
  for (const BodyPart& child : p.children()) AppendBody(out, child, ext, utf8);
  out->push_back(' ');
  AppendString(out, AsciiUpper(p.subtype()), utf8);
  if (!ext) return;
  out->push_back(' ');
  AppendParams(out, p.params(), utf8);
  AppendCommonExtension(out, p, utf8);
}

void AppendSinglePartFields(std::string* out, const BodyPart& p, bool ext, bool utf8) {
  const bool untyped = p.type().empty();
  const bool text = untyped || EqualsIgnoreCase(p.type(), "text");
  const bool message =
      EqualsIgnoreCase(p.type(), "message") && EqualsIgnoreCase(p.subtype(), "rfc822");
  AppendString(out, untyped ? "TEXT" : AsciiUpper(p.type()), utf8);
  out->push_back(' ');
  AppendString(out, untyped ? "PLAIN" : AsciiUpper(p.subtype()), utf8);
  out->push_back(' ');
  AppendParams(out, p.params(), utf8);
  out->push_back(' ');
  AppendNString(out, p.has_id(), p.id(), utf8);
  out->push_back(' ');
  AppendNString(out, p.has_description(), p.description(), utf8);
  out->push_back(' ');
  AppendString(out, p.encoding().empty() ? "7BIT" : AsciiUpper(p.encoding()), utf8);
  out->push_back(' ');
  out->append(std::to_string(p.body_size()));
  if (text) {
    out->push_back(' ');
    out->append(std::to_string(p.body_lines()));
  } else if (message) {
    out->push_back(' ');
    AppendEnvelope(out, p.envelope(), utf8);
    out->push_back(' ');
    if (p.children().empty()) {
      // Not produced by the store (an unparsable message/rfc822 becomes opaque), but the
      // grammar needs a body here.
      AppendEmptyBody(out, ext);
    } else {
      AppendBody(out, p.children(0), ext, utf8);
    }
    out->push_back(' ');
    out->append(std::to_string(p.body_lines()));
  }
  if (!ext) return;
  out->push_back(' ');
  AppendNString(out, p.has_md5(), p.md5(), utf8);
  AppendCommonExtension(out, p, utf8);
}

// Recursion depth is that of the structure, which the store bounds (MimeLimits::max_depth,
// and protobuf's recursion limit when the structure crossed the wire).
void AppendBody(std::string* out, const BodyPart& p, bool ext, bool utf8) {
  out->push_back('(');
  if (EqualsIgnoreCase(p.type(), "multipart")) {
    AppendMultipartFields(out, p, ext, utf8);
  } else {
    AppendSinglePartFields(out, p, ext, utf8);
  }
  out->push_back(')');
}

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

// ---------------------------------------------------------------------------------------
// Dates.

// Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date.
void CivilFromDays(int64_t z, int64_t* year, int* month, int* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2 ? 1 : 0);
}

void AppendDigits(std::string* out, int64_t value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) {
    out->append(static_cast<size_t>(width) - digits.size(), '0');
  }
  out->append(digits);
}

}  // namespace

std::string EnvelopeString(const Envelope& envelope, bool utf8) {
  std::string out;
  AppendEnvelope(&out, envelope, utf8);
  return out;
}

std::string BodyStructureString(const BodyPart& part, bool extensible, bool utf8) {
  std::string out;
  AppendBody(&out, part, extensible, utf8);
  return out;
}

std::string HeaderFields(std::string_view header_block, const std::vector<std::string>& fields,
                         bool exclude) {
  std::string out;
  bool in_field = false;  // A field has started (continuation lines belong to it).
  bool keep = false;      // Whether that field is kept.
  size_t pos = 0;
  while (pos < header_block.size()) {
    const size_t nl = header_block.find('\n', pos);
    const size_t next = nl == std::string_view::npos ? header_block.size() : nl + 1;
    std::string_view line = header_block.substr(pos, next - pos);
    pos = next;
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // The blank line ends the header.
    if (!IsWsp(line.front()) || !in_field) {
      // A new field (a continuation line with nothing before it is a nameless field).
      in_field = true;
      bool match = false;
      if (!IsWsp(line.front())) {
        const size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
          const std::string_view name = TrimWsp(line.substr(0, colon));
          match = std::any_of(fields.begin(), fields.end(),
                              [&](const std::string& f) { return EqualsIgnoreCase(name, f); });
        }
      }
      keep = match != exclude;
    }
    if (keep) {
      out.append(line);
      out.append("\r\n");
    }
  }
  out.append("\r\n");
  return out;
}

std::string_view Partial(std::string_view data, uint64_t origin, std::optional<uint64_t> count) {
  if (origin >= data.size()) return {};
  const size_t start = static_cast<size_t>(origin);
  size_t length = data.size() - start;
  if (count && *count < length) length = static_cast<size_t>(*count);
  return data.substr(start, length);
}

std::string PartialItemName(std::string_view item, std::optional<uint64_t> origin) {
  std::string out(item);
  if (origin) {
    out.push_back('<');
    out.append(std::to_string(*origin));
    out.push_back('>');
  }
  return out;
}

std::string FormatInternalDate(int64_t unix_seconds) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  constexpr int64_t kSecondsPerDay = 86400;
  constexpr int64_t kMin = -62135596800;  // 0001-01-01 00:00:00 UTC.
  constexpr int64_t kMax = 253402300799;  // 9999-12-31 23:59:59 UTC.
  const int64_t t = std::clamp(unix_seconds, kMin, kMax);
  int64_t days = t / kSecondsPerDay;
  int64_t secs = t % kSecondsPerDay;
  if (secs < 0) {
    secs += kSecondsPerDay;
    --days;
  }
  int64_t year = 0;
  int month = 0;
  int day = 0;
  CivilFromDays(days, &year, &month, &day);
  std::string out = "\"";
  AppendDigits(&out, day, 2);
  out.push_back('-');
  out.append(kMonths[static_cast<size_t>(month - 1)]);
  out.push_back('-');
  AppendDigits(&out, year, 4);
  out.push_back(' ');
  AppendDigits(&out, secs / 3600, 2);
  out.push_back(':');
  AppendDigits(&out, secs / 60 % 60, 2);
  out.push_back(':');
  AppendDigits(&out, secs % 60, 2);
  out.append(" +0000\"");
  return out;
}

}  // namespace cas::imap
