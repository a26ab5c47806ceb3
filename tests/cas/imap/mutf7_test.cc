#include "cas/imap/codec/mutf7.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace cas::imap {
namespace {

struct Pair {
  const char* utf8;
  const char* mutf7;
};

constexpr Pair kPairs[] = {
    {"", ""},
    {"INBOX", "INBOX"},
    {"&", "&-"},
    {"R&D", "R&-D"},
    {"&&", "&-&-"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},  // RFC 3501 section 5.1.3.
    {"Entw\xc3\xbc"
     "rfe",
     "Entw&APw-rfe"},
    {"Gel\xc3\xb6schte Elemente", "Gel&APY-schte Elemente"},
    {"\xc3\x89l\xc3\xa9ments envoy\xc3\xa9s", "&AMk-l&AOk-ments envoy&AOk-s"},
    {"\xd0\x9a\xd0\xbe\xd1\x80\xd0\xb7\xd0\xb8\xd0\xbd\xd0\xb0", "&BBoEPgRABDcEOAQ9BDA-"},
    {"\xc3\xbc\xc3\xbc", "&APwA,A-"},
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},  // U+1F600, a surrogate pair.
    {"x\xf0\x9f\x98\x80y\xe6\x97\xa5", "x&2D3eAA-y&ZeU-"},
    {"a\tb", "a&AAk-b"},  // Control characters are encoded.
    {"\xe9\x80\x81\xe4\xbf\xa1\xe6\xb8\x88\xe3\x81\xbf\xe3\x82\xa2\xe3\x82\xa4\xe3\x83\x86"
     "\xe3\x83\xa0",
     "&kAFP4W4IMH8wojCkMMYw4A-"},
    {"a-b_c.d/e%f*g~h", "a-b_c.d/e%f*g~h"},
};

TEST(Mutf7Test, KnownPairs) {
  for (const Pair& p : kPairs) {
    common::StatusOr<std::string> encoded = Utf8ToMutf7(p.utf8);
    ASSERT_TRUE(encoded.ok()) << p.utf8;
    EXPECT_EQ(*encoded, p.mutf7);
    common::StatusOr<std::string> decoded = Mutf7ToUtf8(p.mutf7);
    ASSERT_TRUE(decoded.ok()) << p.mutf7;
    EXPECT_EQ(*decoded, p.utf8);
  }
}

TEST(Mutf7Test, RejectsInvalidEncodings) {
  const std::string bad[] = {
      "&",                 // Unterminated shift.
      "&Jjo",              // Unterminated shift.
      "&AOk",              // No "-".
      "&-&",               // Unterminated after a valid "&-".
      "&AA-",              // Too short for one UTF-16 unit.
      "&AGE-",             // Encodes "a", which must stand for itself.
      "&ACY-",             // Encodes "&", which must be "&-".
      "&AOkA-",            // A whole spare base64 character.
      "&AOl-",             // Non-zero padding bits.
      "&,,,-",             // Non-zero padding bits.
      "&AOk=-",            // "=" is not in the alphabet.
      "&AO/-",             // "/" is standard base64, not modified.
      "&A*k-",             // Not in the alphabet.
      "&2D0-",             // Lone high surrogate.
      "&3gA-",             // Lone low surrogate.
      "&2D0A6Q-",          // High surrogate followed by a non-surrogate.
      "&2D3eAA-&2D3eAA-",  // Two adjacent runs must be one.
      "&AOk-&AOk-",        // Two adjacent runs must be one.
      "&AAA-",             // U+0000.
      "caf\xc3\xa9",       // 8-bit bytes.
      "a\tb",              // Control character.
      "a\x7f",             // DEL.
      std::string("a\0b", 3),
  };
  for (const std::string& s : bad) {
    EXPECT_FALSE(Mutf7ToUtf8(s).ok()) << s;
  }
  // A run ending right before a literal "&-" is fine.
  EXPECT_EQ(*Mutf7ToUtf8("&AOk-&-"), "\xc3\xa9&");
}

TEST(Mutf7Test, RejectsInvalidUtf8) {
  const std::string bad[] = {
      "\xff",                  // Never valid.
      "\xc0\xaf",              // Overlong "/".
      "\xe0\x80\xaf",          // Overlong "/".
      "\xed\xa0\x80",          // UTF-16 surrogate.
      "\xf4\x90\x80\x80",      // Above U+10FFFF.
      "\xe6\x97",              // Truncated.
      "\x80",                  // Lone continuation byte.
      std::string("a\0b", 3),  // U+0000.
  };
  for (const std::string& s : bad) {
    EXPECT_FALSE(Utf8ToMutf7(s).ok()) << s;
    if (s.find('\0') == std::string::npos) {
      EXPECT_FALSE(IsValidUtf8(s)) << s;
    }
  }
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF.
  EXPECT_TRUE(IsValidUtf8(""));
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

void ExpectRoundTrip(const std::string& utf8) {
  common::StatusOr<std::string> encoded = Utf8ToMutf7(utf8);
  ASSERT_TRUE(encoded.ok()) << utf8;
  for (char c : *encoded) {
    ASSERT_TRUE(c >= 0x20 && c <= 0x7e) << *encoded;
  }
  common::StatusOr<std::string> decoded = Mutf7ToUtf8(*encoded);
  ASSERT_TRUE(decoded.ok()) << *encoded;
  EXPECT_EQ(*decoded, utf8);
}

TEST(Mutf7Test, EveryBmpCharacterRoundTrips) {
  for (uint32_t cp = 1; cp < 0x10000; ++cp) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    std::string s = "a";
    AppendUtf8(&s, cp);
    AppendUtf8(&s, cp);
    s += "b";
    ExpectRoundTrip(s);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(Mutf7Test, RandomStringsRoundTrip) {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> len(0, 12);
  std::uniform_int_distribution<int> kind(0, 3);
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    const int n = len(rng);
    for (int j = 0; j < n; ++j) {
      uint32_t cp;
      switch (kind(rng)) {
        case 0:
          cp = std::uniform_int_distribution<uint32_t>(0x20, 0x7e)(rng);
          break;
        case 1:
          cp = std::uniform_int_distribution<uint32_t>(1, 0x7ff)(rng);
          break;
        case 2:
          cp = std::uniform_int_distribution<uint32_t>(0x800, 0xfffd)(rng);
          break;
        default:
          cp = std::uniform_int_distribution<uint32_t>(0x10000, 0x10ffff)(rng);
          break;
      }
      if (cp >= 0xd800 && cp <= 0xdfff) cp = '&';
      AppendUtf8(&s, cp);
    }
    ExpectRoundTrip(s);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(Mutf7Test, DecodingRandomBytesNeverCrashesAndIsCanonical) {
  std::mt19937 rng(7);
  const std::string alphabet = "&-AZaz09+,/=~ \x80\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = std::uniform_int_distribution<int>(0, 16)(rng);
    for (int j = 0; j < n; ++j) {
      s.push_back(alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)]);
    }
    common::StatusOr<std::string> decoded = Mutf7ToUtf8(s);
    if (!decoded.ok()) continue;
    // Whatever decodes is canonical: it encodes back to the same text.
    common::StatusOr<std::string> encoded = Utf8ToMutf7(*decoded);
    ASSERT_TRUE(encoded.ok()) << s;
    EXPECT_EQ(*encoded, s);
  }
}

}  // namespace
}  // namespace cas::imap
