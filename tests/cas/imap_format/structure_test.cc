// ENVELOPE, BODY and BODYSTRUCTURE rendering. Messages are parsed with the store's parser
// (as at delivery) and the output is compared with strings written by hand from RFC 3501
// 7.4.2 / 9 and from what Dovecot's imap-envelope.c / imap-bodystructure.c write for the same
// message. Two deliberate differences from Dovecot, both allowed by the RFCs (these fields
// are case-insensitive; quoted and literal strings are interchangeable):
//   - types, subtypes, disposition types and parameter names are upper-case (the store keeps
//     types lower-case, so Dovecot's "as written" case is not available);
//   - a subject or display name with DQUOTE or "\" is a quoted string with escapes, where
//     Dovecot switches to a literal.
// Every rendered string is also read back by an independent IMAP syntax checker
// (imap_syntax_checker.h) and checked against the ENVELOPE / body grammar.

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cas/imap/format/fetch_format.h"
#include "mailboxstore/core/mime_parser.h"
#include "tests/cas/imap_format/imap_syntax_checker.h"

namespace cas::imap {
namespace {

using ::cas::imap::testing::CheckBody;
using ::cas::imap::testing::CheckEnvelope;
using ::cas::imap::testing::ImapReader;
using ::cas::imap::testing::Node;
using ::mail::v1::BodyPart;
using ::mail::v1::Envelope;
using ::mail::v1::MessageStructure;

const char* const kTestMessages[] = {
    "alternative.eml",   "bare_lf.eml",     "digest.eml",         "forwarded_rfc822.eml",
    "group_address.eml", "header_only.eml", "latin1_8bit.eml",    "missing_close.eml",
    "mixed_pdf.eml",     "utf8_8bit.eml",   "wrong_boundary.eml",
};

// Test messages are stored with LF line ends; delivered over SMTP they have CRLF.
std::string Crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

std::string ReadTestFile(const std::string& name) {
  std::ifstream in(std::string(MIME_TESTDATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

MessageStructure Parse(std::string_view raw) { return mailboxstore::ParseMessage(raw); }
MessageStructure ParseFile(const std::string& name) { return Parse(Crlf(ReadTestFile(name))); }

// The syntax checker's verdict on an ENVELOPE / body string: "" when valid.
std::string EnvelopeProblem(const std::string& s, bool utf8 = false) {
  ImapReader reader(s, utf8);
  Node node;
  if (!reader.ParseAll(&node)) return reader.error();
  return CheckEnvelope(node);
}

std::string BodyProblem(const std::string& s, bool extensible, bool utf8 = false) {
  ImapReader reader(s, utf8);
  Node node;
  if (!reader.ParseAll(&node)) return reader.error();
  return CheckBody(node, extensible);
}

// Renders all three items and checks that each one parses back.
struct Rendered {
  std::string envelope;
  std::string body;
  std::string bodystructure;
};

Rendered Render(const MessageStructure& s, bool utf8 = false) {
  Rendered r{EnvelopeString(s.envelope(), utf8), BodyStructureString(s.body(), false, utf8),
             BodyStructureString(s.body(), true, utf8)};
  EXPECT_EQ(EnvelopeProblem(r.envelope, utf8), "") << r.envelope;
  EXPECT_EQ(BodyProblem(r.body, false, utf8), "") << r.body;
  EXPECT_EQ(BodyProblem(r.bodystructure, true, utf8), "") << r.bodystructure;
  return r;
}

// ---------------------------------------------------------------------------------------
// The checker itself: it must reject what it is there to catch.

TEST(ImapReaderTest, AcceptsTheValueForms) {
  for (const char* s :
       {"NIL", "0", "4294967295", R"("")", R"("a \"b\" \\ c")", "{0}\r\n", "{3}\r\na\"\\", "()",
        "(NIL)", "((NIL)(NIL) \"X\")", "(\"a\" {2}\r\n\xC3\xA9 NIL)"}) {
    ImapReader reader(s);
    Node node;
    EXPECT_TRUE(reader.ParseAll(&node)) << s << ": " << reader.error();
  }
}

TEST(ImapReaderTest, RejectsMalformedValues) {
  for (const char* s : {
           "",              // Nothing.
           "(NIL",          // Unbalanced.
           "(NIL))",        // Unbalanced.
           "( NIL)",        // Space after (.
           "(NIL )",        // Space before ).
           "(NIL  NIL)",    // Two spaces.
           "(NILNIL)",      // Atom after NIL.
           "(\"a\"\"b\")",  // Strings without a space.
           "(NIL(NIL))",    // A list after a non-list without a space.
           "\"a",           // Unterminated.
           "\"a\rb\"",      // CR in a quoted string.
           "\"a\\b\"",      // Backslash before a non-special.
           "\"\xC3\xA9\"",  // 8-bit in a quoted string (RFC 3501).
           "{3}\r\nab",     // Literal longer than the data.
           "({1}\r\nab)",   // Literal count too small.
           "{2}\nab",       // Literal without CRLF.
           "12a",           // Junk after a number.
           "NIL NIL",       // Two values.
       }) {
    ImapReader reader(s);
    Node node;
    EXPECT_FALSE(reader.ParseAll(&node)) << "accepted: " << s;
  }
  ImapReader utf8_reader("\"\xC3\"", /*utf8=*/true);
  Node node;
  EXPECT_FALSE(utf8_reader.ParseAll(&node)) << "accepted invalid UTF-8";
}

TEST(ImapReaderTest, ShapeChecks) {
  const std::string good_env =
      R"((NIL NIL ((NIL NIL "a" "b")(NIL NIL "c" "d")) NIL NIL NIL NIL NIL NIL NIL))";
  EXPECT_EQ(EnvelopeProblem(good_env), "");
  // RFC 3501's own ENVELOPE example puts a space between addresses; the grammar does not.
  EXPECT_NE(EnvelopeProblem(R"((NIL NIL ((NIL NIL "a" "b") (NIL NIL "c" "d")) NIL NIL NIL NIL )"
                            R"(NIL NIL NIL))"),
            "");
  EXPECT_NE(EnvelopeProblem(R"((NIL NIL NIL NIL NIL NIL NIL NIL NIL))"), "");  // 9 fields.
  EXPECT_NE(EnvelopeProblem(R"((NIL NIL ((NIL NIL "g" NIL)) NIL NIL NIL NIL NIL NIL NIL))"),
            "");  // Unterminated group.
  EXPECT_NE(EnvelopeProblem(R"((NIL NIL (("a" NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL))"), "");
  EXPECT_EQ(BodyProblem(R"(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0))", false), "");
  EXPECT_NE(BodyProblem(R"(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0))", false), "");   // No lines.
  EXPECT_NE(BodyProblem(R"(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0))", true), "");  // No ext.
  EXPECT_NE(BodyProblem(R"(("TEXT" "PLAIN" ("A") NIL NIL "7BIT" 0 0))", false), "");
  EXPECT_NE(
      BodyProblem(R"((("X" "Y" NIL NIL NIL "7BIT" 0) ("X" "Y" NIL NIL NIL "7BIT" 0) "M"))", false),
      "");  // Space between the parts of a multipart.
}

// ---------------------------------------------------------------------------------------
// RFC 3501 7.4.2 examples.

TEST(EnvelopeTest, Rfc3501Example) {
  const MessageStructure s = Parse(
      "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
      "From: Terry Gray <gray@cac.washington.edu>\r\n"
      "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
      "To: imap@cac.washington.edu\r\n"
      "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
      "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
      "\r\n"
      "Minutes.\r\n");
  const Rendered r = Render(s);
  // As in the RFC, but without the space between the two cc addresses, which the RFC's
  // formal syntax (env-cc = "(" 1*address ")") does not have and Dovecot does not write.
  EXPECT_EQ(r.envelope,
            R"x(("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" )x"
            R"((("Terry Gray" NIL "gray" "cac.washington.edu")) )"
            R"((("Terry Gray" NIL "gray" "cac.washington.edu")) )"
            R"((("Terry Gray" NIL "gray" "cac.washington.edu")) )"
            R"(((NIL NIL "imap" "cac.washington.edu")) )"
            R"(((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) )"
            R"(NIL NIL "<B27397-0100000@cac.washington.edu>"))");
  EXPECT_EQ(r.body, R"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 10 1))");
}

// The multipart of RFC 3501's BODYSTRUCTURE example, rebuilt byte for byte: a 1152-octet,
// 23-line text part and a 4554-octet, 73-line base64 text part with an id and description.
std::string Rfc3501MultipartMessage() {
  std::string part1;
  for (int i = 0; i < 22; ++i) part1 += std::string(48, static_cast<char>('a' + i % 26)) + "\r\n";
  part1 += std::string(52, 'z');  // The CRLF before the delimiter is not part of the body.
  std::string part2;
  for (int i = 0; i < 66; ++i) part2 += std::string(60, 'A') + "\r\n";
  for (int i = 0; i < 7; ++i) part2 += std::string(64, 'A') + "\r\n";
  return "From: Terry Gray <gray@cac.washington.edu>\r\n"
         "Subject: diff\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: MULTIPART/MIXED; BOUNDARY=\"x\"\r\n"
         "\r\n"
         "--x\r\n"
         "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
         "\r\n" +
         part1 +
         "\r\n--x\r\n"
         "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n"
         "Content-ID: <960723163407.20117h@cac.washington.edu>\r\n"
         "Content-Description: Compiler diff\r\n"
         "Content-Transfer-Encoding: BASE64\r\n"
         "\r\n" +
         part2 + "\r\n--x--\r\n";
}

TEST(BodyStructureTest, Rfc3501Example) {
  const std::string raw = Rfc3501MultipartMessage();
  const MessageStructure s = Parse(raw);
  const Rendered r = Render(s);
  // Exactly the RFC's text.
  EXPECT_EQ(r.body,
            R"((("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23))"
            R"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") )"
            R"("<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) )"
            R"("MIXED"))");
  EXPECT_EQ(r.bodystructure,
            R"((("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL NIL))"
            R"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") )"
            R"("<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73 )"
            R"(NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "x") NIL NIL NIL))");
  // BINARY[2] of the same part: runs of "AAAA" are zero bits, 3 octets per 4 characters.
  const BodyPart& p2 = s.body().children(1);
  const common::StatusOr<std::string> decoded = DecodeTransferEncoding(
      std::string_view(raw).substr(p2.body_offset(), p2.body_size()), p2.encoding());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::string(66 * 45 + 7 * 48, '\0'));
}

// ---------------------------------------------------------------------------------------
// Realistic messages (tests/mailboxstore/testdata/mime, delivered with CRLF).

TEST(BodyStructureTest, MultipartAlternative) {
  const Rendered r = Render(ParseFile("alternative.eml"));
  // The folded subject is unfolded by the store ("report\r\n is" -> "report is").
  EXPECT_EQ(r.envelope,
            R"(("Mon, 02 Jan 2023 10:00:00 +0100" "Quarterly report is ready" )"
            R"((("Alice Example" NIL "alice" "example.com")) )"
            R"((("Alice Example" NIL "alice" "example.com")) )"
            R"((("Alice Example" NIL "alice" "example.com")) )"
            R"((("Bob" NIL "bob" "example.net")(NIL NIL "carol" "example.org")) )"
            R"((("Doe, John" NIL "john.doe" "example.com")) NIL "<prev-1@example.net>" )"
            R"("<20230102090000.A1@example.com>"))");
  EXPECT_EQ(r.bodystructure,
            R"((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 67 5 )"
            R"(NIL NIL NIL NIL))"
            R"(("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 101 1 NIL NIL NIL NIL) )"
            R"("ALTERNATIVE" ("BOUNDARY" "----=_Part_0_123456.789") NIL NIL NIL))");
  EXPECT_EQ(r.body, R"((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 67 5))"
                    R"(("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 101 1) "ALTERNATIVE"))");
}

TEST(BodyStructureTest, MixedWithTextAndAttachments) {
  const Rendered r = Render(ParseFile("mixed_pdf.eml"));
  // Encoded words stay encoded in ENVELOPE (RFC 3501 7.4.2: the client decodes them).
  EXPECT_EQ(r.envelope,
            R"(("Tue, 14 Mar 2023 08:30:00 +0900" "=?UTF-8?B?6KuL5rGC5pu444Gu44GK6YCB44KK?=" )"
            R"((("=?UTF-8?B?5bGx55Sw5aSq6YOO?=" NIL "taro.yamada" "example.jp")) )"
            R"((("=?UTF-8?B?5bGx55Sw5aSq6YOO?=" NIL "taro.yamada" "example.jp")) )"
            R"((("=?UTF-8?B?5bGx55Sw5aSq6YOO?=" NIL "taro.yamada" "example.jp")) )"
            R"((("=?ISO-8859-1?Q?Hans_M=FCller?=" NIL "hans" "example.de")) NIL NIL NIL )"
            R"("<invoice-42@example.jp>"))");
  // RFC 2231 parameters arrive joined and, lacking a plain fallback, RFC 2047-encoded (the
  // store's choice; Dovecot would send "name*" "UTF-8''%E8..."); with a fallback
  // (filename="Gruesse aus Muenchen.pdf") the fallback is sent.
  EXPECT_EQ(r.bodystructure,
            R"((("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "BASE64" 150 2 NIL NIL NIL NIL))"
            R"(("APPLICATION" "PDF" ("NAME" "=?UTF-8?B?6KuL5rGC5pu4XzIwMjMucGRm?=") NIL )"
            R"("Invoice 42" "BASE64" 298 NIL )"
            R"(("ATTACHMENT" ("FILENAME" "=?UTF-8?B?6KuL5rGC5pu4XzIwMjMucGRm?=")) NIL NIL))"
            R"(("APPLICATION" "PDF" ("NAME" "report.pdf") NIL NIL "BASE64" 298 NIL )"
            R"(("ATTACHMENT" ("FILENAME" "Gruesse aus Muenchen.pdf")) NIL NIL) )"
            R"("MIXED" ("BOUNDARY" "mixed-boundary-42") NIL NIL NIL))");
  EXPECT_EQ(r.body, R"((("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "BASE64" 150 2))"
                    R"(("APPLICATION" "PDF" ("NAME" "=?UTF-8?B?6KuL5rGC5pu4XzIwMjMucGRm?=") NIL )"
                    R"("Invoice 42" "BASE64" 298))"
                    R"(("APPLICATION" "PDF" ("NAME" "report.pdf") NIL NIL "BASE64" 298) "MIXED"))");
}

TEST(BodyStructureTest, NestedMessageRfc822) {
  const Rendered r = Render(ParseFile("forwarded_rfc822.eml"));
  EXPECT_EQ(r.envelope,
            R"(("Mon, 02 Jan 2023 11:00:00 +0100" "Fwd: Original subject" )"
            R"((("Alice" NIL "alice" "example.com")) (("Alice" NIL "alice" "example.com")) )"
            R"((("Alice" NIL "alice" "example.com")) (("Bob" NIL "bob" "example.net")) )"
            R"(NIL NIL NIL "<fwd-1@example.com>"))");
  const std::string inner_envelope =
      R"(("Sun, 01 Jan 2023 18:00:00 -0500" "Original subject" )"
      R"((("Carol" NIL "carol" "example.org")) (("Carol" NIL "carol" "example.org")) )"
      R"((("Carol" NIL "carol" "example.org")) (("Alice" NIL "alice" "example.com")) )"
      R"(NIL NIL NIL "<orig-1@example.org>"))";
  EXPECT_EQ(r.bodystructure,
            R"((("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 32 1 NIL NIL NIL NIL))"
            R"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 415 )" +
                inner_envelope +
                R"( (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 14 1 NIL NIL NIL NIL))"
                R"(("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 21 1 NIL NIL NIL NIL) )"
                R"("ALTERNATIVE" ("BOUNDARY" "inner-alt") NIL NIL NIL) 17 )"
                R"(NIL ("ATTACHMENT" ("FILENAME" "Original subject.eml")) NIL NIL) )"
                R"("MIXED" ("BOUNDARY" "outer-mixed") NIL NIL NIL))");
  // BODY: no extension data at any depth, the encapsulated body included.
  EXPECT_EQ(r.body,
            R"((("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 32 1))"
            R"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 415 )" +
                inner_envelope +
                R"( (("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 14 1))"
                R"(("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 21 1) "ALTERNATIVE") )"
                R"(17) "MIXED"))");
}

TEST(BodyStructureTest, DigestPartsAreMessages) {
  const Rendered r = Render(ParseFile("digest.eml"));
  EXPECT_EQ(r.bodystructure,
            R"((("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 57 )"
            R"((NIL "First post" ((NIL NIL "one" "example.com")) )"
            R"(((NIL NIL "one" "example.com")) ((NIL NIL "one" "example.com")) )"
            R"(NIL NIL NIL NIL NIL) )"
            R"(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 11 1 NIL NIL NIL NIL) 4 )"
            R"(NIL NIL NIL NIL))"
            R"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 59 )"
            R"((NIL "Second post" ((NIL NIL "two" "example.com")) )"
            R"(((NIL NIL "two" "example.com")) ((NIL NIL "two" "example.com")) )"
            R"(NIL NIL NIL NIL NIL) )"
            R"(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 12 1 NIL NIL NIL NIL) 4 )"
            R"(NIL NIL NIL NIL) "DIGEST" ("BOUNDARY" "digest-b") NIL NIL NIL))");
}

TEST(EnvelopeTest, GroupsRoutesAndDefaults) {
  const Rendered r = Render(ParseFile("group_address.eml"));
  // Empty Reply-To takes the From value (RFC 3501 7.4.2); "undisclosed-recipients:;" is an
  // empty group; a trailing comment stands in for a missing display name; an obsolete route
  // goes to the adl field.
  EXPECT_EQ(r.envelope,
            R"(("Sat, 04 Mar 2023 07:00:00 +0000" "Weekly news" )"
            R"((("Newsletter" NIL "news" "example.com")) )"
            R"(((NIL NIL "bounce-handler" "example.com")) )"
            R"((("Newsletter" NIL "news" "example.com")) )"
            R"(((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) )"
            R"(((NIL NIL "Team" NIL)(NIL NIL "anna" "example.com"))"
            R"(("Doe, John" NIL "john" "example.com")(NIL NIL NIL NIL))"
            R"(("Out Sider" NIL "outsider" "example.org")) )"
            R"x((("Mallory (ops)" "@relay1.example,@relay2.example" "mallory" "example.net")) )x"
            R"(NIL "<news-2023-09@example.com>"))");
  EXPECT_EQ(r.bodystructure,
            R"(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 30 1 NIL NIL NIL NIL))");
}

TEST(EnvelopeTest, EightBitSubjectAndNameBecomeLiterals) {
  const MessageStructure s = ParseFile("utf8_8bit.eml");
  const std::string subject = "Привет из Москвы";  // 30 octets of UTF-8.
  const std::string name = "Иван Петров";          // 21 octets.
  ASSERT_EQ(subject.size(), 30u);
  ASSERT_EQ(name.size(), 21u);
  const std::string ivan = "(({21}\r\n" + name + R"( NIL "ivan" "example.ru")) )";
  EXPECT_EQ(Render(s).envelope,
            R"x(("Wed, 1 Mar 2023 12:00:00 +0300 (MSK)" {30})x"
            "\r\n" +
                subject + " " + ivan + ivan + ivan +
                R"((("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.de")) NIL NIL NIL )"
                R"("<utf8-1@example.ru>"))");
  EXPECT_EQ(Render(s).bodystructure,
            R"(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "8BIT" 66 2 NIL NIL NIL NIL))");
  // IMAP4rev2 / UTF8=ACCEPT: valid UTF-8 may be quoted.
  const std::string ivan_quoted = "((\"" + name + R"(" NIL "ivan" "example.ru")) )";
  EXPECT_EQ(Render(s, /*utf8=*/true).envelope,
            R"x(("Wed, 1 Mar 2023 12:00:00 +0300 (MSK)" ")x" + subject + "\" " + ivan_quoted +
                ivan_quoted + ivan_quoted +
                R"((("=?UTF-8?Q?J=C3=B6rg?=" NIL "joerg" "example.de")) NIL NIL NIL )"
                R"("<utf8-1@example.ru>"))");
}

TEST(EnvelopeTest, Latin1SubjectIsSentAsStoredUtf8Literal) {
  // The store keeps header values as UTF-8 (unlabelled 8-bit is read as windows-1252).
  const MessageStructure s = Parse(
      "From: a@example.com\r\n"
      "Subject: Gr\xFC\xDF"
      "e\r\n"
      "\r\n"
      "x\r\n");
  EXPECT_EQ(Render(s).envelope,
            "(NIL {7}\r\nGr\xC3\xBC\xC3\x9F"
            R"(e ((NIL NIL "a" "example.com")) ((NIL NIL "a" "example.com")) )"
            R"(((NIL NIL "a" "example.com")) NIL NIL NIL NIL NIL))");
}

TEST(EnvelopeTest, QuoteAndBackslashAreEscaped) {
  const MessageStructure s = Parse(
      "From: \"Smith, \\\"Bob\\\"\" <bob@example.com>\r\n"
      "Subject: Re: \"quoted\" and back\\slash\r\n"
      "Message-ID: <a\\b@example.com>\r\n"
      "\r\n"
      "x\r\n");
  const std::string bob = R"((("Smith, \"Bob\"" NIL "bob" "example.com")))";
  EXPECT_EQ(Render(s).envelope, R"((NIL "Re: \"quoted\" and back\\slash" )" + bob + " " + bob +
                                    " " + bob + R"( NIL NIL NIL NIL "<a\\b@example.com>"))");
}

TEST(EnvelopeTest, AbsentFieldsAreNil) {
  EXPECT_EQ(Render(Parse("\r\nbody only\r\n")).envelope,
            "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
  EXPECT_EQ(Render(Parse("Subject: nothing else\r\n\r\nbody\r\n")).envelope,
            R"((NIL "nothing else" NIL NIL NIL NIL NIL NIL NIL NIL))");
  // Present but empty: an empty string, not NIL.
  EXPECT_EQ(Render(Parse("Subject:\r\nIn-Reply-To: \r\n\r\nbody\r\n")).envelope,
            R"((NIL "" NIL NIL NIL NIL NIL NIL "" NIL))");
  const Rendered header_only = Render(ParseFile("header_only.eml"));
  EXPECT_EQ(header_only.envelope,
            R"(("Wed, 08 Mar 2023 10:00:00 +0000" "header only, no blank line, no body" )"
            R"(((NIL NIL "nobody" "example.com")) ((NIL NIL "nobody" "example.com")) )"
            R"(((NIL NIL "nobody" "example.com")) ((NIL NIL "somebody" "example.com")) )"
            R"(NIL NIL NIL NIL))");
  EXPECT_EQ(header_only.bodystructure,
            R"(("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL))");
}

TEST(EnvelopeTest, SubjectAndNameWhiteSpaceIsTidiedAsDovecotDoes) {
  const MessageStructure s = Parse(
      "From: \"Alice \t  Example \" <alice@example.com>\r\n"
      "Subject: \tfolded\r\n"
      "\twith   tabs \r\n"
      "\r\n"
      "x\r\n");
  const std::string alice = R"((("Alice Example" NIL "alice" "example.com")))";
  EXPECT_EQ(Render(s).envelope, R"((NIL "folded with tabs" )" + alice + " " + alice + " " + alice +
                                    " NIL NIL NIL NIL NIL)");
}

TEST(BodyStructureTest, ExtensionDataOfEveryKind) {
  const MessageStructure s = Parse(
      "From: Alice <alice@example.com>\r\n"
      "Subject: Photo\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
      "Content-Language: en\r\n"
      "\r\n"
      "--outer\r\n"
      "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
      "\r\n"
      "--inner\r\n"
      "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
      "Content-Transfer-Encoding: 7bit\r\n"
      "Content-Language: en, de\r\n"
      "\r\n"
      "Here is the photo.\r\n"
      "--inner\r\n"
      "Content-Type: text/html; charset=utf-8\r\n"
      "Content-Disposition: inline\r\n"
      "\r\n"
      "<p>Here is the photo.</p>\r\n"
      "--inner--\r\n"
      "--outer\r\n"
      "Content-Type: image/png; name=\"dot.png\"\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "Content-ID: <dot@example.com>\r\n"
      "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
      "Content-Location: http://example.com/dot.png\r\n"
      "Content-Disposition: attachment; filename=\"dot.png\"; size=69\r\n"
      "\r\n"
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4//8/AAX+Av6n\r\n"
      "1qTmAAAAAElFTkSuQmCC\r\n"
      "--outer--\r\n");
  const Rendered r = Render(s);
  EXPECT_EQ(r.bodystructure,
            R"(((("TEXT" "PLAIN" ("CHARSET" "utf-8" "FORMAT" "flowed") NIL NIL "7BIT" 18 1 )"
            R"(NIL NIL ("en" "de") NIL))"
            R"(("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 25 1 NIL ("INLINE" NIL) )"
            R"(NIL NIL) "ALTERNATIVE" ("BOUNDARY" "inner") NIL NIL NIL))"
            R"(("IMAGE" "PNG" ("NAME" "dot.png") "<dot@example.com>" NIL "BASE64" 94 )"
            R"("Q2hlY2sgSW50ZWdyaXR5IQ==" ("ATTACHMENT" ("FILENAME" "dot.png" "SIZE" "69")) )"
            R"(NIL "http://example.com/dot.png") "MIXED" ("BOUNDARY" "outer") NIL ("en") NIL))");
  EXPECT_EQ(r.body,
            R"(((("TEXT" "PLAIN" ("CHARSET" "utf-8" "FORMAT" "flowed") NIL NIL "7BIT" 18 1))"
            R"(("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "7BIT" 25 1) "ALTERNATIVE"))"
            R"(("IMAGE" "PNG" ("NAME" "dot.png") "<dot@example.com>" NIL "BASE64" 94) )"
            R"("MIXED"))");
  // BINARY of the image: the 69-octet PNG.
  const BodyPart& image = s.body().children(1);
  std::string raw_body =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4//8/AAX+Av6n\r\n"
      "1qTmAAAAAElFTkSuQmCC";
  ASSERT_EQ(image.body_size(), raw_body.size());
  const common::StatusOr<std::string> png = DecodeTransferEncoding(raw_body, image.encoding());
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->size(), 69u);
  EXPECT_EQ(png->substr(0, 8), "\x89PNG\r\n\x1A\n");
}

// ---------------------------------------------------------------------------------------
// Structures the store does not produce, rendered defensively (the grammar must hold).

TEST(BodyStructureTest, MultipartWithoutPartsGetsAnEmptyTextPart) {
  BodyPart p;
  p.set_type("multipart");
  p.set_subtype("mixed");
  auto* boundary = p.add_params();
  boundary->set_name("boundary");
  boundary->set_value("b");
  EXPECT_EQ(BodyStructureString(p, false),
            R"((("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0) "MIXED"))");
  const std::string ext = BodyStructureString(p, true);
  EXPECT_EQ(ext, R"((("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0 NIL NIL NIL NIL) )"
                 R"("MIXED" ("BOUNDARY" "b") NIL NIL NIL))");
  EXPECT_EQ(BodyProblem(ext, true), "");
}

TEST(BodyStructureTest, MessageRfc822WithoutChild) {
  BodyPart p;
  p.set_type("message");
  p.set_subtype("rfc822");
  p.set_encoding("7BIT");
  p.set_body_size(10);
  p.set_body_lines(2);
  const std::string s = BodyStructureString(p, false);
  EXPECT_EQ(s, R"(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 10 )"
               R"((NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) )"
               R"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0) 2))");
  EXPECT_EQ(BodyProblem(s, false), "");
  EXPECT_EQ(BodyProblem(BodyStructureString(p, true), true), "");
}

TEST(BodyStructureTest, UnsafeStringsAndDefaults) {
  using namespace std::string_literals;
  BodyPart p;  // No type, no encoding: text/plain, 7BIT.
  p.set_id("a\r\nb");
  p.set_description("x\0y"s);
  p.set_body_size(3);
  p.set_body_lines(1);
  EXPECT_EQ(BodyStructureString(p, false),
            "(\"TEXT\" \"PLAIN\" NIL {4}\r\na\r\nb \"xy\" \"7BIT\" 3 1)");
  EXPECT_EQ(BodyProblem(BodyStructureString(p, true), true), "");

  Envelope e;
  e.set_subject("\xC3");  // Invalid UTF-8: a literal even when UTF-8 may be quoted.
  auto* group = e.add_to();
  group->set_group_start(true);  // Without a name.
  e.add_to()->set_group_end(true);
  const std::string env = EnvelopeString(e, /*utf8=*/true);
  EXPECT_EQ(env,
            "(NIL {1}\r\n\xC3 NIL NIL NIL ((NIL NIL \"\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)");
  EXPECT_EQ(EnvelopeProblem(env, true), "");
}

// ---------------------------------------------------------------------------------------
// Every test message, with both line ends, every truncation and random damage: whatever
// the store makes of it renders as valid IMAP.

void ExpectRendersValid(std::string_view raw, const std::string& label) {
  const MessageStructure s = Parse(raw);
  for (bool utf8 : {false, true}) {
    const std::string env = EnvelopeString(s.envelope(), utf8);
    const std::string body = BodyStructureString(s.body(), false, utf8);
    const std::string ext = BodyStructureString(s.body(), true, utf8);
    ASSERT_EQ(EnvelopeProblem(env, utf8), "") << label << "\n" << env;
    ASSERT_EQ(BodyProblem(body, false, utf8), "") << label << "\n" << body;
    ASSERT_EQ(BodyProblem(ext, true, utf8), "") << label << "\n" << ext;
  }
}

TEST(RobustnessTest, EveryTestMessageAndEveryTruncation) {
  for (const char* name : kTestMessages) {
    for (const std::string& raw : {Crlf(ReadTestFile(name)), ReadTestFile(name)}) {
      for (size_t n = 0; n <= raw.size(); ++n) {
        ExpectRendersValid(std::string_view(raw).substr(0, n),
                           std::string(name) + " prefix " + std::to_string(n));
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

TEST(RobustnessTest, RandomDamage) {
  std::mt19937 rng(20260326);
  using namespace std::string_literals;
  const std::string specials = "\"\\()<>@,;:\r\n\t =?\x80\xC3\xFF\0"s;
  for (const char* name : kTestMessages) {
    const std::string original = Crlf(ReadTestFile(name));
    for (int round = 0; round < 200; ++round) {
      std::string raw = original;
      const int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits && !raw.empty(); ++e) {
        const size_t at = rng() % raw.size();
        raw[at] = specials[rng() % specials.size()];
      }
      ExpectRendersValid(raw, std::string(name) + " round " + std::to_string(round));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace cas::imap
