// Content-Transfer-Encoding decoding for BINARY[section] (RFC 3516) and the INTERNALDATE
// value.

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "cas/imap/format/fetch_format.h"
#include "common/base64.h"
#include "mailboxstore/core/mime_parser.h"

namespace cas::imap {
namespace {

using namespace std::string_literals;  // "a\0b"s keeps embedded NULs.

std::string Decoded(std::string_view content, std::string_view encoding) {
  common::StatusOr<std::string> out = DecodeTransferEncoding(content, encoding);
  EXPECT_TRUE(out.ok()) << encoding << " of \"" << content << "\": " << out.status().ToString();
  return out.ok() ? *out : "<error>";
}

common::StatusCode ErrorOf(std::string_view content, std::string_view encoding) {
  return DecodeTransferEncoding(content, encoding).status().code();
}

// ---------------------------------------------------------------------------------------
// Identity encodings.

TEST(DecodeTest, IdentityEncodings) {
  const std::string bytes = "line 1\r\n\x80\xFF\0 line 2"s;
  for (const char* enc : {"7BIT", "8BIT", "BINARY", "7bit", "Binary", ""}) {
    EXPECT_EQ(Decoded(bytes, enc), bytes) << enc;
  }
}

TEST(DecodeTest, UnknownEncodingIsUnimplemented) {
  for (const char* enc : {"X-UUENCODE", "UUENCODE", "BASE-64", "QUOTED_PRINTABLE", "X-TOKEN"}) {
    EXPECT_EQ(ErrorOf("abc", enc), common::StatusCode::kUnimplemented) << enc;
  }
}

// ---------------------------------------------------------------------------------------
// BASE64.

TEST(Base64Test, Decodes) {
  EXPECT_EQ(Decoded("SGVsbG8sIHdvcmxkIQ==", "BASE64"), "Hello, world!");
  EXPECT_EQ(Decoded("SGVsbG8sIHdvcmxkIQ==", "base64"), "Hello, world!");
  EXPECT_EQ(Decoded("SGVsbG8sIHdvcmxkIQ==", " Base64 "), "Hello, world!");
  EXPECT_EQ(Decoded("", "BASE64"), "");
  EXPECT_EQ(Decoded("\r\n", "BASE64"), "");
  EXPECT_EQ(Decoded("SGk=", "BASE64"), "Hi");
  EXPECT_EQ(Decoded("SA==", "BASE64"), "H");
  EXPECT_EQ(Decoded("AAEC/w==", "BASE64"), "\x00\x01\x02\xFF"s);
}

TEST(Base64Test, IgnoresLineBreaksAndWhiteSpace) {
  EXPECT_EQ(Decoded("SGVs\r\nbG8s\r\n IHdv\tcmxk\nIQ=\r\n=\r\n", "BASE64"), "Hello, world!");
  EXPECT_EQ(Decoded("  S G V s b G 8 =  ", "BASE64"), "Hello");
}

TEST(Base64Test, ToleratesMissingPadding) {
  EXPECT_EQ(Decoded("SGk", "BASE64"), "Hi");
  EXPECT_EQ(Decoded("SA", "BASE64"), "H");
  EXPECT_EQ(Decoded("SA=", "BASE64"), "H");
  EXPECT_EQ(Decoded("SGVsbG8\r\n", "BASE64"), "Hello");
}

TEST(Base64Test, IgnoresWhatFollowsTheFinalPadding) {
  // RFC 2045 6.8: "=" marks the end of the data.
  EXPECT_EQ(Decoded("SGk=\r\nSGk=\r\n", "BASE64"), "Hi");
  EXPECT_EQ(Decoded("SA==\r\n==", "BASE64"), "H");
}

TEST(Base64Test, RejectsInvalidInput) {
  for (const std::string& bad : {
           "SGVs*bG8="s,     // Outside the alphabet.
           "SGVsbG8-"s,      // base64url.
           "SGVsbG8_"s,      // base64url.
           "SGVs\0bG8="s,    // NUL.
           "SGVs\x80"s,      // 8-bit.
           "S"s,             // A dangling sextet.
           "SGVsb"s,         // A dangling sextet after a full quantum.
           "=SGk"s,          // Padding first.
           "S==="s,          // Padding after one sextet.
           "===="s,          // Padding alone.
           "SG=k"s,          // Data inside the padding.
           "SGk=\r\n*"s,     // Invalid character after the end.
           "SGVsbG8.\r\n"s,  // Punctuation.
       }) {
    EXPECT_EQ(ErrorOf(bad, "BASE64"), common::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Base64Test, RoundTripsEveryByteWithMimeLineBreaks) {
  std::string bytes;
  for (int i = 0; i < 4 * 256; ++i) bytes.push_back(static_cast<char>(i * 7 % 256));
  for (size_t len : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{57}, bytes.size()}) {
    const std::string data = bytes.substr(0, len);
    const std::string encoded = common::Base64Encode(data);
    std::string wrapped;  // 76 characters per line, CRLF (RFC 2045 6.8).
    for (size_t i = 0; i < encoded.size(); i += 76) wrapped += encoded.substr(i, 76) + "\r\n";
    EXPECT_EQ(Decoded(wrapped, "BASE64"), data) << len;
  }
}

// ---------------------------------------------------------------------------------------
// QUOTED-PRINTABLE.

TEST(QuotedPrintableTest, DecodesHexInEitherCase) {
  EXPECT_EQ(Decoded("Caf=C3=A9", "QUOTED-PRINTABLE"), "Caf\xC3\xA9");
  EXPECT_EQ(Decoded("Caf=c3=a9", "quoted-printable"), "Caf\xC3\xA9");
  EXPECT_EQ(Decoded("=3D=00=FF", "QUOTED-PRINTABLE"), "=\0\xFF"s);
  EXPECT_EQ(Decoded("", "QUOTED-PRINTABLE"), "");
}

TEST(QuotedPrintableTest, SoftLineBreaks) {
  EXPECT_EQ(Decoded("long=\r\nline", "QUOTED-PRINTABLE"), "longline");
  EXPECT_EQ(Decoded("long=\nline", "QUOTED-PRINTABLE"), "longline");
  // Transport padding between "=" and the line end.
  EXPECT_EQ(Decoded("long= \t \r\nline", "QUOTED-PRINTABLE"), "longline");
  // A final "=" with no line after it.
  EXPECT_EQ(Decoded("end=", "QUOTED-PRINTABLE"), "end");
  EXPECT_EQ(Decoded("end=  ", "QUOTED-PRINTABLE"), "end");
}

TEST(QuotedPrintableTest, HardLineBreaksStayAndTrailingWhiteSpaceGoes) {
  EXPECT_EQ(Decoded("a\r\nb\nc", "QUOTED-PRINTABLE"), "a\r\nb\nc");
  EXPECT_EQ(Decoded("a  \r\nb\t\r\nc \n d ", "QUOTED-PRINTABLE"), "a\r\nb\r\nc\n d");
  EXPECT_EQ(Decoded("inner  space\tkept", "QUOTED-PRINTABLE"), "inner  space\tkept");
  EXPECT_EQ(Decoded("encoded=20\r\n", "QUOTED-PRINTABLE"), "encoded \r\n");
}

TEST(QuotedPrintableTest, MalformedSequencesPassThrough) {
  EXPECT_EQ(Decoded("100% =ZZ sure", "QUOTED-PRINTABLE"), "100% =ZZ sure");
  EXPECT_EQ(Decoded("=4", "QUOTED-PRINTABLE"), "=4");
  EXPECT_EQ(Decoded("=4\r\nx", "QUOTED-PRINTABLE"), "=4\r\nx");
  EXPECT_EQ(Decoded("=G1=", "QUOTED-PRINTABLE"), "=G1");
  EXPECT_EQ(Decoded("a=\tb", "QUOTED-PRINTABLE"), "a=\tb");
  EXPECT_EQ(Decoded("a==41", "QUOTED-PRINTABLE"), "a=A");
  EXPECT_EQ(Decoded("raw \xE9\x80 bytes", "QUOTED-PRINTABLE"), "raw \xE9\x80 bytes");
}

TEST(QuotedPrintableTest, StoredMessagePart) {
  std::ifstream in(std::string(MIME_TESTDATA_DIR) + "/alternative.eml", std::ios::binary);
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string raw;
  for (char c : ss.str()) {
    if (c == '\n') raw.push_back('\r');
    raw.push_back(c);
  }
  const mail::v1::MessageStructure s = mailboxstore::ParseMessage(raw);
  const mail::v1::BodyPart& part = s.body().children(0);
  ASSERT_EQ(part.encoding(), "QUOTED-PRINTABLE");
  EXPECT_EQ(
      Decoded(std::string_view(raw).substr(part.body_offset(), part.body_size()), part.encoding()),
      "Hi Bob,\r\n\r\nthe quarterly report is ready. Caf\xC3\xA9 at 10?\r\n\r\nAlice");
}

TEST(DecodeTest, ArbitraryInputNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\r\n=\0\x80\xFF*"s;
  for (int round = 0; round < 20000; ++round) {
    std::string input(rng() % 40, '\0');
    for (char& c : input) {
      c = (round % 2 == 0) ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng());
    }
    const common::StatusOr<std::string> b64 = DecodeTransferEncoding(input, "BASE64");
    if (b64.ok()) {
      EXPECT_LE(b64->size(), input.size() * 3 / 4 + 2);
    }
    const common::StatusOr<std::string> qp = DecodeTransferEncoding(input, "QUOTED-PRINTABLE");
    ASSERT_TRUE(qp.ok());
    EXPECT_LE(qp->size(), input.size());
  }
}

// ---------------------------------------------------------------------------------------
// INTERNALDATE.

TEST(InternalDateTest, FormatsUtc) {
  EXPECT_EQ(FormatInternalDate(1795687200), "\"26-Nov-2026 10:00:00 +0000\"");
  EXPECT_EQ(FormatInternalDate(0), "\"01-Jan-1970 00:00:00 +0000\"");
  EXPECT_EQ(FormatInternalDate(1672650307), "\"02-Jan-2023 09:05:07 +0000\"");
  EXPECT_EQ(FormatInternalDate(1709210096), "\"29-Feb-2024 12:34:56 +0000\"");
  EXPECT_EQ(FormatInternalDate(951868800), "\"01-Mar-2000 00:00:00 +0000\"");
  EXPECT_EQ(FormatInternalDate(4107628799), "\"01-Mar-2100 23:59:59 +0000\"");
}

TEST(InternalDateTest, BeforeTheEpoch) {
  EXPECT_EQ(FormatInternalDate(-1), "\"31-Dec-1969 23:59:59 +0000\"");
  EXPECT_EQ(FormatInternalDate(-2208988800), "\"01-Jan-1900 00:00:00 +0000\"");
}

TEST(InternalDateTest, ClampsToFourDigitYears) {
  EXPECT_EQ(FormatInternalDate(std::numeric_limits<int64_t>::min()),
            "\"01-Jan-0001 00:00:00 +0000\"");
  EXPECT_EQ(FormatInternalDate(-62135596800), "\"01-Jan-0001 00:00:00 +0000\"");
  EXPECT_EQ(FormatInternalDate(253402300799), "\"31-Dec-9999 23:59:59 +0000\"");
  EXPECT_EQ(FormatInternalDate(std::numeric_limits<int64_t>::max()),
            "\"31-Dec-9999 23:59:59 +0000\"");
}

}  // namespace
}  // namespace cas::imap
