#include "common/base64.h"

#include <array>
#include <cstdint>

namespace common {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = int8_t(i);
  return table;
}

constexpr std::array<int8_t, 256> kDecodeTable = MakeDecodeTable();

int8_t DecodeChar(char c) { return kDecodeTable[static_cast<unsigned char>(c)]; }

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t n = uint32_t(static_cast<unsigned char>(data[i])) << 16 |
                       uint32_t(static_cast<unsigned char>(data[i + 1])) << 8 |
                       uint32_t(static_cast<unsigned char>(data[i + 2]));
    out.push_back(kAlphabet[(n >> 18) & 0x3f]);
    out.push_back(kAlphabet[(n >> 12) & 0x3f]);
    out.push_back(kAlphabet[(n >> 6) & 0x3f]);
    out.push_back(kAlphabet[n & 0x3f]);
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t n = uint32_t(static_cast<unsigned char>(data[i])) << 16;
    out.push_back(kAlphabet[(n >> 18) & 0x3f]);
    out.push_back(kAlphabet[(n >> 12) & 0x3f]);
    out.append("==");
  } else if (rest == 2) {
    const uint32_t n = uint32_t(static_cast<unsigned char>(data[i])) << 16 |
                       uint32_t(static_cast<unsigned char>(data[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 0x3f]);
    out.push_back(kAlphabet[(n >> 12) & 0x3f]);
    out.push_back(kAlphabet[(n >> 6) & 0x3f]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view encoded) {
  if (encoded.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(encoded.size() / 4 * 3);
  for (size_t i = 0; i < encoded.size(); i += 4) {
    const bool last = i + 4 == encoded.size();
    const int8_t a = DecodeChar(encoded[i]);
    const int8_t b = DecodeChar(encoded[i + 1]);
    if (a == kInvalid || b == kInvalid) return std::nullopt;
    const char c3 = encoded[i + 2];
    const char c4 = encoded[i + 3];
    if (last && c3 == '=' && c4 == '=') {
      // One byte; the low 4 bits of `b` are padding and must be zero.
      if ((b & 0x0f) != 0) return std::nullopt;
      out.push_back(static_cast<char>((a << 2) | (b >> 4)));
      break;
    }
    const int8_t c = DecodeChar(c3);
    if (c == kInvalid) return std::nullopt;
    if (last && c4 == '=') {
      // Two bytes; the low 2 bits of `c` are padding and must be zero.
      if ((c & 0x03) != 0) return std::nullopt;
      out.push_back(static_cast<char>((a << 2) | (b >> 4)));
      out.push_back(static_cast<char>(((b & 0x0f) << 4) | (c >> 2)));
      break;
    }
    const int8_t d = DecodeChar(c4);
    if (d == kInvalid) return std::nullopt;
    out.push_back(static_cast<char>((a << 2) | (b >> 4)));
    out.push_back(static_cast<char>(((b & 0x0f) << 4) | (c >> 2)));
    out.push_back(static_cast<char>(((c & 0x03) << 6) | d));
  }
  return out;
}

}  // namespace common
