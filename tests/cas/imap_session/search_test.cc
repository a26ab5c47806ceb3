// SEARCH evaluation over a small mailbox of realistic messages. Records are built as at
// delivery (the store's MIME parser computes the structure) and search keys are parsed by the
// IMAP codec from the text a client would send, so each test reads like an IMAP exchange:
// "SEARCH <criteria>" -> the matching sequence numbers.

#include "cas/imap/session/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cas/imap/codec/parser.h"
#include "common/mail_text.h"
#include "mailboxstore/core/mime_parser.h"

namespace cas::imap {
namespace {

using ::mail::v1::MessageRecord;

// Test messages are written with LF line ends; delivered over SMTP they have CRLF.
std::string Crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// An IMAP synchronizing literal, for search strings with 8-bit characters.
std::string Literal(std::string_view text) {
  return "{" + std::to_string(text.size()) + "}\r\n" + std::string(text);
}

std::optional<SearchArgs> ParseSearch(std::string_view criteria) {
  CommandParser parser;
  ParseResult r = parser.Feed("A1 SEARCH " + std::string(criteria) + "\r\n");
  while (std::holds_alternative<ContinuationNeeded>(r)) r = parser.Next();
  const Command* command = std::get_if<Command>(&r);
  if (command == nullptr) return std::nullopt;
  const SearchArgs* args = std::get_if<SearchArgs>(&command->args);
  if (args == nullptr) return std::nullopt;
  return *args;
}

SearchKey ParseKey(std::string_view criteria) {
  std::optional<SearchArgs> args = ParseSearch(criteria);
  EXPECT_TRUE(args.has_value()) << "does not parse: " << criteria;
  return args ? args->key : SearchKey{};
}

// Unix time of a UTC calendar time.
int64_t Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = y / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + doe - 719468;
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

struct StoredMessage {
  std::string raw;
  MessageRecord rec;
};

StoredMessage Store(std::string_view text, uint32_t uid, std::vector<std::string> flags,
                    int64_t internal_date, uint64_t modseq) {
  StoredMessage m;
  m.raw = Crlf(text);
  m.rec.set_uid(uid);
  for (std::string& f : flags) m.rec.add_flags(std::move(f));
  m.rec.set_modseq(modseq);
  m.rec.set_internal_date_unix(internal_date);
  m.rec.set_size(m.raw.size());
  m.rec.set_arrived_unix(internal_date);
  *m.rec.mutable_structure() = mailboxstore::ParseMessage(m.raw);
  return m;
}

// Seq 1: plain US-ASCII, the RFC 3501 example; sent on 7 Feb 1994 in -0800, which is already
// 8 Feb in UTC (the internal date).
constexpr std::string_view kPlainAscii =
    "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\n"
    "From: Fred Foobar <foobar@Blurdybloop.example>\n"
    "Subject: afternoon meeting\n"
    "To: mooch@owatagu.siam.edu.example\n"
    "Cc: Team <team@example.com>\n"
    "Message-Id: <B27397-0100000@Blurdybloop.example>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
    "\n"
    "Hello Joe, do you think we can meet at 3:30 tomorrow?\n";

// Seq 2: Russian, RFC 2047 From and Subject, base64 UTF-8 body. The body says
// "Привет! Квартальный ОТЧЁТ во вложении.\r\nС уважением, Иван\r\n".
constexpr std::string_view kCyrillicBase64 =
    "Date: Tue, 1 Mar 2022 00:30:00 +0300\n"
    "From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan@example.ru>\n"
    "To: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>\n"
    "Subject: =?UTF-8?B?0J7RgtGH0ZHRgiDQt9CwINGE0LXQstGA0LDQu9GM?=\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "0J/RgNC40LLQtdGCISDQmtCy0LDRgNGC0LDQu9GM0L3Ri9C5INCe0KLQp9CB0KIg0LLQviDQstC7\n"
    "0L7QttC10L3QuNC4Lg0K0KEg0YPQstCw0LbQtdC90LjQtdC8LCDQmNCy0LDQvQ0K\n";

// Seq 3: German, no Date header, quoted-printable ISO-8859-1 text with a soft line break and
// a PDF whose bytes contain "secretword" (not text: never searched).
constexpr std::string_view kLatin1QuotedPrintable =
    "From: =?ISO-8859-1?Q?M=FCller=2C_J=F6rg?= <joerg@example.de>\n"
    "To: fred@example.com\n"
    "Bcc: hidden@example.net\n"
    "Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=\n"
    "X-Mailer: TestMailer 1.0\n"
    "X-Empty:\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\n"
    "\n"
    "--XYZ\n"
    "Content-Type: text/plain; charset=ISO-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Sch=F6ne Gr=FC=DFe aus K=F6ln, =\n"
    "wir sehen uns im Caf=E9.\n"
    "--XYZ\n"
    "Content-Type: application/pdf; name=\"doc.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0xLjQgc2VjcmV0d29yZCAlJUVPRg==\n"
    "--XYZ--\n";

// Seq 4: Greek subject, an 8-bit ISO-8859-1 text part ("Ärger über Straße") and a forwarded
// message. Written on 15 Jun in -0400, already 16 Jun in UTC.
constexpr std::string_view kLatin1EightBitForward =
    "Date: Thu, 15 Jun 2023 22:30:00 -0400 (EDT)\n"
    "From: Nikos <nikos@example.gr>\n"
    "To: all@example.com\n"
    "Subject: =?UTF-8?B?zprOsc67zrfOvM6tz4HOsSDOus+Mz4POvM61?=\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "--outer\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "\xC4rger \xFC"
    "ber Stra\xDF"
    "e\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: someone@example.org\n"
    "Subject: inner\n"
    "\n"
    "This is the nested needle.\n"
    "--outer--\n";

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    messages_.push_back(
        Store(kPlainAscii, 10, {"\\Answered", "\\Seen"}, Utc(1994, 2, 8, 5, 52, 25), 5));
    messages_.push_back(
        Store(kCyrillicBase64, 20, {"$Important", "\\Flagged"}, Utc(2022, 3, 1, 7), 12));
    messages_.push_back(Store(kLatin1QuotedPrintable, 30, {"\\Deleted", "\\Draft"},
                              Utc(2023, 6, 15, 23, 59, 59), 20));
    messages_.push_back(Store(kLatin1EightBitForward, 31, {}, Utc(2023, 6, 16), 21));
    limits_.max_seq = 4;
    limits_.max_uid = 31;
    limits_.now_unix = Utc(2023, 6, 16) + 100;
  }

  // The sequence numbers SEARCH <criteria> returns, as "1 3", and counts raw reads.
  std::string Search(std::string_view criteria) {
    const SearchKey key = ParseKey(criteria);
    std::string out;
    for (size_t i = 0; i < messages_.size(); ++i) {
      const StoredMessage& m = messages_[i];
      int reads = 0;
      const std::function<std::string_view()> raw = [&] {
        ++reads;
        return std::string_view(m.raw);
      };
      const SearchMessage message{static_cast<uint32_t>(i + 1), &m.rec};
      const bool matched = Matches(key, message, limits_, raw);
      if (matched) {
        if (!out.empty()) out.push_back(' ');
        out += std::to_string(i + 1);
      }
      EXPECT_LE(reads, NeedsBody(key) ? 1 : 0) << criteria;
      // The body-free pre-check never contradicts the full evaluation, and decides every key
      // that needs no body.
      const std::optional<bool> early = MatchesWithoutBody(key, message, limits_);
      if (early.has_value()) {
        EXPECT_EQ(*early, matched) << criteria << " seq " << i + 1;
      }
      if (!NeedsBody(key)) {
        EXPECT_TRUE(early.has_value()) << criteria;
      }
      raw_reads_ += reads;
    }
    return out;
  }

  std::vector<StoredMessage> messages_;
  SearchLimits limits_;
  int raw_reads_ = 0;
};

TEST_F(SearchTest, All) { EXPECT_EQ(Search("ALL"), "1 2 3 4"); }

TEST_F(SearchTest, SequenceSets) {
  EXPECT_EQ(Search("1"), "1");
  EXPECT_EQ(Search("2:*"), "2 3 4");
  EXPECT_EQ(Search("*"), "4");
  EXPECT_EQ(Search("*:3"), "3 4");
  EXPECT_EQ(Search("3:2"), "2 3");
  EXPECT_EQ(Search("1,3"), "1 3");
  EXPECT_EQ(Search("1:2,4"), "1 2 4");
}

TEST_F(SearchTest, UidSets) {
  EXPECT_EQ(Search("UID 10:20"), "1 2");
  EXPECT_EQ(Search("UID *"), "4");
  EXPECT_EQ(Search("UID 25:*"), "3 4");
  EXPECT_EQ(Search("UID 11"), "");
  EXPECT_EQ(Search("UID 21:29"), "");
  EXPECT_EQ(Search("UID 30,10"), "1 3");
  // RFC 3501 6.4.8: "n:*" with n beyond the largest UID still means the last message.
  EXPECT_EQ(Search("UID 100:*"), "4");
  EXPECT_EQ(Search("UID 100"), "");
}

TEST_F(SearchTest, UnresolvedSavedSetMatchesNothing) { EXPECT_EQ(Search("$"), ""); }

TEST_F(SearchTest, SystemFlags) {
  EXPECT_EQ(Search("SEEN"), "1");
  EXPECT_EQ(Search("UNSEEN"), "2 3 4");
  EXPECT_EQ(Search("ANSWERED"), "1");
  EXPECT_EQ(Search("UNANSWERED"), "2 3 4");
  EXPECT_EQ(Search("DELETED"), "3");
  EXPECT_EQ(Search("UNDELETED"), "1 2 4");
  EXPECT_EQ(Search("DRAFT"), "3");
  EXPECT_EQ(Search("UNDRAFT"), "1 2 4");
  EXPECT_EQ(Search("FLAGGED"), "2");
  EXPECT_EQ(Search("UNFLAGGED"), "1 3 4");
}

TEST_F(SearchTest, RecentIsNeverSet) {
  EXPECT_EQ(Search("RECENT"), "");
  EXPECT_EQ(Search("NEW"), "");
  EXPECT_EQ(Search("OLD"), "1 2 3 4");
}

TEST_F(SearchTest, KeywordsIgnoreCase) {
  EXPECT_EQ(Search("KEYWORD $Important"), "2");
  EXPECT_EQ(Search("KEYWORD $important"), "2");
  EXPECT_EQ(Search("UNKEYWORD $IMPORTANT"), "1 3 4");
  EXPECT_EQ(Search("KEYWORD $Junk"), "");
  EXPECT_EQ(Search("UNKEYWORD $Junk"), "1 2 3 4");
}

TEST_F(SearchTest, InternalDateByDayInUtc) {
  // Seq 3 arrived at 23:59:59 on 15 Jun, seq 4 at 00:00:00 on 16 Jun.
  EXPECT_EQ(Search("ON 15-Jun-2023"), "3");
  EXPECT_EQ(Search("ON 16-Jun-2023"), "4");
  EXPECT_EQ(Search("BEFORE 15-Jun-2023"), "1 2");
  EXPECT_EQ(Search("BEFORE 16-Jun-2023"), "1 2 3");
  EXPECT_EQ(Search("SINCE 15-Jun-2023"), "3 4");
  EXPECT_EQ(Search("SINCE 16-Jun-2023"), "4");
  EXPECT_EQ(Search("SINCE 17-Jun-2023"), "");
  EXPECT_EQ(Search("ON 8-Feb-1994"), "1");
  EXPECT_EQ(Search("ON 7-Feb-1994"), "");
  EXPECT_EQ(Search("SINCE 1-Mar-2022 BEFORE 2-Mar-2022"), "2");
}

TEST_F(SearchTest, SentDateAsWrittenInItsZone) {
  // Seq 1 was written on 7 Feb (-0800) although that is 8 Feb in UTC.
  EXPECT_EQ(Search("SENTON 7-Feb-1994"), "1");
  EXPECT_EQ(Search("SENTON 8-Feb-1994"), "");
  // Seq 2 was written on 1 Mar (+0300), 28 Feb in UTC.
  EXPECT_EQ(Search("SENTON 1-Mar-2022"), "2");
  EXPECT_EQ(Search("SENTON 28-Feb-2022"), "");
  // Seq 3 has no Date header: its internal date (15 Jun) stands in. Seq 4 was written on
  // 15 Jun (-0400), 16 Jun in UTC.
  EXPECT_EQ(Search("SENTON 15-Jun-2023"), "3 4");
  EXPECT_EQ(Search("SENTON 16-Jun-2023"), "");
  EXPECT_EQ(Search("SENTBEFORE 1-Mar-2022"), "1");
  EXPECT_EQ(Search("SENTBEFORE 2-Mar-2022"), "1 2");
  EXPECT_EQ(Search("SENTSINCE 1-Mar-2022"), "2 3 4");
  EXPECT_EQ(Search("SENTSINCE 16-Jun-2023"), "");
}

TEST(SearchSentDateTest, ObsoleteZoneNamesAndBadDates) {
  const SearchLimits limits{1, 1, 0};
  auto sent_on = [&](std::string_view date_line, std::string_view day) {
    MessageRecord rec;
    rec.set_uid(1);
    rec.set_internal_date_unix(Utc(2020, 1, 1, 12));
    const std::string raw = Crlf(std::string(date_line) + "Subject: x\n\nbody\n");
    *rec.mutable_structure() = mailboxstore::ParseMessage(raw);
    return Matches(ParseKey("SENTON " + std::string(day)), {1, &rec}, limits, nullptr);
  };
  // 23:00 EST on 9 Mar is 04:00 UTC on 10 Mar.
  EXPECT_TRUE(sent_on("Date: Mon, 9 Mar 2020 23:00:00 EST\n", "9-Mar-2020"));
  EXPECT_FALSE(sent_on("Date: Mon, 9 Mar 2020 23:00:00 EST\n", "10-Mar-2020"));
  EXPECT_TRUE(sent_on("Date: Tue, 10 Mar 2020 01:00:00 +0530\n", "10-Mar-2020"));
  EXPECT_TRUE(sent_on("Date: Tue, 10 Mar 2020 23:00:00 GMT\n", "10-Mar-2020"));
  // No zone: read as UTC.
  EXPECT_TRUE(sent_on("Date: Tue, 10 Mar 2020 23:00:00\n", "10-Mar-2020"));
  // Unparseable or missing: the internal date (1 Jan 2020).
  EXPECT_TRUE(sent_on("Date: yesterday-ish\n", "1-Jan-2020"));
  EXPECT_TRUE(sent_on("", "1-Jan-2020"));
}

TEST_F(SearchTest, Size) {
  const uint64_t size1 = messages_[0].rec.size();
  const std::string n = std::to_string(size1);
  EXPECT_EQ(Search("LARGER " + std::to_string(size1 - 1) + " UID 10"), "1");
  EXPECT_EQ(Search("LARGER " + n + " UID 10"), "");
  EXPECT_EQ(Search("SMALLER " + std::to_string(size1 + 1) + " UID 10"), "1");
  EXPECT_EQ(Search("SMALLER " + n + " UID 10"), "");
  EXPECT_EQ(Search("LARGER 0"), "1 2 3 4");
  EXPECT_EQ(Search("SMALLER 1"), "");
}

TEST_F(SearchTest, OlderAndYounger) {
  // now = seq 4's internal date + 100 s; seq 3 is 101 s old.
  EXPECT_EQ(Search("YOUNGER 100"), "4");
  EXPECT_EQ(Search("OLDER 100"), "1 2 3");
  EXPECT_EQ(Search("OLDER 99"), "1 2 3 4");
  EXPECT_EQ(Search("YOUNGER 101"), "3 4");
  EXPECT_EQ(Search("OLDER 101"), "1 2");
}

TEST_F(SearchTest, ModSeq) {
  EXPECT_EQ(Search("MODSEQ 12"), "2 3 4");
  EXPECT_EQ(Search("MODSEQ 22"), "");
  EXPECT_EQ(Search("MODSEQ 1"), "1 2 3 4");
  EXPECT_EQ(Search("MODSEQ \"/flags/\\\\Seen\" all 20"), "3 4");
}

TEST_F(SearchTest, AddressHeaders) {
  EXPECT_EQ(Search("FROM foobar"), "1");
  EXPECT_EQ(Search("FROM \"FRED FOOBAR\""), "1");
  EXPECT_EQ(Search("FROM blurdybloop.example"), "1");
  EXPECT_EQ(Search("FROM example.de"), "3");
  EXPECT_EQ(Search("TO joerg"), "2");
  EXPECT_EQ(Search("TO example.com"), "3 4");
  EXPECT_EQ(Search("CC team"), "1");
  EXPECT_EQ(Search("CC example"), "1");
  EXPECT_EQ(Search("BCC hidden"), "3");
  EXPECT_EQ(Search("BCC example"), "3");
}

TEST_F(SearchTest, EncodedWordsMatchUtf8Needles) {
  // RFC 2047 display names and subjects are searched decoded.
  EXPECT_EQ(Search("CHARSET UTF-8 FROM " + Literal("Иван Петров")), "2");
  EXPECT_EQ(Search("CHARSET UTF-8 TO " + Literal("Jörg Müller")), "2");
  EXPECT_EQ(Search("CHARSET UTF-8 FROM " + Literal("Müller, Jörg")), "3");
  EXPECT_EQ(Search("CHARSET UTF-8 SUBJECT " + Literal("Отчёт за февраль")), "2");
  EXPECT_EQ(Search("CHARSET UTF-8 SUBJECT \"Grüße aus Köln\""), "3");
  EXPECT_EQ(Search("CHARSET UTF-8 SUBJECT " + Literal("Καλημέρα")), "4");
  // The encoded form is not what the user sees, so it does not match.
  EXPECT_EQ(Search("SUBJECT \"=?UTF-8?B?\""), "");
}

TEST_F(SearchTest, CaseInsensitiveAscii) {
  EXPECT_EQ(Search("SUBJECT \"AFTERNOON Meeting\""), "1");
  EXPECT_EQ(Search("BODY \"HELLO JOE\""), "1");
  EXPECT_EQ(Search("HEADER X-MAILER testmailer"), "3");
  EXPECT_EQ(Search("TEXT \"do YOU think\""), "1");
}

TEST_F(SearchTest, CaseInsensitiveCyrillicGreekLatin1) {
  // Header "Отчёт за февраль": upper case needle, and lower case "ё" against "Ё" in the body.
  EXPECT_EQ(Search("CHARSET UTF-8 SUBJECT " + Literal("ОТЧЁТ ЗА ФЕВРАЛЬ")), "2");
  EXPECT_EQ(Search("CHARSET UTF-8 SUBJECT " + Literal("отчёт")), "2");
  EXPECT_EQ(Search("CHARSET UTF-8 FROM " + Literal("ИВАН")), "2");
  EXPECT_EQ(Search("CHARSET UTF-8 BODY " + Literal("квартальный отчёт")), "2");
  EXPECT_EQ(Search("CHARSET UTF-8 BODY " + Literal("ПРИВЕТ")), "2");
  EXPECT_EQ(Search("CHARSET UTF-8 SUBJECT " + Literal("ΚΑΛΗΜΈΡΑ ΚΌΣΜΕ")), "4");
  EXPECT_EQ(Search("CHARSET UTF-8 SUBJECT " + Literal("GRÜSSE")), "");  // No full folding.
  EXPECT_EQ(Search("CHARSET UTF-8 SUBJECT " + Literal("GRÜßE AUS KÖLN")), "3");
  EXPECT_EQ(Search("CHARSET UTF-8 BODY " + Literal("ÄRGER ÜBER")), "4");
}

TEST_F(SearchTest, HeaderField) {
  EXPECT_EQ(Search("HEADER X-Mailer \"TestMailer 1.0\""), "3");
  EXPECT_EQ(Search("HEADER Message-ID <B27397"), "1");
  EXPECT_EQ(Search("HEADER Subject meeting"), "1");
  EXPECT_EQ(Search("HEADER Content-Type multipart"), "3 4");
  // An empty string asks whether the field exists, even with an empty value.
  EXPECT_EQ(Search("HEADER X-Mailer \"\""), "3");
  EXPECT_EQ(Search("HEADER X-Empty \"\""), "3");
  EXPECT_EQ(Search("HEADER Date \"\""), "1 2 4");
  EXPECT_EQ(Search("HEADER X-Missing \"\""), "");
  EXPECT_EQ(Search("NOT HEADER Date \"\""), "3");
  // Only the message's own header: the forwarded message's Subject is not one.
  EXPECT_EQ(Search("SUBJECT inner"), "");
}

TEST_F(SearchTest, BodyDecodesTransferEncodingAndCharset) {
  EXPECT_EQ(Search("BODY \"meet at 3:30\""), "1");
  // Base64 UTF-8.
  EXPECT_EQ(Search("CHARSET UTF-8 BODY " + Literal("С уважением, Иван")), "2");
  // Quoted-printable ISO-8859-1, across a soft line break.
  EXPECT_EQ(Search("CHARSET UTF-8 BODY \"Schöne Grüße\""), "3");
  EXPECT_EQ(Search("CHARSET UTF-8 BODY \"Köln, wir sehen uns im Café.\""), "3");
  // 8-bit ISO-8859-1.
  EXPECT_EQ(Search("CHARSET UTF-8 BODY " + Literal("Ärger über Straße")), "4");
  // The forwarded message's text is part of the body.
  EXPECT_EQ(Search("BODY \"nested needle\""), "4");
  // Non-text parts are not searched, nor is the encoded form of anything.
  EXPECT_EQ(Search("BODY secretword"), "");
  EXPECT_EQ(Search("BODY JVBERi0x"), "");
  EXPECT_EQ(Search("BODY Sch=F6ne"), "");
  // BODY does not look at the header.
  EXPECT_EQ(Search("BODY afternoon"), "");
  EXPECT_EQ(Search("BODY \"\""), "1 2 3 4");
}

TEST_F(SearchTest, TextSearchesHeaderAndBody) {
  EXPECT_EQ(Search("TEXT afternoon"), "1");
  EXPECT_EQ(Search("TEXT \"x-mailer: testmailer\""), "3");
  EXPECT_EQ(Search("CHARSET UTF-8 TEXT \"Grüße\""), "3");
  EXPECT_EQ(Search("TEXT \"nested needle\""), "4");
  EXPECT_EQ(Search("TEXT example"), "1 2 3 4");
  EXPECT_EQ(Search("TEXT secretword"), "");
}

TEST_F(SearchTest, NestedOrAndNot) {
  EXPECT_EQ(Search("OR SEEN FLAGGED"), "1 2");
  EXPECT_EQ(Search("NOT OR SEEN FLAGGED"), "3 4");
  EXPECT_EQ(Search("OR OR SEEN DELETED FLAGGED"), "1 2 3");
  EXPECT_EQ(Search("OR (SEEN ANSWERED) (DELETED NOT DRAFT)"), "1");
  EXPECT_EQ(Search("OR (SEEN ANSWERED) (DELETED DRAFT)"), "1 3");
  EXPECT_EQ(Search("NOT (OR UID 10:20 DELETED)"), "4");
  EXPECT_EQ(Search("NOT (UID 10:30 OR DELETED KEYWORD $Junk)"), "1 2 4");
  EXPECT_EQ(Search("NOT NOT SEEN"), "1");
  EXPECT_EQ(Search("UNSEEN NOT DELETED OR BODY needle SUBJECT =?"), "4");
  EXPECT_EQ(Search("2:* OR FROM foobar (TO example.com NOT BODY secretword)"), "3 4");
  EXPECT_EQ(Search("((SEEN) (ANSWERED (UID 1:*)))"), "1");
  EXPECT_EQ(Search("OR NOT SEEN NOT UNSEEN"), "1 2 3 4");
}

TEST_F(SearchTest, BodyIsReadOnlyWhenCheaperKeysAllowIt) {
  // Only seq 1 is \Seen: only its raw message is read.
  EXPECT_EQ(Search("SEEN BODY meet"), "1");
  EXPECT_EQ(raw_reads_, 1);
  raw_reads_ = 0;
  // The key order in the command does not matter.
  EXPECT_EQ(Search("BODY meet SEEN"), "1");
  EXPECT_EQ(raw_reads_, 1);
  raw_reads_ = 0;
  // Several body keys read each message once (checked in Search()).
  EXPECT_EQ(Search("BODY \" \" TEXT e OR BODY zzz TEXT i"), "1 2 3 4");
  EXPECT_EQ(raw_reads_, 4);
  raw_reads_ = 0;
  // OR: the body is not read when the cheap branch already matches.
  EXPECT_EQ(Search("OR BODY needle FLAGGED"), "2 4");
  EXPECT_EQ(raw_reads_, 3);
  raw_reads_ = 0;
  // TEXT matching in the header does not read the body.
  EXPECT_EQ(Search("SEEN TEXT afternoon"), "1");
  EXPECT_EQ(raw_reads_, 0);
  raw_reads_ = 0;
  EXPECT_EQ(Search("FLAGGED SUBJECT x FROM y"), "");
  EXPECT_EQ(raw_reads_, 0);
}

TEST_F(SearchTest, MatchesWithoutBodyDecidesWhatItCan) {
  auto early = [&](std::string_view criteria, size_t index) {
    const SearchMessage m{static_cast<uint32_t>(index + 1), &messages_[index].rec};
    return MatchesWithoutBody(ParseKey(criteria), m, limits_);
  };
  // Seq 1 is \Seen, seq 2 is not.
  EXPECT_EQ(early("UNSEEN BODY x", 0), false);
  EXPECT_EQ(early("UNSEEN BODY x", 1), std::nullopt);
  EXPECT_EQ(early("OR SEEN BODY x", 0), true);
  EXPECT_EQ(early("OR SEEN BODY x", 1), std::nullopt);
  EXPECT_EQ(early("NOT BODY x", 0), std::nullopt);
  EXPECT_EQ(early("NOT (UNSEEN BODY x)", 0), true);
  EXPECT_EQ(early("BODY \"\"", 0), true);
  // TEXT that matches in the header needs no body; one that does not may match in the body.
  EXPECT_EQ(early("TEXT afternoon", 0), true);
  EXPECT_EQ(early("TEXT afternoon", 1), std::nullopt);
  EXPECT_EQ(early("SEEN SUBJECT afternoon", 0), true);
  EXPECT_EQ(early("SEEN SUBJECT afternoon", 1), false);
}

TEST_F(SearchTest, BodyTextIsCapped) {
  // Seq 1's body: "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n".
  limits_.max_body_text_bytes = 20;
  EXPECT_EQ(Search("BODY \"Hello Joe\" UID 10"), "1");
  EXPECT_EQ(Search("BODY tomorrow UID 10"), "");
  limits_.max_body_text_bytes = 0;
  EXPECT_EQ(Search("BODY Hello UID 10"), "");
}

TEST(SearchBodyTest, DamagedBase64AndOtherCharsets) {
  const SearchLimits limits{1, 1, 0};
  auto body_matches = [&](std::string_view text, std::string_view needle) {
    MessageRecord rec;
    rec.set_uid(1);
    const std::string raw = Crlf(text);
    *rec.mutable_structure() = mailboxstore::ParseMessage(raw);
    return Matches(ParseKey("CHARSET UTF-8 BODY " + Literal(needle)), {1, &rec}, limits,
                   [&] { return std::string_view(raw); });
  };
  // A stray character and a missing final character in base64: decoded as far as it goes.
  EXPECT_TRUE(
      body_matches("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                   "RGFtYWdlZCBidXQgcmVh!ZGFibGUgw5xiZXJ0cmFndW5\n",
                   "damaged but readable übertragun"));
  // windows-1252 curly quotes and euro sign.
  EXPECT_TRUE(body_matches(
      "Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n"
      "\x93Price\x94: 5 \x80\n",
      "“price”: 5 €"));
  // KOI8-R in quoted-printable ("Привет" in upper case).
  EXPECT_TRUE(body_matches(
      "Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: quoted-printable\n\n"
      "=F0=F2=E9=F7=E5=F4 =\n\n",
      "привет"));
  // Unlabelled 8-bit text that is not UTF-8 is read as windows-1252 (Latin-1).
  EXPECT_TRUE(body_matches("Subject: x\n\nCaf\xE9 cr\xE8me\n", "CAFÉ CRÈME"));
  // An unknown charset: valid UTF-8 is searched as such.
  EXPECT_TRUE(body_matches("Content-Type: text/plain; charset=x-unknown\n\nnaïve\n", "NAÏVE"));
  // HTML is searched as its text source.
  EXPECT_TRUE(body_matches("Content-Type: text/html\n\n<p>Hello <b>world</b></p>\n", "<b>WORLD"));
  // Without a raw message nothing in the body matches.
  MessageRecord rec;
  *rec.mutable_structure() = mailboxstore::ParseMessage(Crlf("Subject: x\n\nbody\n"));
  EXPECT_FALSE(Matches(ParseKey("BODY body"), {1, &rec}, limits, nullptr));
  EXPECT_FALSE(
      Matches(ParseKey("BODY body"), {1, &rec}, limits, [] { return std::string_view(); }));
}

TEST(SearchKeyNeedsTest, StructureAndBody) {
  struct Case {
    std::string_view criteria;
    bool structure;
    bool body;
  };
  const Case cases[] = {
      {"ALL", false, false},
      {"SEEN UID 1:* 1:5 KEYWORD x MODSEQ 5", false, false},
      {"ON 1-Jan-2020 BEFORE 1-Jan-2020 SINCE 1-Jan-2020 OLDER 5 YOUNGER 5", false, false},
      {"LARGER 5 SMALLER 10 NEW OLD RECENT", false, false},
      {"SUBJECT x", true, false},
      {"FROM x", true, false},
      {"TO x", true, false},
      {"CC x", true, false},
      {"BCC x", true, false},
      {"HEADER X-Y z", true, false},
      {"SENTON 1-Jan-2020", true, false},
      {"SENTBEFORE 1-Jan-2020", true, false},
      {"SENTSINCE 1-Jan-2020", true, false},
      {"BODY x", true, true},
      {"TEXT x", true, true},
      {"NOT OR SEEN (DELETED BODY x)", true, true},
      {"OR SEEN NOT SUBJECT x", true, false},
  };
  for (const Case& c : cases) {
    const SearchKey key = ParseKey(c.criteria);
    EXPECT_EQ(NeedsStructure(key), c.structure) << c.criteria;
    EXPECT_EQ(NeedsBody(key), c.body) << c.criteria;
  }
}

TEST(SearchCharsetTest, OnlyUtf8AndUsAscii) {
  EXPECT_TRUE(IsSupportedCharset(std::nullopt));
  EXPECT_TRUE(IsSupportedCharset("UTF-8"));
  EXPECT_TRUE(IsSupportedCharset("utf-8"));
  EXPECT_TRUE(IsSupportedCharset("US-ASCII"));
  EXPECT_TRUE(IsSupportedCharset("us-ascii"));
  EXPECT_FALSE(IsSupportedCharset("ISO-8859-1"));
  EXPECT_FALSE(IsSupportedCharset("KOI8-R"));
  EXPECT_FALSE(IsSupportedCharset("UTF8"));
  EXPECT_FALSE(IsSupportedCharset(""));
  // As the parser hands it over.
  std::optional<SearchArgs> args = ParseSearch("CHARSET iso-8859-1 SUBJECT x");
  ASSERT_TRUE(args.has_value());
  EXPECT_FALSE(IsSupportedCharset(args->charset));
  args = ParseSearch("CHARSET Utf-8 SUBJECT x");
  ASSERT_TRUE(args.has_value());
  EXPECT_TRUE(IsSupportedCharset(args->charset));
  args = ParseSearch("SUBJECT x");
  ASSERT_TRUE(args.has_value());
  EXPECT_TRUE(IsSupportedCharset(args->charset));
}

// The session sends the distinct BODY/TEXT keys to the store in one call and evaluates the
// rest of the tree with the store's answers: the result is the same as reading every body.
TEST_F(SearchTest, StoreAnsweredTextKeysGiveTheSameResult) {
  for (const std::string& criteria : std::vector<std::string>{
           "BODY meet", "TEXT afternoon", "NOT BODY meet", "OR BODY needle FLAGGED",
        "UNSEEN BODY \"\"", "BODY meet BODY meet", "OR (TEXT e BODY zzz) NOT TEXT i",
        "SEEN BODY meet", "TEXT Joe BODY tomorrow", "UID 20:* BODY " + Literal("МИР")}) {
    const SearchKey key = ParseKey(criteria);
    std::vector<const SearchKey*> text_keys;
    CollectTextKeys(key, &text_keys);
    for (size_t i = 0; i < text_keys.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        EXPECT_FALSE(text_keys[i]->type == text_keys[j]->type &&
                     text_keys[i]->value == text_keys[j]->value)
            << criteria << ": a key is sent twice";
      }
    }
    for (size_t i = 0; i < messages_.size(); ++i) {
      const StoredMessage& m = messages_[i];
      const SearchMessage message{static_cast<uint32_t>(i + 1), &m.rec};
      const std::function<std::string_view()> raw = [&] { return std::string_view(m.raw); };
      // What the store computes for one key (common/mail_text.h over the stored body).
      int asked = 0;
      const TextOracle store = [&](const SearchKey& k) {
        ++asked;
        EXPECT_TRUE(std::any_of(text_keys.begin(), text_keys.end(), [&](const SearchKey* t) {
          return t->type == k.type && t->value == k.value;
        }));
        const std::string needle = common::FoldCase(k.value);
        if (k.type == SearchKeyType::kText &&
            common::FoldedHeaderBlock(m.rec.structure()).find(needle) != std::string::npos) {
          return true;
        }
        return common::FoldedBodyText(m.raw, m.rec.structure().body(), SIZE_MAX)
                   .find(needle) != std::string::npos;
      };
      EXPECT_EQ(MatchesWithText(key, message, limits_, store), Matches(key, message, limits_, raw))
          << criteria << " seq " << i + 1;
      if (!NeedsBody(key)) {
        EXPECT_EQ(asked, 0);
      }
    }
  }
  std::vector<const SearchKey*> none;
  CollectTextKeys(ParseKey("FROM x OR SEEN SUBJECT y"), &none);
  EXPECT_TRUE(none.empty());
}

// Header keys of records fetched without structure go to the store too (SEARCH FROM on a big
// mailbox reads no structures into casd): the store's answers give the same result as
// evaluating the headers here.
TEST_F(SearchTest, StoreAnsweredHeaderKeysGiveTheSameResult) {
  for (const std::string& criteria : std::vector<std::string>{
           "FROM foobar", "FROM " + Literal("иван"), "TO " + Literal("JÖRG"), "CC team",
           "BCC hidden", "SUBJECT " + Literal("köln"),
           "HEADER X-Mailer testmailer", "HEADER x-empty \"\"", "HEADER \"Subject \" \"\"",
           "OR FROM nikos NOT SUBJECT meeting", "SEEN FROM foobar", "FROM joerg TO fred",
           "FROM someone", "TEXT joe FROM fred", "NOT HEADER x-none \"\"",
           "HEADER \"\" foobar", "NOT HEADER \"\" \"\""}) {
    const SearchKey key = ParseKey(criteria);
    EXPECT_FALSE(NeedsSentDate(key)) << criteria;
    std::vector<const SearchKey*> store_keys;
    CollectTextKeys(key, &store_keys, /*header_keys=*/true);
    for (size_t i = 0; i < messages_.size(); ++i) {
      const StoredMessage& m = messages_[i];
      MessageRecord bare = m.rec;  // What casd has: no structure.
      bare.clear_structure();
      const SearchMessage full{static_cast<uint32_t>(i + 1), &m.rec};
      const SearchMessage without{static_cast<uint32_t>(i + 1), &bare};
      // What the store computes (common/mail_text.h over the stored structure and body).
      const TextOracle store = [&](const SearchKey& k) {
        EXPECT_TRUE(std::any_of(store_keys.begin(), store_keys.end(), [&](const SearchKey* t) {
          return t->type == k.type && t->value == k.value &&
                 HeaderKeyField(*t) == HeaderKeyField(k);
        })) << criteria << ": the store was not asked about this key";
        const std::string needle = common::FoldCase(k.value);
        const std::string field = HeaderKeyField(k);
        if (!field.empty()) {
          return common::HeaderFieldContains(m.rec.structure().decoded_headers(), field, needle);
        }
        if (k.type == SearchKeyType::kText &&
            common::FoldedHeaderBlock(m.rec.structure()).find(needle) != std::string::npos) {
          return true;
        }
        return common::FoldedBodyText(m.raw, m.rec.structure().body(), SIZE_MAX)
                   .find(needle) != std::string::npos;
      };
      const std::function<std::string_view()> raw = [&] { return std::string_view(m.raw); };
      EXPECT_EQ(MatchesWithText(key, without, limits_, store), Matches(key, full, limits_, raw))
          << criteria << " seq " << i + 1;
    }
  }
  // Without structure a header key is undecided here; with it, decided locally.
  MessageRecord bare = messages_[0].rec;
  bare.clear_structure();
  EXPECT_FALSE(MatchesWithoutBody(ParseKey("FROM foobar"), {1, &bare}, limits_).has_value());
  EXPECT_EQ(MatchesWithoutBody(ParseKey("FROM foobar"), {1, &messages_[0].rec}, limits_), true);
  EXPECT_EQ(MatchesWithoutBody(ParseKey("UNSEEN FROM foobar"), {1, &bare}, limits_), false);
  EXPECT_TRUE(NeedsSentDate(ParseKey("OR FROM x SENTON 1-Jan-2020")));
  // A header key without a field name matches nothing and never reaches the store (where an
  // empty field name would mean BODY).
  std::vector<const SearchKey*> none;
  CollectTextKeys(ParseKey("HEADER \"\" foobar"), &none, /*header_keys=*/true);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(MatchesWithoutBody(ParseKey("HEADER \"\" foobar"), {1, &bare}, limits_), false);
  // What the view does not hold.
  for (const char* k : {"BEFORE 1-Jan-2020", "ON 1-Jan-2020", "SINCE 1-Jan-2020",
                        "SENTON 1-Jan-2020", "LARGER 5", "SMALLER 5", "OLDER 5", "YOUNGER 5",
                        "NOT (SEEN OR FROM x LARGER 7)"}) {
    EXPECT_TRUE(NeedsStoredRecord(ParseKey(k))) << k;
  }
  for (const char* k : {"ALL", "SEEN UNSEEN FLAGGED KEYWORD x", "UID 1:5 1:*", "MODSEQ 5",
                        "FROM x BODY y TEXT z", "OR NEW NOT HEADER a b"}) {
    EXPECT_FALSE(NeedsStoredRecord(ParseKey(k))) << k;
  }
}

TEST(SearchMessageTest, NullRecordMatchesNothing) {
  EXPECT_FALSE(Matches(ParseKey("ALL"), {1, nullptr}, {1, 1, 0}, nullptr));
}

}  // namespace
}  // namespace cas::imap
