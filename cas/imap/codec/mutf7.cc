#include "cas/imap/codec/mutf7.h"

#include <cstdint>
#include <vector>

namespace cas::imap {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

bool IsPrintableAscii(uint32_t c) { return c >= 0x20 && c <= 0x7e; }

// Reads one code point starting at s[*pos]; advances *pos. False on malformed UTF-8.
bool NextCodePoint(std::string_view s, size_t* pos, uint32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[*pos]);
  if (b0 < 0x80) {
    *cp = b0;
    *pos += 1;
    return true;
  }
  size_t len;
  uint32_t min;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
    min = 0x80;
    *cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    min = 0x800;
    *cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    min = 0x10000;
    *cp = b0 & 0x07;
  } else {
    return false;
  }
  if (s.size() - *pos < len) return false;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[*pos + i]);
    if ((b & 0xc0) != 0x80) return false;
    *cp = (*cp << 6) | (b & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) return false;
  *pos += len;
  return true;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Writes "&" + modified base64 of the UTF-16BE units + "-".
void FlushShift(std::string* out, std::vector<uint16_t>* units) {
  if (units->empty()) return;
  out->push_back('&');
  uint32_t bits = 0;
  int nbits = 0;
  for (uint16_t u : *units) {
    bits = (bits << 16) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out->push_back(kAlphabet[(bits >> nbits) & 0x3f]);
    }
    bits &= (1u << nbits) - 1;
  }
  if (nbits > 0) out->push_back(kAlphabet[(bits << (6 - nbits)) & 0x3f]);
  out->push_back('-');
  units->clear();
}

common::Status Invalid() { return common::InvalidArgumentError("invalid modified UTF-7"); }

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t pos = 0;
  uint32_t cp;
  while (pos < s.size()) {
    if (!NextCodePoint(s, &pos, &cp)) return false;
  }
  return true;
}

common::StatusOr<std::string> Utf8ToMutf7(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::vector<uint16_t> units;
  size_t pos = 0;
  while (pos < utf8.size()) {
    uint32_t cp;
    if (!NextCodePoint(utf8, &pos, &cp) || cp == 0) {
      return common::InvalidArgumentError("mailbox name is not valid UTF-8");
    }
    if (IsPrintableAscii(cp)) {
      FlushShift(&out, &units);
      out.push_back(static_cast<char>(cp));
      if (cp == '&') out.push_back('-');
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(static_cast<uint16_t>(0xd800 | (cp >> 10)));
      units.push_back(static_cast<uint16_t>(0xdc00 | (cp & 0x3ff)));
    } else {
      units.push_back(static_cast<uint16_t>(cp));
    }
  }
  FlushShift(&out, &units);
  return out;
}

common::StatusOr<std::string> Mutf7ToUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  size_t last_shift_end = std::string_view::npos;  // Index just after the last "&...-".
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (!IsPrintableAscii(c)) return Invalid();
    if (c != '&') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '-') {
      out.push_back('&');
      i += 2;
      continue;
    }
    // Two adjacent encoded runs must have been one.
    if (last_shift_end == i) return Invalid();
    ++i;
    uint32_t bits = 0;
    int nbits = 0;
    uint32_t high = 0;  // Pending high surrogate, 0 if none.
    bool any = false;
    while (i < in.size() && in[i] != '-') {
      const int v = Base64Value(in[i]);
      if (v < 0) return Invalid();
      bits = (bits << 6) | static_cast<uint32_t>(v);
      nbits += 6;
      ++i;
      if (nbits < 16) continue;
      nbits -= 16;
      const uint32_t unit = (bits >> nbits) & 0xffff;
      bits &= (1u << nbits) - 1;
      any = true;
      if (high != 0) {
        if (unit < 0xdc00 || unit > 0xdfff) return Invalid();
        AppendUtf8(&out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
        high = 0;
      } else if (unit >= 0xd800 && unit <= 0xdbff) {
        high = unit;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        return Invalid();
      } else {
        if (unit == 0 || IsPrintableAscii(unit)) return Invalid();
        AppendUtf8(&out, unit);
      }
    }
    if (i == in.size()) return Invalid();  // No terminating "-".
    ++i;
    // Empty shift, a dangling high surrogate, a whole spare character or non-zero padding.
    if (!any || high != 0 || nbits >= 6 || bits != 0) return Invalid();
    last_shift_end = i;
  }
  return out;
}

}  // namespace cas::imap
