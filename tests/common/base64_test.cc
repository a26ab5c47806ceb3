#include "common/base64.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>

namespace common {
namespace {

struct Vector {
  const char* decoded;
  const char* encoded;
};

// RFC 4648 section 10.
constexpr Vector kRfc4648Vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64Test, Rfc4648Vectors) {
  for (const Vector& v : kRfc4648Vectors) {
    EXPECT_EQ(Base64Encode(v.decoded), v.encoded);
    const std::optional<std::string> decoded = Base64Decode(v.encoded);
    ASSERT_TRUE(decoded.has_value()) << v.encoded;
    EXPECT_EQ(*decoded, v.decoded);
  }
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  // Every length modulo 3 and every byte value, including NUL and high bytes.
  for (size_t len = 0; len <= all.size(); ++len) {
    const std::string data = all.substr(all.size() - len);
    const std::string encoded = Base64Encode(data);
    EXPECT_EQ(encoded.size() % 4, 0u);
    const std::optional<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(*decoded, data);
  }
}

TEST(Base64Test, UsesStandardAlphabet) {
  EXPECT_EQ(Base64Encode("\xfb\xff\xbf"), "+/+/");
  EXPECT_EQ(Base64Decode("+/+/"), std::string("\xfb\xff\xbf"));
}

TEST(Base64Test, RejectsMalformedInput) {
  const std::string bad[] = {
      "Z",                          // Length not a multiple of 4.
      "Zg",                         // Missing padding.
      "Zg=",                        // Short padding.
      "Zm9vY",                      // Length 5.
      "====",                       // Padding only.
      "Z===",                       // Three padding characters.
      "=Zm9",                       // Padding first.
      "Zm=v",                       // Padding in the middle of a quantum.
      "Zg==Zm9v",                   // Padding before the end.
      "Zm8=Zm8=",                   // Padding before the end.
      "Zh==",                       // Non-zero padding bits (one byte).
      "Zm9=",                       // Non-zero padding bits (two bytes).
      "Zm 9v",                      // Whitespace.
      "Zm9v\n",                     // Line break.
      "Zm9v\r\nYmFy",               // CRLF.
      " Zm9v",                      // Leading space.
      "Zm9-",                       // URL-safe alphabet.
      "Zm9_",                       // URL-safe alphabet.
      "Zm9.",                       // Not in the alphabet.
      "Zm9v====",                   // Extra padding quantum.
      std::string("Zm\0v", 4),      // NUL byte.
      std::string("Zm\xc3\xa9", 4)  // Non-ASCII bytes.
  };
  for (const std::string& input : bad) {
    EXPECT_FALSE(Base64Decode(input).has_value()) << "input: " << input;
  }
}

// Random bytes never crash the decoder, and whatever it accepts is the canonical encoding
// of its output.
TEST(Base64Test, RandomInputNeverCrashes) {
  std::mt19937 rng(0x5eed);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
  int accepted = 0;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    const size_t len = rng() % 64;
    std::string input;
    const bool mostly_alphabet = iteration % 2 == 0;
    for (size_t i = 0; i < len; ++i) {
      input.push_back(mostly_alphabet ? alphabet[rng() % alphabet.size()]
                                      : static_cast<char>(rng() & 0xff));
    }
    const std::optional<std::string> decoded = Base64Decode(input);
    if (decoded) {
      ++accepted;
      EXPECT_EQ(Base64Encode(*decoded), input);
    }
  }
  // The alphabet-only half produces some valid inputs, so both paths were exercised.
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace common
