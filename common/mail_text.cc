#include "common/mail_text.h"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace common {
namespace {

using ::mail::v1::BodyPart;

// Longest charset name handed to iconv; real names are far shorter.
constexpr size_t kMaxCharsetNameBytes = 64;
// Separates the folded text of two body parts, so that no match spans a part boundary.
constexpr char kPartSeparator = '\0';

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char LowerChar(char c) { return AsciiLower(c); }
bool IsWsp(char c) { return c == ' ' || c == '\t'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

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

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

size_t SaturatingMul(size_t a, size_t b) {
  size_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? SIZE_MAX : out;
}

// ---------------------------------------------------------------------------------------
// Transfer encodings.

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsBase64Space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

StatusOr<std::string> DecodeBase64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int n = 0;          // Sextets in the current quantum.
  int padding = 0;    // '=' seen in the current quantum.
  bool done = false;  // The final (padded) quantum is complete; the rest is ignored.
  for (char c : in) {
    if (IsBase64Space(c)) continue;
    if (done) {
      if (c != '=' && Base64Value(c) < 0) {
        return InvalidArgumentError("invalid base64 character");
      }
      continue;
    }
    if (c == '=') {
      if (n < 2) return InvalidArgumentError("misplaced base64 padding");
      ++padding;
      if (n + padding == 4) done = true;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0) return InvalidArgumentError("invalid base64 character");
    if (padding > 0) return InvalidArgumentError("base64 data inside padding");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++n == 4) {
      out.push_back(static_cast<char>((acc >> 16) & 0xFF));
      out.push_back(static_cast<char>((acc >> 8) & 0xFF));
      out.push_back(static_cast<char>(acc & 0xFF));
      acc = 0;
      n = 0;
    }
  }
  // A final quantum of 2 or 3 sextets, padded or not (missing padding is common).
  if (n == 1) return InvalidArgumentError("truncated base64 quantum");
  if (n == 2) {
    out.push_back(static_cast<char>((acc >> 4) & 0xFF));
  } else if (n == 3) {
    out.push_back(static_cast<char>((acc >> 10) & 0xFF));
    out.push_back(static_cast<char>((acc >> 2) & 0xFF));
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const char l = LowerChar(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

// True if a line ends at `i` (CRLF, LF or the end of the data).
bool AtLineEnd(std::string_view s, size_t i) {
  return i == s.size() || s[i] == '\n' || (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n');
}

std::string DecodeQuotedPrintable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const char c = in[i];
    if (c == '=') {
      if (i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
        out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
        i += 3;
        continue;
      }
      // Soft line break: "=", transport padding, then the line end (or the end of data).
      size_t j = i + 1;
      while (j < in.size() && IsWsp(in[j])) ++j;
      if (AtLineEnd(in, j)) {
        i = j == in.size() ? j : j + (in[j] == '\r' ? 2 : 1);
        continue;
      }
      out.push_back('=');  // Malformed: passed through.
      ++i;
      continue;
    }
    if (IsWsp(c)) {
      // Trailing white space on a line was added in transport (RFC 2045 6.7 (3)).
      size_t j = i;
      while (j < in.size() && IsWsp(in[j])) ++j;
      if (!AtLineEnd(in, j)) out.append(in.substr(i, j - i));
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
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

// ---------------------------------------------------------------------------------------------
// Charsets.

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
  StatusOr<std::string> decoded = DecodeTransferEncoding(content, encoding);
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

}  // namespace

StatusOr<std::string> DecodeTransferEncoding(std::string_view content, std::string_view encoding) {
  const std::string_view enc = TrimWsp(encoding);
  if (enc.empty() || EqualsIgnoreAsciiCase(enc, "7BIT") || EqualsIgnoreAsciiCase(enc, "8BIT") ||
      EqualsIgnoreAsciiCase(enc, "BINARY")) {
    return std::string(content);
  }
  if (EqualsIgnoreAsciiCase(enc, "BASE64")) return DecodeBase64(content);
  if (EqualsIgnoreAsciiCase(enc, "QUOTED-PRINTABLE")) return DecodeQuotedPrintable(content);
  return Status(StatusCode::kUnimplemented,
                "unknown Content-Transfer-Encoding " + std::string(enc));
}

void AppendFoldCase(std::string_view s, std::string* out) {
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

std::string FoldCase(std::string_view s) {
  std::string out;
  AppendFoldCase(s, &out);
  return out;
}

std::string FoldedBodyText(std::string_view raw, const BodyPart& root, size_t max_text_bytes) {
  std::string out;
  size_t budget = max_text_bytes;
  std::vector<const BodyPart*> stack = {&root};
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
    AppendFoldCase(text, &out);
    out.push_back(kPartSeparator);
  }
  return out;
}

std::string FoldedHeaderBlock(const mail::v1::MessageStructure& structure) {
  std::string out;
  for (const mail::v1::HeaderField& h : structure.decoded_headers()) {
    AppendFoldCase(h.name(), &out);
    out.append(": ");
    AppendFoldCase(h.decoded(), &out);
    out.push_back('\n');
  }
  return out;
}

bool HeaderFieldContains(const google::protobuf::RepeatedPtrField<mail::v1::HeaderField>& headers,
                         std::string_view name, std::string_view folded_needle) {
  std::string folded;
  for (const mail::v1::HeaderField& h : headers) {
    if (h.name().size() != name.size() ||
        !std::equal(name.begin(), name.end(), h.name().begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      continue;
    }
    if (folded_needle.empty()) return true;
    folded.clear();
    AppendFoldCase(h.decoded(), &folded);
    if (folded.find(folded_needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace common
