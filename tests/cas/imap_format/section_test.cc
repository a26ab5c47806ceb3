// BODY[HEADER.FIELDS (..)] / BODY[HEADER.FIELDS.NOT (..)] extraction and <origin.count>
// partial fetches (RFC 3501 6.4.5, RFC 9051 6.4.5).

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cas/imap/format/fetch_format.h"
#include "mailboxstore/core/mime_parser.h"

namespace cas::imap {
namespace {

std::string Fields(std::string_view header, const std::vector<std::string>& names) {
  return HeaderFields(header, names, /*exclude=*/false);
}

std::string FieldsNot(std::string_view header, const std::vector<std::string>& names) {
  return HeaderFields(header, names, /*exclude=*/true);
}

constexpr std::string_view kHeader =
    "Received: from a by b;\r\n"
    "\tMon, 02 Jan 2023 10:00:05 +0100\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: Bob <bob@example.net>,\r\n"
    "    Carol <carol@example.org>\r\n"
    "Subject: Quarterly report\r\n"
    " is ready\r\n"
    "received: from c by d; Mon, 02 Jan 2023 10:00:01 +0100\r\n"
    "X-Subject: not the subject\r\n"
    "Subject-Extra: not the subject either\r\n"
    "\r\n";

TEST(HeaderFieldsTest, SelectsCaseInsensitivelyInMessageOrder) {
  // The message's order, not the request's; the field names as the message spells them.
  EXPECT_EQ(Fields(kHeader, {"SUBJECT", "from"}),
            "From: Alice <alice@example.com>\r\n"
            "Subject: Quarterly report\r\n"
            " is ready\r\n"
            "\r\n");
}

TEST(HeaderFieldsTest, KeepsFoldedLinesAndRepeatedFields) {
  EXPECT_EQ(Fields(kHeader, {"Received", "TO"}),
            "Received: from a by b;\r\n"
            "\tMon, 02 Jan 2023 10:00:05 +0100\r\n"
            "To: Bob <bob@example.net>,\r\n"
            "    Carol <carol@example.org>\r\n"
            "received: from c by d; Mon, 02 Jan 2023 10:00:01 +0100\r\n"
            "\r\n");
}

TEST(HeaderFieldsTest, NotDropsTheFieldWithItsContinuationLines) {
  EXPECT_EQ(FieldsNot(kHeader, {"received", "subject", "to"}),
            "From: Alice <alice@example.com>\r\n"
            "X-Subject: not the subject\r\n"
            "Subject-Extra: not the subject either\r\n"
            "\r\n");
  // Nothing excluded: the whole header.
  EXPECT_EQ(FieldsNot(kHeader, {}), kHeader);
}

TEST(HeaderFieldsTest, NoMatchIsTheBlankLineAlone) {
  EXPECT_EQ(Fields(kHeader, {"Cc"}), "\r\n");
  EXPECT_EQ(Fields(kHeader, {}), "\r\n");
  EXPECT_EQ(FieldsNot(kHeader, {"received", "from", "to", "subject", "x-subject", "subject-extra"}),
            "\r\n");
  EXPECT_EQ(Fields("", {"From"}), "\r\n");
  EXPECT_EQ(FieldsNot("", {}), "\r\n");
  EXPECT_EQ(FieldsNot("\r\n", {}), "\r\n");
}

TEST(HeaderFieldsTest, StopsAtTheBlankLine) {
  // A block that runs into the body (e.g. a whole message) is cut at the blank line.
  EXPECT_EQ(FieldsNot("A: 1\r\n\r\nB: 2\r\n", {}), "A: 1\r\n\r\n");
  EXPECT_EQ(Fields("A: 1\r\n\r\nB: 2\r\n", {"B"}), "\r\n");
}

TEST(HeaderFieldsTest, TruncatedHeaderStillEndsWithTheBlankLine) {
  EXPECT_EQ(Fields("From: a@example.com\r\nSubject: cut", {"subject"}), "Subject: cut\r\n\r\n");
  EXPECT_EQ(Fields("From: a@example.com\r\nSubject: cut\r", {"subject"}), "Subject: cut\r\n\r\n");
  EXPECT_EQ(Fields("From: a@example.com\r\n", {"from"}), "From: a@example.com\r\n\r\n");
}

TEST(HeaderFieldsTest, BareLfBecomesCrlf) {
  EXPECT_EQ(Fields("From: a\nSubject: s\n t\n\nbody\n", {"subject"}), "Subject: s\r\n t\r\n\r\n");
  EXPECT_EQ(FieldsNot("From: a\nSubject: s\n t\n\nbody\n", {"subject"}), "From: a\r\n\r\n");
}

TEST(HeaderFieldsTest, NameEndsAtTheColon) {
  // Obsolete syntax allows white space before the colon (RFC 5322 4.5.3).
  EXPECT_EQ(Fields("Subject : spaced\r\nSubject\t: tabbed\r\n\r\n", {"subject"}),
            "Subject : spaced\r\nSubject\t: tabbed\r\n\r\n");
  // A name is compared whole: no prefixes, no suffixes.
  EXPECT_EQ(Fields("Subjec: a\r\nSubjects: b\r\n\r\n", {"subject"}), "\r\n");
  EXPECT_EQ(Fields("X: 1\r\n\r\n", {"X:"}), "\r\n");
}

TEST(HeaderFieldsTest, LinesThatAreNoFieldAreKeptOnlyByNot) {
  const std::string header =
      " orphan continuation\r\n"
      "no colon here\r\n"
      "A: 1\r\n"
      "\r\n";
  EXPECT_EQ(Fields(header, {"A", "no colon here", ""}), "A: 1\r\n\r\n");
  EXPECT_EQ(FieldsNot(header, {"A"}), " orphan continuation\r\nno colon here\r\n\r\n");
}

TEST(HeaderFieldsTest, FromAStoredMessageAndMimePart) {
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
  const std::string_view header =
      std::string_view(raw).substr(s.body().header_offset(), s.body().header_size());
  // BODY[HEADER.FIELDS (DATE FROM SUBJECT CONTENT-TYPE)]
  EXPECT_EQ(Fields(header, {"DATE", "FROM", "SUBJECT", "CONTENT-TYPE"}),
            "Date: Mon, 02 Jan 2023 10:00:00 +0100\r\n"
            "From: Alice Example <alice@example.com>\r\n"
            "Subject: Quarterly report\r\n"
            " is ready\r\n"
            "Content-Type: multipart/alternative;\r\n"
            " boundary=\"----=_Part_0_123456.789\"\r\n"
            "\r\n");
  // BODY[HEADER.FIELDS.NOT (RECEIVED RETURN-PATH CONTENT-TYPE MIME-VERSION IN-REPLY-TO)]
  EXPECT_EQ(
      FieldsNot(header, {"received", "return-path", "content-type", "mime-version", "in-reply-to"}),
      "Date: Mon, 02 Jan 2023 10:00:00 +0100\r\n"
      "From: Alice Example <alice@example.com>\r\n"
      "To: Bob <bob@example.net>, carol@example.org\r\n"
      "Cc: \"Doe, John\" <john.doe@example.com>\r\n"
      "Subject: Quarterly report\r\n"
      " is ready\r\n"
      "Message-ID: <20230102090000.A1@example.com>\r\n"
      "\r\n");
  // BODY[1.MIME] narrowed to the transfer encoding.
  const mail::v1::BodyPart& part1 = s.body().children(0);
  const std::string_view mime =
      std::string_view(raw).substr(part1.header_offset(), part1.header_size());
  EXPECT_EQ(Fields(mime, {"content-transfer-encoding"}),
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
}

// ---------------------------------------------------------------------------------------
// <origin.count>

TEST(PartialTest, Slices) {
  constexpr std::string_view kData = "0123456789";
  EXPECT_EQ(Partial(kData, 0, 4), "0123");
  EXPECT_EQ(Partial(kData, 3, 4), "3456");
  EXPECT_EQ(Partial(kData, 5, std::nullopt), "56789");
  EXPECT_EQ(Partial(kData, 0, std::nullopt), kData);
  EXPECT_EQ(Partial(kData, 0, 10), kData);
  // Cut short at the end.
  EXPECT_EQ(Partial(kData, 8, 4), "89");
  EXPECT_EQ(Partial(kData, 9, 1), "9");
  EXPECT_EQ(Partial(kData, 2, std::numeric_limits<uint64_t>::max()), "23456789");
  // A zero count.
  EXPECT_EQ(Partial(kData, 3, 0), "");
}

TEST(PartialTest, OriginAtOrBeyondTheEndIsEmpty) {
  constexpr std::string_view kData = "0123456789";
  EXPECT_EQ(Partial(kData, 10, 4), "");
  EXPECT_EQ(Partial(kData, 11, std::nullopt), "");
  EXPECT_EQ(Partial(kData, std::numeric_limits<uint32_t>::max(), 1), "");
  EXPECT_EQ(Partial(kData, std::numeric_limits<uint64_t>::max(), std::nullopt), "");
  EXPECT_EQ(Partial("", 0, 5), "");
  EXPECT_EQ(Partial("", 0, std::nullopt), "");
}

TEST(PartialTest, PointsIntoTheData) {
  const std::string data = "header\r\n\r\nbody";
  const std::string_view slice = Partial(data, 8, 2);
  EXPECT_EQ(slice.data(), data.data() + 8);
}

TEST(PartialTest, ResponseItemNameCarriesTheOriginOnly) {
  EXPECT_EQ(PartialItemName("BODY[]", 0), "BODY[]<0>");
  EXPECT_EQ(PartialItemName("BODY[1.2.TEXT]", 1024), "BODY[1.2.TEXT]<1024>");
  EXPECT_EQ(PartialItemName("BINARY[1]", 4294967295u), "BINARY[1]<4294967295>");
  EXPECT_EQ(PartialItemName("BODY[HEADER]", std::nullopt), "BODY[HEADER]");
}

}  // namespace
}  // namespace cas::imap
