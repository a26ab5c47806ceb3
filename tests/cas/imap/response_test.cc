#include "cas/imap/codec/response.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace cas::imap {
namespace {

std::string Astring(std::string_view s, bool utf8 = false) {
  std::string out;
  AppendAstring(&out, s, utf8);
  return out;
}

TEST(ResponseTest, AstringPicksAtomQuotedOrLiteral) {
  EXPECT_EQ(Astring("INBOX"), "INBOX");
  EXPECT_EQ(Astring("a]b"), "a]b");
  EXPECT_EQ(Astring(""), "\"\"");
  EXPECT_EQ(Astring("a b"), "\"a b\"");
  EXPECT_EQ(Astring("50%"), "\"50%\"");
  EXPECT_EQ(Astring("a*"), "\"a*\"");
  EXPECT_EQ(Astring("(x)"), "\"(x)\"");
  EXPECT_EQ(Astring("{5}"), "\"{5}\"");
  EXPECT_EQ(Astring("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
  // NIL as an atom would read as NIL.
  EXPECT_EQ(Astring("NIL"), "\"NIL\"");
  EXPECT_EQ(Astring("nil"), "\"nil\"");
  EXPECT_EQ(Astring("NILS"), "NILS");
  // What cannot be quoted becomes a literal.
  EXPECT_EQ(Astring("a\r\nb"), "{4}\r\na\r\nb");
  EXPECT_EQ(Astring(std::string("a\0b", 3)), std::string("{3}\r\na\0b", 8));
  EXPECT_EQ(Astring("caf\xc3\xa9"), "{5}\r\ncaf\xc3\xa9");
  EXPECT_EQ(Astring("caf\xc3\xa9", /*utf8=*/true), "\"caf\xc3\xa9\"");
  EXPECT_EQ(Astring("caf\xff", /*utf8=*/true), "{4}\r\ncaf\xff");
  // Long strings are literals.
  EXPECT_EQ(Astring(std::string(kMaxQuotedLength, 'a')), std::string(kMaxQuotedLength, 'a'));
  EXPECT_EQ(Astring(std::string(kMaxQuotedLength + 1, 'a')),
            "{1025}\r\n" + std::string(kMaxQuotedLength + 1, 'a'));
  EXPECT_EQ(Astring(std::string(kMaxQuotedLength, ' ')),
            "\"" + std::string(kMaxQuotedLength, ' ') + "\"");
  EXPECT_EQ(Astring(std::string(kMaxQuotedLength + 1, ' ')),
            "{1025}\r\n" + std::string(kMaxQuotedLength + 1, ' '));
}

TEST(ResponseTest, StringsAndNStrings) {
  std::string out;
  AppendString(&out, "INBOX");
  EXPECT_EQ(out, "\"INBOX\"");
  out.clear();
  AppendNString(&out, std::nullopt);
  EXPECT_EQ(out, "NIL");
  out.clear();
  AppendNString(&out, std::string("NIL"));
  EXPECT_EQ(out, "\"NIL\"");
  out.clear();
  AppendNString(&out, std::string(""));
  EXPECT_EQ(out, "\"\"");
  out.clear();
  AppendQuoted(&out, "a\"b");
  EXPECT_EQ(out, "\"a\\\"b\"");
  out.clear();
  AppendLiteral(&out, "");
  EXPECT_EQ(out, "{0}\r\n");
  EXPECT_TRUE(CanQuote("plain text"));
  EXPECT_FALSE(CanQuote("a\rb"));
  EXPECT_FALSE(CanQuote("a\nb"));
  EXPECT_FALSE(CanQuote("\xc3\xa9"));
  EXPECT_TRUE(CanQuote("\xc3\xa9", true));
  EXPECT_FALSE(IsAstringAtom(""));
  EXPECT_FALSE(IsAstringAtom("a\x80"));
  EXPECT_TRUE(IsAstringAtom("$Forwarded"));
}

TEST(ResponseTest, FlagList) {
  std::string out;
  AppendFlagList(&out, {});
  EXPECT_EQ(out, "()");
  out.clear();
  AppendFlagList(&out, {"\\Seen", "\\Answered", "$Label1"});
  EXPECT_EQ(out, "(\\Seen \\Answered $Label1)");
}

TEST(ResponseTest, MailboxNames) {
  struct Case {
    const char* name;
    bool utf8;
    const char* wire;
  } cases[] = {
      {"INBOX", false, "INBOX"},
      {"Deleted Items", false, "\"Deleted Items\""},
      {"Entw\xc3\xbcrfe", false, "Entw&APw-rfe"},
      {"Entw\xc3\xbcrfe", true, "\"Entw\xc3\xbcrfe\""},
      {"R&D", false, "R&-D"},
      {"R&D", true, "R&D"},
      {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", false,
       "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
      {"Work/50%", false, "\"Work/50%\""},
      {"", false, "\"\""},
      {"NIL", false, "\"NIL\""},
  };
  for (const Case& c : cases) {
    std::string out;
    ASSERT_TRUE(AppendMailbox(&out, c.name, c.utf8).ok()) << c.name;
    EXPECT_EQ(out, c.wire) << c.name;
  }
  std::string out;
  EXPECT_FALSE(AppendMailbox(&out, "bad\xff", false).ok());
  EXPECT_FALSE(AppendMailbox(&out, "bad\xff", true).ok());
}

TEST(ResponseTest, FormatDateTime) {
  EXPECT_EQ(FormatDateTime(0), "\" 1-Jan-1970 00:00:00 +0000\"");
  EXPECT_EQ(FormatDateTime(1795687200), "\"26-Nov-2026 10:00:00 +0000\"");
  EXPECT_EQ(FormatDateTime(1795687200, 60), "\"26-Nov-2026 11:00:00 +0100\"");
  EXPECT_EQ(FormatDateTime(1795687200, -7 * 60), "\"26-Nov-2026 03:00:00 -0700\"");
  EXPECT_EQ(FormatDateTime(1795687200, 5 * 60 + 30), "\"26-Nov-2026 15:30:00 +0530\"");
  EXPECT_EQ(FormatDateTime(-1), "\"31-Dec-1969 23:59:59 +0000\"");
  EXPECT_EQ(FormatDateTime(951782400), "\"29-Feb-2000 00:00:00 +0000\"");
  EXPECT_EQ(FormatDateTime(INT64_MAX), "\"31-Dec-9999 23:59:59 +0000\"");
  EXPECT_EQ(FormatDateTime(INT64_MIN), "\" 1-Jan-0000 00:00:00 +0000\"");
  EXPECT_EQ(FormatDateTime(0, 100000), "\" 5-Jan-1970 03:59:00 +9959\"");
}

TEST(ResponseTest, ParseDateTime) {
  struct Case {
    const char* text;
    int64_t unix_seconds;
    int zone;
  } good[] = {
      {"26-Nov-2026 10:00:00 +0000", 1795687200, 0},
      {"26-nov-2026 11:00:00 +0100", 1795687200, 60},
      {"26-NOV-2026 03:00:00 -0700", 1795687200, -420},
      {" 1-Jan-1970 00:00:00 +0000", 0, 0},
      {"01-Jan-1970 00:00:00 +0000", 0, 0},
      {"1-Jan-1970 00:00:00 +0000", 0, 0},
      {"17-Jul-1996 02:44:25 -0700", 837596665, -420},
      {"31-Dec-1969 23:59:60 +0000", 0, 0},
  };
  for (const Case& c : good) {
    common::StatusOr<DateTime> parsed = ParseDateTime(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed->unix_seconds, c.unix_seconds) << c.text;
    EXPECT_EQ(parsed->zone_offset_minutes, c.zone) << c.text;
  }
  const char* bad[] = {
      "",
      "26-Nov-2026",
      "26-Nov-2026 10:00:00",
      "26-Nov-2026 10:00:00 0000",
      "26-Nov-2026 10:00:00 +000",
      "26-Nov-2026 10:00:00 +00000",
      "26-Nov-2026 10:00 +0000",
      "26-Nov-26 10:00:00 +0000",
      "26-Foo-2026 10:00:00 +0000",
      "32-Jan-2026 10:00:00 +0000",
      "29-Feb-2026 10:00:00 +0000",
      "0-Jan-2026 10:00:00 +0000",
      "26-Nov-2026 24:00:00 +0000",
      "26-Nov-2026 10:60:00 +0000",
      "26-Nov-2026 10:00:61 +0000",
      "26-Nov-2026 10:00:00 +0060",
      "\"26-Nov-2026 10:00:00 +0000\"",
      "26-Nov-2026  10:00:00 +0000",
      "  6-Nov-2026 10:00:00 +0000",
      "123-Nov-2026 10:00:00 +0000",
      "26-Nov-2026 10:00:00 +0000 ",
  };
  for (const char* text : bad) EXPECT_FALSE(ParseDateTime(text).ok()) << text;
}

TEST(ResponseTest, DateTimeRoundTrips) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> when(-5000000000, 250000000000);
  std::uniform_int_distribution<int> zone(-(99 * 60 + 59), 99 * 60 + 59);
  for (int i = 0; i < 20000; ++i) {
    const int64_t t = when(rng);
    const int z = zone(rng);
    std::string text = FormatDateTime(t, z);
    ASSERT_EQ(text.front(), '"');
    ASSERT_EQ(text.back(), '"');
    common::StatusOr<DateTime> parsed = ParseDateTime(text.substr(1, text.size() - 2));
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(parsed->unix_seconds, t) << text;
    EXPECT_EQ(parsed->zone_offset_minutes, z) << text;
  }
}

TEST(ResponseTest, ResponseLines) {
  EXPECT_EQ(Tagged("A1", "OK", "[READ-WRITE]", "SELECT completed"),
            "A1 OK [READ-WRITE] SELECT completed\r\n");
  EXPECT_EQ(Tagged("A1", "OK", "READ-WRITE", "SELECT completed"),
            "A1 OK [READ-WRITE] SELECT completed\r\n");
  EXPECT_EQ(Tagged("A2", "NO", "", "No such mailbox"), "A2 NO No such mailbox\r\n");
  EXPECT_EQ(Tagged("A3", "BAD", "", ""), "A3 BAD\r\n");
  EXPECT_EQ(UntaggedStatus("OK", "UIDVALIDITY 3857529045", "UIDs valid"),
            "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
  EXPECT_EQ(UntaggedStatus("BYE", "", "Logging out"), "* BYE Logging out\r\n");
  EXPECT_EQ(Untagged("3 EXISTS"), "* 3 EXISTS\r\n");
  EXPECT_EQ(Continuation("Ready for literal data"), "+ Ready for literal data\r\n");
  EXPECT_EQ(Continuation(""), "+ \r\n");
  // Client-controlled text cannot inject a line.
  EXPECT_EQ(Tagged("A1", "NO", "", "bad\r\nA2 OK evil"), "A1 NO bad  A2 OK evil\r\n");
  EXPECT_EQ(Tagged("A1\r\n", "NO", "X]\n", "t"), "A1   NO [X] ] t\r\n");
}

TEST(ResponseTest, NumberSets) {
  EXPECT_EQ(FormatNumbers({}), "");
  EXPECT_EQ(FormatNumbers({7}), "7");
  EXPECT_EQ(FormatNumbers({1, 2, 3, 7, 9, 10}), "1:3,7,9:10");
  EXPECT_EQ(FormatNumbers({4294967294u, 4294967295u}), "4294967294:4294967295");
  EXPECT_EQ(ToRanges({1, 2, 4}), (std::vector<SeqRange>{{1, 2}, {4, 4}}));
  EXPECT_EQ(ToRanges({}), std::vector<SeqRange>{});
  EXPECT_EQ(FormatRanges({{1, 1}, {5, 9}, {12, 4294967295u}}), "1,5:9,12:4294967295");
  // A set parsed from a client and resolved is written back in canonical form.
  EXPECT_EQ(FormatRanges(ParseSequenceSet("9:5,1,2:3")->Resolve(100)), "1:3,5:9");
}

TEST(ResponseTest, Vanished) {
  // RFC 7162 3.2.10.
  EXPECT_EQ(Vanished({{405, 405}, {407, 407}, {410, 425}}, /*earlier=*/false),
            "* VANISHED 405,407,410:425\r\n");
  EXPECT_EQ(Vanished({{41, 41}, {43, 116}, {118, 118}}, /*earlier=*/true),
            "* VANISHED (EARLIER) 41,43:116,118\r\n");
  EXPECT_EQ(Vanished({}, true), "");
  EXPECT_EQ(Vanished({}, false), "");
}

}  // namespace
}  // namespace cas::imap
