#include "cas/imap/session/search.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cas/imap/format/fetch_format.h"
#include "common/status.h"

namespace cas::imap {
namespace {

using ::mail::v1::BodyPart;
using ::mail::v1::MessageRecord;
using ::mail::v1::MessageStructure;

constexpr int64_t kSecondsPerDay = 86400;
// Longest Date header value looked at for its zone (the store parses no longer ones either).
constexpr size_t kMaxDateBytes = 1024;
// Longest charset name handed to iconv; real names are far shorter.
constexpr size_t kMaxCharsetNameBytes = 64;
// Separates the folded text of two body parts, so that no match spans a part boundary. IMAP
// strings cannot carry NUL, so no needle contains it.
constexpr char kPartSeparator = '\0';

// ---------------------------------------------------------------------------------------------
// ASCII helpers.

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

std::string AsciiLowerString(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool IsWsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

size_t SaturatingMul(size_t a, size_t b) {
  size_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? SIZE_MAX : out;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out = 0;
  if (!__builtin_add_overflow(a, b, &out)) return out;
  return b > 0 ? INT64_MAX : INT64_MIN;
}

// ---------------------------------------------------------------------------------------------
// UTF-8 and case folding.

// Decodes the UTF-8 sequence at s[i]; returns its length, or 0 if it is not valid UTF-8
// (overlong forms, surrogates and code points beyond U+10FFFF included).
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  char32_t c = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    c = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    c = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    c = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool InRange(char32_t c, char32_t first, char32_t last) { return c >= first && c <= last; }

// Ranges where an even code point is a capital and the next one its small letter.
char32_t FoldEvenUpper(char32_t c) { return c | 1; }
// Ranges where an odd code point is a capital and the next one its small letter.
char32_t FoldOddUpper(char32_t c) { return (c & 1) != 0 ? c + 1 : c; }

// Simple case folding (Unicode CaseFolding.txt, status C and S) for the scripts mail is mostly
// written in. Every mapping keeps or shortens the UTF-8 length.
char32_t FoldCodePoint(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
  if (c < 0x100) {                // Latin-1 Supplement.
    if (c == 0xB5) return 0x3BC;  // MICRO SIGN -> GREEK SMALL LETTER MU
    if (InRange(c, 0xC0, 0xDE) && c != 0xD7) return c + 0x20;
    return c;
  }
  if (c < 0x250) {                // Latin Extended-A and -B.
    if (c == 0x130) return 'i';   // LATIN CAPITAL LETTER I WITH DOT ABOVE (Turkic "T" rule)
    if (c == 0x178) return 0xFF;  // Y WITH DIAERESIS
    if (c == 0x17F) return 's';   // LONG S
    if (InRange(c, 0x100, 0x12F) || InRange(c, 0x132, 0x137) || InRange(c, 0x14A, 0x177) ||
        InRange(c, 0x1DE, 0x1EF) || InRange(c, 0x1F8, 0x21F) || InRange(c, 0x222, 0x233)) {
      return FoldEvenUpper(c);
    }
    if (InRange(c, 0x139, 0x148) || InRange(c, 0x179, 0x17E) || InRange(c, 0x1CD, 0x1DC)) {
      return FoldOddUpper(c);
    }
    return c;
  }
  if (InRange(c, 0x370, 0x3FF)) {  // Greek.
    if (c == 0x386) return 0x3AC;
    if (InRange(c, 0x388, 0x38A)) return c + 0x25;
    if (c == 0x38C) return 0x3CC;
    if (InRange(c, 0x38E, 0x38F)) return c + 0x3F;
    if (InRange(c, 0x391, 0x3A1) || InRange(c, 0x3A3, 0x3AB)) return c + 0x20;
    if (c == 0x3C2) return 0x3C3;  // FINAL SIGMA -> SIGMA
    if (InRange(c, 0x3D8, 0x3EF)) return FoldEvenUpper(c);
    return c;
  }
  if (InRange(c, 0x400, 0x52F)) {  // Cyrillic and Cyrillic Supplement.
    if (InRange(c, 0x400, 0x40F)) return c + 0x50;
    if (InRange(c, 0x410, 0x42F)) return c + 0x20;
    if (InRange(c, 0x460, 0x481) || InRange(c, 0x48A, 0x4BF) || InRange(c, 0x4D0, 0x52F)) {
      return FoldEvenUpper(c);
    }
    if (c == 0x4C0) return 0x4CF;
    if (InRange(c, 0x4C1, 0x4CE)) return FoldOddUpper(c);
    return c;
  }
  if (InRange(c, 0x531, 0x556)) return c + 0x30;  // Armenian.
  if (InRange(c, 0x1E00, 0x1EFF)) {               // Latin Extended Additional (Vietnamese).
    if (c == 0x1E9E) return 0xDF;                 // CAPITAL SHARP S
    if (InRange(c, 0x1E00, 0x1E95) || InRange(c, 0x1EA0, 0x1EFF)) return FoldEvenUpper(c);
    return c;
  }
  if (InRange(c, 0x1F00, 0x1F6F)) {  // Greek Extended: capitals are the small letter + 8.
    return (c & 0x8) != 0 ? c - 8 : c;
  }
  if (c == 0x2126) return 0x3C9;                    // OHM SIGN
  if (c == 0x212A) return 'k';                      // KELVIN SIGN
  if (c == 0x212B) return 0xE5;                     // ANGSTROM SIGN
  if (InRange(c, 0x2160, 0x216F)) return c + 0x10;  // Roman numerals.
  if (InRange(c, 0x24B6, 0x24CF)) return c + 0x1A;  // Circled Latin letters.
  if (InRange(c, 0xFF21, 0xFF3A)) return c + 0x20;  // Fullwidth Latin.
  return c;
}

// Appends `s` case-folded. Bytes that are not valid UTF-8 are copied unchanged.
void AppendFolded(std::string_view s, std::string* out) {
  out->reserve(out->size() + s.size());
  for (size_t i = 0; i < s.size();) {
    const char b = s[i];
    if ((static_cast<unsigned char>(b) & 0x80) == 0) {
      out->push_back(AsciiLower(b));
      ++i;
      continue;
    }
    char32_t cp = 0;
    const size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {
      out->push_back(b);
      ++i;
      continue;
    }
    AppendUtf8(FoldCodePoint(cp), out);
    i += len;
  }
}

std::string Folded(std::string_view s) {
  std::string out;
  AppendFolded(s, &out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Charsets and transfer encodings.

bool IsPlausibleCharsetName(std::string_view name) {
  if (name.empty() || name.size() > kMaxCharsetNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
  });
}

// Converts `bytes` from `charset` to UTF-8 with iconv; invalid input becomes U+FFFD.
// std::nullopt if iconv does not know the charset.
std::optional<std::string> Iconv(std::string_view bytes, const std::string& charset) {
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string in(bytes);
  std::string out(in.size() * 2 + 16, '\0');
  size_t used = 0;
  char* in_ptr = in.data();
  size_t in_left = in.size();
  bool flushing = false;
  for (;;) {
    if (out.size() - used < 16) out.resize(out.size() * 2);
    char* out_ptr = out.data() + used;
    size_t out_left = out.size() - used;
    const size_t rc = flushing ? iconv(cd, nullptr, nullptr, &out_ptr, &out_left)
                               : iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    const int err = errno;
    used = static_cast<size_t>(out_ptr - out.data());
    if (rc != static_cast<size_t>(-1)) {
      if (flushing) break;
      flushing = true;  // All input consumed: write out the shift state (ISO-2022-JP).
      continue;
    }
    if (err == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    if (flushing || in_left == 0) break;
    // EILSEQ or EINVAL (a sequence cut short at the end): skip one byte.
    if (out.size() - used < kReplacement.size()) out.resize(out.size() * 2);
    std::memcpy(out.data() + used, kReplacement.data(), kReplacement.size());
    used += kReplacement.size();
    ++in_ptr;
    --in_left;
  }
  iconv_close(cd);
  out.resize(used);
  return out;
}

// Text of a part in `charset` as UTF-8. Unlabelled, ASCII- or UTF-8-labelled text that is not
// valid UTF-8, and text in a charset iconv does not know, is read as windows-1252 (a Latin-1
// superset), as the store's MIME parser does.
std::string ToUtf8(std::string_view bytes, std::string_view charset) {
  const std::string name = AsciiLowerString(TrimWsp(charset));
  const bool ascii_compatible =
      name.empty() || name == "us-ascii" || name == "ascii" || name == "utf-8" || name == "utf8";
  if (!ascii_compatible && IsPlausibleCharsetName(name)) {
    if (std::optional<std::string> out = Iconv(bytes, name)) return *std::move(out);
  }
  if (IsValidUtf8(bytes)) return std::string(bytes);
  std::optional<std::string> out = Iconv(bytes, "WINDOWS-1252");
  return out ? *std::move(out) : std::string(bytes);
}

// Transfer decoding for search: a damaged or cut-short base64 body yields what its alphabet
// characters decode to; an unknown encoding is searched as it is.
std::string DecodeForSearch(std::string_view content, std::string_view encoding) {
  common::StatusOr<std::string> decoded = DecodeTransferEncoding(content, encoding);
  if (decoded.ok()) return std::move(decoded).value();
  if (!EqualsIgnoreAsciiCase(TrimWsp(encoding), "BASE64")) return std::string(content);
  std::string clean;
  clean.reserve(content.size());
  for (char c : content) {
    if (c == '=') break;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
        c == '/') {
      clean.push_back(c);
    }
  }
  if (clean.size() % 4 == 1) clean.pop_back();
  decoded = DecodeTransferEncoding(clean, "BASE64");
  return decoded.ok() ? std::move(decoded).value() : std::string();
}

std::string_view CharsetOf(const BodyPart& part) {
  for (const mail::v1::MimeParam& p : part.params()) {
    if (EqualsIgnoreAsciiCase(p.name(), "charset")) return p.decoded();
  }
  return {};
}

// The UTF-8 text of a text/* leaf part, at most `budget` bytes.
std::string PartText(std::string_view raw, const BodyPart& part, size_t budget) {
  if (part.body_offset() >= raw.size()) return {};
  std::string_view content = raw.substr(static_cast<size_t>(part.body_offset()));
  content = content.substr(0, static_cast<size_t>(std::min<uint64_t>(part.body_size(), SIZE_MAX)));
  // Encoded bytes that can decode to `budget` bytes: base64 grows data by 4/3 plus line breaks,
  // quoted-printable by at most 3.
  const std::string_view encoding = TrimWsp(part.encoding());
  size_t input_cap = budget;
  if (EqualsIgnoreAsciiCase(encoding, "BASE64")) {
    input_cap = SaturatingMul(budget, 2);
  } else if (EqualsIgnoreAsciiCase(encoding, "QUOTED-PRINTABLE")) {
    input_cap = SaturatingMul(budget, 3);
  }
  content = content.substr(0, input_cap);
  std::string bytes = DecodeForSearch(content, encoding);
  if (bytes.size() > budget) bytes.resize(budget);
  std::string text = ToUtf8(bytes, CharsetOf(part));
  // A cut may split a UTF-8 sequence; its bytes are kept as they are and match nothing.
  if (text.size() > budget) text.resize(budget);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Dates.

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t DayOf(int64_t unix_seconds) { return FloorDiv(unix_seconds, kSecondsPerDay); }

int64_t DayOf(const Date& date) { return DaysFromCivil(date.year, date.month, date.day); }

// The zone of an RFC 5322 date-time, in seconds east of UTC: "+0200", "-0430", the obsolete
// names of RFC 5322 4.3 ("EST", "GMT"); 0 for military or unknown zones (RFC 5322 treats them
// as -0000) and when there is none. Comments ("+0200 (CEST)") are skipped.
int64_t ZoneOffsetSeconds(std::string_view date) {
  std::string text;
  int depth = 0;
  for (char c : date.substr(0, kMaxDateBytes)) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      text.push_back(c);
    }
  }
  std::string_view rest = TrimWsp(text);
  const size_t space = rest.find_last_of(" \t");
  const std::string_view zone = space == std::string_view::npos ? rest : rest.substr(space + 1);
  if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-') &&
      std::all_of(zone.begin() + 1, zone.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const int hours = (zone[1] - '0') * 10 + (zone[2] - '0');
    const int minutes = (zone[3] - '0') * 10 + (zone[4] - '0');
    if (minutes > 59) return 0;
    const int64_t offset = (hours * 60 + minutes) * 60;
    return zone[0] == '-' ? -offset : offset;
  }
  static constexpr std::pair<std::string_view, int> kNamedZones[] = {
      {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
      {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7},
  };
  for (const auto& [name, hours] : kNamedZones) {
    if (EqualsIgnoreAsciiCase(zone, name)) return int64_t{hours} * 3600;
  }
  return 0;
}

// The day the message was sent, as written in its Date header; the internal date's day (UTC)
// without a valid Date header.
int64_t SentDay(const MessageRecord& rec) {
  const MessageStructure& s = rec.structure();
  if (s.sent_date_unix() == 0) return DayOf(rec.internal_date_unix());
  const int64_t offset = s.envelope().has_date() ? ZoneOffsetSeconds(s.envelope().date()) : 0;
  return DayOf(SaturatingAdd(s.sent_date_unix(), offset));
}

// ---------------------------------------------------------------------------------------------
// Evaluation of one message.

bool IsHeaderKey(SearchKeyType type) {
  switch (type) {
    case SearchKeyType::kBcc:
    case SearchKeyType::kCc:
    case SearchKeyType::kFrom:
    case SearchKeyType::kSubject:
    case SearchKeyType::kTo:
    case SearchKeyType::kHeader:
      return true;
    default:
      return false;
  }
}

class Evaluator {
 public:
  Evaluator(const SearchMessage& m, const SearchLimits& limits,
            const std::function<std::string_view()>& raw)
      : m_(m), rec_(*m.rec), limits_(limits), raw_fn_(raw) {}

  bool Eval(const SearchKey& key) {
    switch (key.type) {
      case SearchKeyType::kAnd:
        return EvalAll(key.children);
      case SearchKeyType::kOr:
        return EvalAny(key.children);
      case SearchKeyType::kNot:
        return !EvalAll(key.children);
      case SearchKeyType::kAll:
        return true;
      case SearchKeyType::kSequenceSet:
        return key.set.Contains(m_.seq, limits_.max_seq);
      case SearchKeyType::kUid:
        return key.set.Contains(rec_.uid(), limits_.max_uid);

      case SearchKeyType::kAnswered:
        return HasFlag("\\Answered");
      case SearchKeyType::kDeleted:
        return HasFlag("\\Deleted");
      case SearchKeyType::kDraft:
        return HasFlag("\\Draft");
      case SearchKeyType::kFlagged:
        return HasFlag("\\Flagged");
      case SearchKeyType::kSeen:
        return HasFlag("\\Seen");
      case SearchKeyType::kUnanswered:
        return !HasFlag("\\Answered");
      case SearchKeyType::kUndeleted:
        return !HasFlag("\\Deleted");
      case SearchKeyType::kUndraft:
        return !HasFlag("\\Draft");
      case SearchKeyType::kUnflagged:
        return !HasFlag("\\Flagged");
      case SearchKeyType::kUnseen:
        return !HasFlag("\\Seen");
      // No message is ever \Recent in this server: NEW (RECENT UNSEEN) and RECENT match
      // nothing, OLD (NOT RECENT) matches everything.
      case SearchKeyType::kNew:
      case SearchKeyType::kRecent:
        return false;
      case SearchKeyType::kOld:
        return true;
      case SearchKeyType::kKeyword:
        return HasFlag(key.value);
      case SearchKeyType::kUnkeyword:
        return !HasFlag(key.value);

      case SearchKeyType::kBcc:
        return HeaderContains("bcc", key.value);
      case SearchKeyType::kCc:
        return HeaderContains("cc", key.value);
      case SearchKeyType::kFrom:
        return HeaderContains("from", key.value);
      case SearchKeyType::kSubject:
        return HeaderContains("subject", key.value);
      case SearchKeyType::kTo:
        return HeaderContains("to", key.value);
      case SearchKeyType::kHeader:
        return HeaderContains(AsciiLowerString(TrimWsp(key.field)), key.value);
      case SearchKeyType::kBody:
        return BodyContains(Folded(key.value));
      case SearchKeyType::kText: {
        const std::string needle = Folded(key.value);
        return HeaderBlock().find(needle) != std::string::npos || BodyContains(needle);
      }

      case SearchKeyType::kBefore:
        return DayOf(rec_.internal_date_unix()) < DayOf(key.date);
      case SearchKeyType::kOn:
        return DayOf(rec_.internal_date_unix()) == DayOf(key.date);
      case SearchKeyType::kSince:
        return DayOf(rec_.internal_date_unix()) >= DayOf(key.date);
      case SearchKeyType::kSentBefore:
        return SentDay(rec_) < DayOf(key.date);
      case SearchKeyType::kSentOn:
        return SentDay(rec_) == DayOf(key.date);
      case SearchKeyType::kSentSince:
        return SentDay(rec_) >= DayOf(key.date);

      case SearchKeyType::kLarger:
        return rec_.size() > key.number;
      case SearchKeyType::kSmaller:
        return rec_.size() < key.number;
      case SearchKeyType::kOlder:
        return IsOlder(key.number);
      case SearchKeyType::kYounger:
        return !IsOlder(key.number);
      case SearchKeyType::kModSeq:
        // One MODSEQ per message: the entry name and type (RFC 7162 3.1.5) narrow nothing.
        return rec_.modseq() >= key.number;
    }
    return false;
  }

  // Three-valued evaluation without the raw message: std::nullopt where BODY/TEXT decide.
  std::optional<bool> EvalWithoutBody(const SearchKey& key) {
    switch (key.type) {
      case SearchKeyType::kAnd:
      case SearchKeyType::kNot: {
        std::optional<bool> all = true;
        for (const SearchKey& k : key.children) {
          const std::optional<bool> r = EvalWithoutBody(k);
          if (r.has_value() && !*r) {
            all = false;
            break;
          }
          if (!r.has_value()) all = std::nullopt;
        }
        if (key.type == SearchKeyType::kAnd || !all.has_value()) return all;
        return !*all;
      }
      case SearchKeyType::kOr: {
        std::optional<bool> any = false;
        for (const SearchKey& k : key.children) {
          const std::optional<bool> r = EvalWithoutBody(k);
          if (r.has_value() && *r) return true;
          if (!r.has_value()) any = std::nullopt;
        }
        return any;
      }
      case SearchKeyType::kBody:
        if (key.value.empty()) return true;
        return std::nullopt;
      case SearchKeyType::kText:
        if (HeaderBlock().find(Folded(key.value)) != std::string::npos) return true;
        return std::nullopt;
      default:
        return Eval(key);
    }
  }

 private:
  // AND: keys that need no message body first, so the body is read only if they all match.
  bool EvalAll(const std::vector<SearchKey>& keys) {
    for (const bool body_pass : {false, true}) {
      for (const SearchKey& k : keys) {
        if (NeedsBody(k) == body_pass && !Eval(k)) return false;
      }
    }
    return true;
  }

  // OR: likewise, the body is read only if no cheaper key matches.
  bool EvalAny(const std::vector<SearchKey>& keys) {
    for (const bool body_pass : {false, true}) {
      for (const SearchKey& k : keys) {
        if (NeedsBody(k) == body_pass && Eval(k)) return true;
      }
    }
    return false;
  }

  bool HasFlag(std::string_view flag) const {
    return std::any_of(rec_.flags().begin(), rec_.flags().end(),
                       [&](const std::string& f) { return EqualsIgnoreAsciiCase(f, flag); });
  }

  // The internal date is more than `seconds` before now (RFC 5032 OLDER).
  bool IsOlder(uint64_t seconds) const {
    int64_t age = 0;
    if (__builtin_sub_overflow(limits_.now_unix, rec_.internal_date_unix(), &age)) {
      return limits_.now_unix > rec_.internal_date_unix();
    }
    return age > 0 && static_cast<uint64_t>(age) > seconds;
  }

  // Any top-level header field `lower_name` whose decoded value contains `value`; with an
  // empty `value`, any such field.
  bool HeaderContains(std::string_view lower_name, std::string_view value) {
    const auto& headers = rec_.structure().decoded_headers();
    const std::string needle = Folded(value);
    for (int i = 0; i < headers.size(); ++i) {
      if (headers[i].name() != lower_name) continue;
      if (needle.empty() || FoldedHeaderValue(i).find(needle) != std::string::npos) return true;
    }
    return false;
  }

  const std::string& FoldedHeaderValue(int index) {
    if (folded_headers_.empty()) {
      const auto& headers = rec_.structure().decoded_headers();
      folded_headers_.resize(static_cast<size_t>(headers.size()));
      folded_header_done_.resize(static_cast<size_t>(headers.size()), false);
    }
    const auto i = static_cast<size_t>(index);
    if (!folded_header_done_[i]) {
      folded_headers_[i] = Folded(rec_.structure().decoded_headers(index).decoded());
      folded_header_done_[i] = true;
    }
    return folded_headers_[i];
  }

  // The decoded header block for TEXT: "name: value" lines, folded.
  const std::string& HeaderBlock() {
    if (!header_block_) {
      header_block_.emplace();
      for (const mail::v1::HeaderField& h : rec_.structure().decoded_headers()) {
        AppendFolded(h.name(), &*header_block_);
        header_block_->append(": ");
        AppendFolded(h.decoded(), &*header_block_);
        header_block_->push_back('\n');
      }
    }
    return *header_block_;
  }

  bool BodyContains(const std::string& folded_needle) {
    return BodyText().find(folded_needle) != std::string::npos;
  }

  // The folded UTF-8 text of every text/* part in MIME order (parts of encapsulated messages
  // included), each followed by kPartSeparator; at most max_body_text_bytes of text in all.
  const std::string& BodyText() {
    if (body_text_) return *body_text_;
    body_text_.emplace();
    const std::string_view raw = raw_fn_ ? raw_fn_() : std::string_view();
    size_t budget = limits_.max_body_text_bytes;
    std::vector<const BodyPart*> stack = {&rec_.structure().body()};
    while (!stack.empty() && budget > 0) {
      const BodyPart* part = stack.back();
      stack.pop_back();
      if (part->children_size() > 0) {
        for (int i = part->children_size(); i-- > 0;) stack.push_back(&part->children(i));
        continue;
      }
      if (part->type() != "text") continue;
      const std::string text = PartText(raw, *part, budget);
      budget -= text.size();
      AppendFolded(text, &*body_text_);
      body_text_->push_back(kPartSeparator);
    }
    return *body_text_;
  }

  const SearchMessage& m_;
  const MessageRecord& rec_;
  const SearchLimits& limits_;
  const std::function<std::string_view()>& raw_fn_;
  std::optional<std::string> body_text_;
  std::optional<std::string> header_block_;
  std::vector<std::string> folded_headers_;
  std::vector<bool> folded_header_done_;
};

}  // namespace

bool NeedsStructure(const SearchKey& key) {
  switch (key.type) {
    case SearchKeyType::kAnd:
    case SearchKeyType::kOr:
    case SearchKeyType::kNot:
      return std::any_of(key.children.begin(), key.children.end(),
                         [](const SearchKey& k) { return NeedsStructure(k); });
    case SearchKeyType::kBody:
    case SearchKeyType::kText:
    case SearchKeyType::kSentBefore:
    case SearchKeyType::kSentOn:
    case SearchKeyType::kSentSince:
      return true;
    default:
      return IsHeaderKey(key.type);
  }
}

bool NeedsBody(const SearchKey& key) {
  switch (key.type) {
    case SearchKeyType::kAnd:
    case SearchKeyType::kOr:
    case SearchKeyType::kNot:
      return std::any_of(key.children.begin(), key.children.end(),
                         [](const SearchKey& k) { return NeedsBody(k); });
    case SearchKeyType::kBody:
    case SearchKeyType::kText:
      return true;
    default:
      return false;
  }
}

bool Matches(const SearchKey& key, const SearchMessage& m, const SearchLimits& limits,
             const std::function<std::string_view()>& raw) {
  if (m.rec == nullptr) return false;
  return Evaluator(m, limits, raw).Eval(key);
}

std::optional<bool> MatchesWithoutBody(const SearchKey& key, const SearchMessage& m,
                                       const SearchLimits& limits) {
  if (m.rec == nullptr) return false;
  const std::function<std::string_view()> no_raw;
  return Evaluator(m, limits, no_raw).EvalWithoutBody(key);
}

bool IsSupportedCharset(const std::optional<std::string>& charset) {
  if (!charset) return true;
  return EqualsIgnoreAsciiCase(*charset, "UTF-8") || EqualsIgnoreAsciiCase(*charset, "US-ASCII");
}

}  // namespace cas::imap
