// Table-driven tests of every command's grammar. Each input is parsed whole, one byte at a time
// and split in two at every position, and must give the same single event: the canonical
// FormatCommand() text of the parsed command, or the BAD reply with its tag.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cas/imap/codec/command.h"
#include "cas/imap/codec/parser.h"
#include "tests/cas/imap/parser_test_util.h"

namespace cas::imap {
namespace {

using testing::RunAllSplits;
using testing::RunOptions;

struct Case {
  std::string input;     // One command without its final CRLF.
  std::string expected;  // FormatCommand() text, or the error reply without CRLF.
};

// Non-synchronizing literals are used where a literal is needed, so LITERAL+ is on.
RunOptions LiteralPlus() {
  RunOptions run;
  run.options.literal_plus = true;
  run.hook = nullptr;
  return run;
}

void RunTable(const std::vector<Case>& cases, const RunOptions& run = LiteralPlus()) {
  for (const Case& c : cases) {
    const std::vector<std::string> events = RunAllSplits(c.input + "\r\n", run);
    ASSERT_EQ(events.size(), 1u) << c.input;
    EXPECT_EQ(events[0], c.expected) << "input: " << c.input;
  }
}

TEST(CommandGrammarTest, TagsAndCommandNames) {
  RunTable({
      {"A1 CAPABILITY", "A1 CAPABILITY"},
      {"a1 capability", "a1 CAPABILITY"},
      {"A1 NoOp", "A1 NOOP"},
      {"A1 LOGOUT", "A1 LOGOUT"},
      {"A1 STARTTLS", "A1 STARTTLS"},
      {"A1 NAMESPACE", "A1 NAMESPACE"},
      {"A1 IDLE", "A1 IDLE"},
      {"A1 CHECK", "A1 CHECK"},
      {"A1 CLOSE", "A1 CLOSE"},
      {"A1 UNSELECT", "A1 UNSELECT"},
      {"A1 EXPUNGE", "A1 EXPUNGE"},
      {"a.b]c CAPABILITY", "a.b]c CAPABILITY"},
      {"~tag-01 NOOP", "~tag-01 NOOP"},
      {"* CAPABILITY", "* BAD Invalid tag"},
      {"+ CAPABILITY", "* BAD Invalid tag"},
      {"A+1 NOOP", "* BAD Invalid tag"},
      {"A(1 NOOP", "* BAD Invalid tag"},
      {" A1 NOOP", "* BAD Invalid tag"},
      {"A\"1 NOOP", "* BAD Invalid tag"},
      {"A1", "A1 BAD Missing command"},
      {"A1 ", "A1 BAD Unknown command"},
      {"A1  NOOP", "A1 BAD Unknown command"},
      {"A1 FOO", "A1 BAD Unknown command"},
      {"A1 NO", "A1 BAD Unknown command"},
      {"A1 NOOPS", "A1 BAD Unknown command"},
      {"A1 NOOP extra", "A1 BAD Too many arguments"},
      {"A1 NOOP ", "A1 BAD Too many arguments"},
      {"A1 NOOP(", "A1 BAD Invalid arguments"},
      {"A1 UID", "A1 BAD Missing command"},
      {"A1 UID NOOP", "A1 BAD Unknown command"},
      {"A1 UID LOGIN a b", "A1 BAD Unknown command"},
      {"A1 UID SELECT INBOX", "A1 BAD Unknown command"},
      {"A1 EXPUNGE 1", "A1 BAD Too many arguments"},
      {std::string("A1 NO\0OP", 8), "A1 BAD Unknown command"},
      {"A1 CAPABILITY\r", "A1 BAD Invalid arguments"},
  });
}

TEST(CommandGrammarTest, AuthenticateLoginId) {
  RunTable({
      {"A1 AUTHENTICATE PLAIN", "A1 AUTHENTICATE PLAIN"},
      {"A1 authenticate scram-sha-256", "A1 AUTHENTICATE SCRAM-SHA-256"},
      {"A1 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0", "A1 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0"},
      {"A1 AUTHENTICATE PLAIN =", "A1 AUTHENTICATE PLAIN ="},
      {"A1 AUTHENTICATE PLAIN AGZy!", "A1 BAD Invalid base64 initial response"},
      {"A1 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV", "A1 BAD Invalid base64 initial response"},
      {"A1 AUTHENTICATE PLAIN ", "A1 BAD Invalid base64 initial response"},
      {"A1 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0 x", "A1 BAD Too many arguments"},
      {"A1 AUTHENTICATE", "A1 BAD Missing argument"},
      {"A1 AUTHENTICATE (PLAIN)", "A1 BAD Invalid SASL mechanism"},

      {"A1 LOGIN fred secret", "A1 LOGIN fred secret"},
      {"A1 login FRED \"se cr\\\"et\\\\\"", "A1 LOGIN FRED \"se cr\\\"et\\\\\""},
      {"A1 LOGIN \"\" \"\"", "A1 LOGIN \"\" \"\""},
      {"A1 LOGIN {4+}\r\nfred {6+}\r\nsecret", "A1 LOGIN fred secret"},
      {"A1 LOGIN fred {10+}\r\nA2 NOOP\r\nx", "A1 LOGIN fred {10}\r\nA2 NOOP\r\nx"},
      {"A1 LOGIN fred] pass]", "A1 LOGIN fred] pass]"},
      {"A1 LOGIN fred", "A1 BAD Missing argument"},
      {"A1 LOGIN", "A1 BAD Missing argument"},
      {"A1 LOGIN fred sec ret", "A1 BAD Too many arguments"},
      {"A1 LOGIN fred  secret", "A1 BAD Invalid string"},
      {"A1 LOGIN \"fred secret", "A1 BAD Unterminated quoted string"},
      {"A1 LOGIN \"fr\\ed\" x", "A1 BAD Invalid quoted string"},
      {"A1 LOGIN fred (secret)", "A1 BAD Invalid string"},
      {"A1 LOGIN fred {3}x", "A1 BAD Literal must end the line"},
      {"A1 LOGIN fred ~{1+}\r\nx", "A1 BAD literal8 not allowed here"},
      {std::string("A1 LOGIN fred {2+}\r\n\0x", 22), "A1 BAD NUL in literal"},
      {std::string("A1 LOGIN fred \"a\0\"", 18), "A1 BAD Invalid quoted string"},
      {"A1 LOGIN fred {+}", "A1 BAD Invalid literal"},

      {"A1 ID NIL", "A1 ID NIL"},
      {"A1 ID nil", "A1 ID NIL"},
      {"A1 ID ()", "A1 ID ()"},
      {"A1 ID (\"name\" \"Thunderbird\" \"version\" NIL)",
       "A1 ID (\"name\" \"Thunderbird\" \"version\" NIL)"},
      {"A1 ID (\"name\" {3+}\r\nK-9)", "A1 ID (\"name\" \"K-9\")"},
      {"A1 ID (\"name\")", "A1 BAD Invalid arguments"},
      {"A1 ID (\"name\" value)", "A1 BAD Invalid string"},
      {"A1 ID", "A1 BAD Missing argument"},
      {"A1 ID \"name\"", "A1 BAD Invalid arguments"},
  });
}

TEST(CommandGrammarTest, EnableSelectExamine) {
  RunTable({
      {"A1 ENABLE CONDSTORE utf8=accept", "A1 ENABLE CONDSTORE UTF8=ACCEPT"},
      {"A1 ENABLE QRESYNC", "A1 ENABLE QRESYNC"},
      {"A1 ENABLE", "A1 BAD Missing argument"},
      {"A1 ENABLE (X)", "A1 BAD Invalid capability name"},

      {"A1 SELECT inbox", "A1 SELECT \"INBOX\""},
      {"A1 SELECT \"InBoX\"", "A1 SELECT \"INBOX\""},
      {"A1 SELECT {5+}\r\ninBOX", "A1 SELECT \"INBOX\""},
      {"A1 SELECT INBOX/Sub", "A1 SELECT \"INBOX/Sub\""},
      {"A1 SELECT INBOXES", "A1 SELECT \"INBOXES\""},
      {"A1 EXAMINE Drafts", "A1 EXAMINE \"Drafts\""},
      {"A1 SELECT \"Deleted Items\"", "A1 SELECT \"Deleted Items\""},
      {"A1 SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-",
       "A1 SELECT \"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\""},
      {"A1 SELECT \"R&-D\"", "A1 SELECT \"R&D\""},
      {"A1 SELECT INBOX (CONDSTORE)", "A1 SELECT \"INBOX\" (CONDSTORE)"},
      {"A1 SELECT INBOX ()", "A1 SELECT \"INBOX\""},
      {"A1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))",
       "A1 SELECT \"INBOX\" (QRESYNC (67890007 20050715194045000 41,43:211,214:541))"},
      {"A1 SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:10 1:10)))",
       "A1 SELECT \"INBOX\" (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:10 1:10)))"},
      {"A1 SELECT INBOX (QRESYNC (1 2 (1,5 10,20)))",
       "A1 SELECT \"INBOX\" (QRESYNC (1 2 (1,5 10,20)))"},
      {"A1 EXAMINE INBOX (condstore qresync (1 2))",
       "A1 EXAMINE \"INBOX\" (CONDSTORE QRESYNC (1 2))"},
      {"A1 SELECT INBOX (QRESYNC (0 2))", "A1 BAD Invalid number"},
      {"A1 SELECT INBOX (QRESYNC (1 0))", "A1 BAD Invalid number"},
      {"A1 SELECT INBOX (QRESYNC (1))", "A1 BAD Invalid arguments"},
      {"A1 SELECT INBOX (QRESYNC (1 9223372036854775808))", "A1 BAD Invalid number"},
      {"A1 SELECT INBOX (QRESYNC (1 2 3 4))", "A1 BAD Invalid arguments"},
      // Known UIDs and sequence match data are explicit numbers, and the two match sets name
      // as many messages each (RFC 7162 section 7).
      {"A1 SELECT INBOX (QRESYNC (1 2 1:*))", "A1 BAD Invalid QRESYNC known UIDs"},
      {"A1 SELECT INBOX (QRESYNC (1 2 $))", "A1 BAD Invalid QRESYNC known UIDs"},
      {"A1 SELECT INBOX (QRESYNC (1 2 1:9 (1:3 5:*)))",
       "A1 BAD Invalid QRESYNC sequence match data"},
      {"A1 SELECT INBOX (QRESYNC (1 2 (1:3 5,7)))", "A1 BAD Invalid QRESYNC sequence match data"},
      {"A1 SELECT INBOX (QRESYNC (1 2 ($ 5)))", "A1 BAD Invalid QRESYNC sequence match data"},
      {"A1 SELECT INBOX (QRESYNC (1 2 (3:1 9,7:8)))",
       "A1 SELECT \"INBOX\" (QRESYNC (1 2 (3:1 9,7:8)))"},
      {"A1 SELECT INBOX (QRESYNC (1 2 1:9 (1:3)))", "A1 BAD Invalid arguments"},
      {"A1 SELECT INBOX (QRESYNC (1 2 1:9 (1:3 1:3) x))", "A1 BAD Invalid arguments"},
      {"A1 SELECT INBOX (FOO)", "A1 BAD Unknown SELECT parameter"},
      {"A1 SELECT INBOX (CONDSTORE CONDSTORE)", "A1 BAD Unknown SELECT parameter"},
      {"A1 SELECT INBOX (CONDSTORE", "A1 BAD Invalid arguments"},
      {"A1 SELECT", "A1 BAD Missing argument"},
      {"A1 SELECT INBOX extra", "A1 BAD Invalid arguments"},
      {"A1 SELECT &Jjo", "A1 BAD Mailbox name is not valid modified UTF-7"},
      {"A1 SELECT &AGE-", "A1 BAD Mailbox name is not valid modified UTF-7"},
      {"A1 SELECT \"caf\xc3\xa9\"", "A1 BAD Mailbox name is not valid modified UTF-7"},
  });
}

TEST(CommandGrammarTest, MailboxManagement) {
  RunTable({
      {"A1 CREATE owatagusiam/", "A1 CREATE \"owatagusiam/\""},
      {"A1 CREATE MySpecial (USE (\\drafts \\Sent))",
       "A1 CREATE \"MySpecial\" (USE (\\Drafts \\Sent))"},
      {"A1 CREATE X (USE (\\Important))", "A1 CREATE \"X\" (USE (\\Important))"},
      {"A1 CREATE X (USE ())", "A1 CREATE \"X\""},
      {"A1 CREATE X (USE (Sent))", "A1 BAD Invalid special-use attribute"},
      {"A1 CREATE X (FOO)", "A1 BAD Unknown CREATE parameter"},
      {"A1 CREATE X (USE (\\Sent) USE (\\Trash))", "A1 BAD Unknown CREATE parameter"},
      {"A1 CREATE", "A1 BAD Missing argument"},
      {"A1 DELETE blurdybloop", "A1 DELETE \"blurdybloop\""},
      {"A1 DELETE", "A1 BAD Missing argument"},
      {"A1 RENAME \"old box\" new", "A1 RENAME \"old box\" \"new\""},
      {"A1 RENAME inbox old-inbox", "A1 RENAME \"INBOX\" \"old-inbox\""},
      {"A1 RENAME old", "A1 BAD Missing argument"},
      {"A1 SUBSCRIBE #news.comp.mail.mime", "A1 SUBSCRIBE \"#news.comp.mail.mime\""},
      {"A1 UNSUBSCRIBE #news.comp.mail.mime", "A1 UNSUBSCRIBE \"#news.comp.mail.mime\""},
      {"A1 SUBSCRIBE a b", "A1 BAD Too many arguments"},
      {"A1 GETQUOTA \"\"", "A1 GETQUOTA \"\""},
      {"A1 GETQUOTA root", "A1 GETQUOTA root"},
      {"A1 GETQUOTAROOT INBOX", "A1 GETQUOTAROOT \"INBOX\""},
      {"A1 SETQUOTA \"\" (storage 512)", "A1 SETQUOTA \"\" (STORAGE 512)"},
      {"A1 SETQUOTA \"\" (STORAGE 512 MESSAGE 1000)",
       "A1 SETQUOTA \"\" (STORAGE 512 MESSAGE 1000)"},
      {"A1 SETQUOTA \"\" ()", "A1 SETQUOTA \"\" ()"},
      {"A1 SETQUOTA \"\" (STORAGE)", "A1 BAD Invalid arguments"},
      {"A1 SETQUOTA \"\" (STORAGE x)", "A1 BAD Invalid number"},
      {"A1 SETQUOTA \"\"", "A1 BAD Missing argument"},
  });
}

TEST(CommandGrammarTest, ListLsubStatus) {
  RunTable({
      {"A1 LIST \"\" *", "A1 LIST \"\" \"*\""},
      {"A1 LIST \"\" \"\"", "A1 LIST \"\" \"\""},
      {"A1 LIST ~/Mail/ %", "A1 LIST \"~/Mail/\" \"%\""},
      {"A1 LIST \"\" INBOX/%/x*", "A1 LIST \"\" \"INBOX/%/x*\""},
      {"A1 LIST \"\" &U,BTFw-/*", "A1 LIST \"\" \"\xe5\x8f\xb0\xe5\x8c\x97/*\""},
      {"A1 LIST \"\" {1+}\r\n*", "A1 LIST \"\" \"*\""},
      {"A1 LIST (SUBSCRIBED) \"\" *", "A1 LIST (SUBSCRIBED) \"\" (\"*\") RETURN ()"},
      {"A1 LIST () \"\" *", "A1 LIST () \"\" (\"*\") RETURN ()"},
      {"A1 LIST \"\" (* %)", "A1 LIST () \"\" (\"*\" \"%\") RETURN ()"},
      {"A1 LIST \"\" * RETURN ()", "A1 LIST () \"\" (\"*\") RETURN ()"},
      {"A1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (% INBOX) RETURN (CHILDREN STATUS (MESSAGES "
       "UNSEEN))",
       "A1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"%\" \"INBOX\") RETURN (CHILDREN STATUS "
       "(MESSAGES UNSEEN))"},
      {"A1 list (special-use remote) \"\" % return (special-use subscribed)",
       "A1 LIST (REMOTE SPECIAL-USE) \"\" (\"%\") RETURN (SUBSCRIBED SPECIAL-USE)"},
      {"A1 LIST (SPECIAL-USE RECURSIVEMATCH) \"\" *",
       "A1 LIST (RECURSIVEMATCH SPECIAL-USE) \"\" (\"*\") RETURN ()"},
      {"A1 LIST (RECURSIVEMATCH) \"\" *", "A1 BAD RECURSIVEMATCH needs another selection option"},
      {"A1 LIST (REMOTE RECURSIVEMATCH) \"\" *",
       "A1 BAD RECURSIVEMATCH needs another selection option"},
      {"A1 LIST (FOO) \"\" *", "A1 BAD Unknown LIST selection option"},
      {"A1 LIST \"\" * RETURN (FOO)", "A1 BAD Unknown LIST return option"},
      {"A1 LIST \"\" * RETURN (STATUS ())", "A1 BAD Unknown STATUS item"},
      {"A1 LIST \"\" * RETURN (STATUS (MESSAGES) STATUS (UNSEEN))",
       "A1 BAD Unknown LIST return option"},
      {"A1 LIST \"\" * EXTRA", "A1 BAD Invalid arguments"},
      {"A1 LIST \"\" ()", "A1 BAD Invalid mailbox pattern"},
      {"A1 LIST \"\"", "A1 BAD Missing argument"},
      {"A1 LIST", "A1 BAD Missing argument"},
      {"A1 LIST \"\" &", "A1 BAD Mailbox name is not valid modified UTF-7"},
      {"A1 LSUB \"#news.\" \"comp.mail.*\"", "A1 LSUB \"#news.\" \"comp.mail.*\""},
      {"A1 LSUB \"\" %", "A1 LSUB \"\" \"%\""},
      {"A1 LSUB \"\"", "A1 BAD Missing argument"},
      {"A1 STATUS blurdybloop (UIDNEXT MESSAGES)", "A1 STATUS \"blurdybloop\" (UIDNEXT MESSAGES)"},
      {"A1 STATUS inbox (messages uidnext uidvalidity unseen deleted size recent highestmodseq "
       "appendlimit)",
       "A1 STATUS \"INBOX\" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT "
       "HIGHESTMODSEQ APPENDLIMIT)"},
      {"A1 STATUS INBOX ()", "A1 BAD Unknown STATUS item"},
      {"A1 STATUS INBOX (FOO)", "A1 BAD Unknown STATUS item"},
      {"A1 STATUS INBOX MESSAGES", "A1 BAD Invalid arguments"},
      {"A1 STATUS INBOX (MESSAGES", "A1 BAD Invalid arguments"},
      {"A1 STATUS INBOX", "A1 BAD Missing argument"},
  });
}

TEST(CommandGrammarTest, Append) {
  RunTable({
      {"A1 APPEND saved (\\Seen) {11+}\r\nHello world",
       "A1 APPEND \"saved\" (\\Seen) {11}\r\nHello world"},
      {"A1 APPEND INBOX {5+}\r\nhello", "A1 APPEND \"INBOX\" () {5}\r\nhello"},
      {"A1 APPEND INBOX {0+}\r\n", "A1 APPEND \"INBOX\" () {0}\r\n"},
      {"A1 APPEND INBOX () {2+}\r\n\r\n", "A1 APPEND \"INBOX\" () {2}\r\n\r\n"},
      {"A1 APPEND INBOX (\\seen $Junk) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nhello",
       "A1 APPEND \"INBOX\" (\\Seen $Junk) \"17-Jul-1996 02:44:25 -0700\" {5}\r\nhello"},
      {"A1 APPEND INBOX \" 7-Jul-1996 02:44:25 +0000\" {1+}\r\nx",
       "A1 APPEND \"INBOX\" () \" 7-Jul-1996 02:44:25 +0000\" {1}\r\nx"},
      {"A1 APPEND INBOX \"7-Jul-1996 02:44:25 +0000\" {1+}\r\nx",
       "A1 APPEND \"INBOX\" () \" 7-Jul-1996 02:44:25 +0000\" {1}\r\nx"},
      {std::string("A1 APPEND INBOX ~{3+}\r\na\0b", 26),
       std::string("A1 APPEND \"INBOX\" () ~{3}\r\na\0b", 30)},
      {"A1 APPEND INBOX UTF8 (~{2+}\r\nhi)", "A1 APPEND \"INBOX\" () UTF8 (~{2}\r\nhi)"},
      {"A1 APPEND INBOX (\\Seen) {1+}\r\na (\\Draft) {1+}\r\nb",
       "A1 APPEND \"INBOX\" (\\Seen) {1}\r\na (\\Draft) {1}\r\nb"},
      {"A1 APPEND {5+}\r\nINBOX {1+}\r\nx", "A1 APPEND \"INBOX\" () {1}\r\nx"},
      {"A1 APPEND INBOX \"hello\"", "A1 BAD Invalid date-time"},
      {"A1 APPEND INBOX hello", "A1 BAD Message must be a literal"},
      {"A1 APPEND INBOX (\\Recent) {1+}\r\na", "A1 BAD Invalid system flag"},
      {"A1 APPEND INBOX (\\Seen {1+}\r\na", "A1 BAD Invalid flag"},
      {"A1 APPEND INBOX \"31-Feb-2020 00:00:00 +0000\" {1+}\r\na", "A1 BAD Invalid date-time"},
      {"A1 APPEND INBOX \"1-Feb-2020 00:00:00\" {1+}\r\na", "A1 BAD Invalid date-time"},
      {"A1 APPEND INBOX () () {1+}\r\na", "A1 BAD Message must be a literal"},
      {"A1 APPEND INBOX UTF8 ({1+}\r\na)", "A1 BAD Invalid UTF8 message"},
      {"A1 APPEND INBOX", "A1 BAD Missing argument"},
      {"A1 APPEND INBOX ", "A1 BAD Message must be a literal"},
      {"A1 APPEND INBOX {1+}\r\na extra", "A1 BAD Message must be a literal"},
      {"A1 APPEND INBOX {1+}\r\na ", "A1 BAD Message must be a literal"},
  });
}

TEST(CommandGrammarTest, Search) {
  RunTable({
      {"A1 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
       "A1 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM Smith"},
      {"A1 SEARCH TEXT \"string not in mailbox\"", "A1 SEARCH TEXT \"string not in mailbox\""},
      {"A1 UID SEARCH 1:* NOT DELETED", "A1 UID SEARCH 1:* NOT DELETED"},
      {"A1 SEARCH OR (FROM a TO b) NOT (SEEN SUBJECT {3+}\r\nx y)",
       "A1 SEARCH OR (FROM a TO b) NOT (SEEN SUBJECT \"x y\")"},
      {"A1 SEARCH CHARSET UTF-8 BODY \"caf\xc3\xa9\"",
       "A1 SEARCH CHARSET UTF-8 BODY \"caf\xc3\xa9\""},
      {"A1 SEARCH RETURN (MIN MAX COUNT) UNSEEN", "A1 SEARCH RETURN (MIN MAX COUNT) UNSEEN"},
      {"A1 SEARCH RETURN () ALL", "A1 SEARCH RETURN () ALL"},
      {"A1 UID SEARCH return (save all) charset us-ascii ALL",
       "A1 UID SEARCH RETURN (SAVE ALL) CHARSET us-ascii ALL"},
      {"A1 SEARCH $", "A1 SEARCH $"},
      {"A1 SEARCH UID $ DELETED", "A1 SEARCH UID $ DELETED"},
      {"A1 SEARCH MODSEQ 620162338", "A1 SEARCH MODSEQ 620162338"},
      {"A1 SEARCH MODSEQ 0", "A1 SEARCH MODSEQ 0"},
      {"A1 SEARCH MODSEQ \"/flags/\\\\draft\" All 620162338",
       "A1 SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338"},
      {"A1 SEARCH HEADER Message-ID \"<x@y>\"", "A1 SEARCH HEADER Message-ID <x@y>"},
      {"A1 SEARCH HEADER \"X-Spam\" \"\"", "A1 SEARCH HEADER X-Spam \"\""},
      {"A1 SEARCH LARGER 1000 SMALLER 2000", "A1 SEARCH LARGER 1000 SMALLER 2000"},
      {"A1 SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED "
       "UNDRAFT UNFLAGGED UNSEEN",
       "A1 SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED "
       "UNDRAFT UNFLAGGED UNSEEN"},
      {"A1 SEARCH bcc a body b cc c from d subject e text f to g",
       "A1 SEARCH BCC a BODY b CC c FROM d SUBJECT e TEXT f TO g"},
      {"A1 SEARCH BEFORE 1-Jan-2020 ON \"02-Feb-2020\" SINCE 3-mar-2020 SENTBEFORE 4-Apr-2020 "
       "SENTON 5-May-2020 SENTSINCE 29-Feb-2024",
       "A1 SEARCH BEFORE 1-Jan-2020 ON 2-Feb-2020 SINCE 3-Mar-2020 SENTBEFORE 4-Apr-2020 "
       "SENTON 5-May-2020 SENTSINCE 29-Feb-2024"},
      {"A1 SEARCH KEYWORD $Forwarded UNKEYWORD $Junk",
       "A1 SEARCH KEYWORD $Forwarded UNKEYWORD $Junk"},
      {"A1 SEARCH YOUNGER 3600 OLDER 60", "A1 SEARCH YOUNGER 3600 OLDER 60"},
      {"A1 SEARCH UID 1,3:5,*", "A1 SEARCH UID 1,3:5,*"},
      {"A1 SEARCH 2:4,7", "A1 SEARCH 2:4,7"},
      {"A1 SEARCH ((SEEN))", "A1 SEARCH ((SEEN))"},
      {"A1 SEARCH NOT NOT OR SEEN OR DRAFT (DELETED FLAGGED)",
       "A1 SEARCH NOT NOT OR SEEN OR DRAFT (DELETED FLAGGED)"},
      {"A1 SEARCH", "A1 BAD Missing argument"},
      {"A1 SEARCH ", "A1 BAD Missing search key"},
      {"A1 SEARCH FOO", "A1 BAD Unknown search key"},
      {"A1 SEARCH SEEN  DRAFT", "A1 BAD Invalid search key"},
      {"A1 SEARCH SINCE 30-Feb-2020", "A1 BAD Invalid date"},
      {"A1 SEARCH SINCE 29-Feb-2023", "A1 BAD Invalid date"},
      {"A1 SEARCH SINCE 1-Foo-2020", "A1 BAD Invalid date"},
      {"A1 SEARCH SINCE 1-Jan-20", "A1 BAD Invalid date"},
      {"A1 SEARCH SINCE 123-Jan-2020", "A1 BAD Invalid date"},
      {"A1 SEARCH SINCE", "A1 BAD Missing argument"},
      {"A1 SEARCH OR SEEN", "A1 BAD Missing argument"},
      {"A1 SEARCH NOT", "A1 BAD Missing argument"},
      {"A1 SEARCH (SEEN", "A1 BAD Invalid arguments"},
      {"A1 SEARCH ()", "A1 BAD Invalid search key"},
      {"A1 SEARCH SEEN)", "A1 BAD Invalid arguments"},
      {"A1 SEARCH LARGER x", "A1 BAD Invalid number"},
      {"A1 SEARCH LARGER 99999999999999999999", "A1 BAD Invalid number"},
      {"A1 SEARCH YOUNGER 0", "A1 BAD Invalid number"},
      {"A1 SEARCH UID 0", "A1 BAD Invalid sequence set"},
      {"A1 SEARCH UID", "A1 BAD Missing argument"},
      {"A1 SEARCH 1:", "A1 BAD Invalid sequence set"},
      {"A1 SEARCH 1,,2", "A1 BAD Invalid sequence set"},
      {"A1 SEARCH $,1", "A1 BAD Invalid sequence set"},
      {"A1 SEARCH KEYWORD \\Seen", "A1 BAD Invalid keyword"},
      {"A1 SEARCH HEADER Subject", "A1 BAD Missing argument"},
      {"A1 SEARCH RETURN (FOO) ALL", "A1 BAD Unknown SEARCH return option"},
      {"A1 SEARCH RETURN (MIN)", "A1 BAD Missing argument"},
      {"A1 SEARCH CHARSET", "A1 BAD Missing argument"},
      {"A1 SEARCH CHARSET UTF-8", "A1 BAD Missing argument"},
      {"A1 SEARCH MODSEQ \"/flags/\\\\draft\" foo 5", "A1 BAD Invalid MODSEQ entry type"},
      {"A1 SEARCH MODSEQ \"/other\" all 5", "A1 BAD Invalid MODSEQ entry name"},
      {"A1 SEARCH MODSEQ \"/flags/\" all 5", "A1 BAD Invalid MODSEQ entry name"},
  });
}

TEST(CommandGrammarTest, Fetch) {
  RunTable({
      {"A1 FETCH 1 ALL", "A1 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"},
      {"A1 FETCH 1 fast", "A1 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)"},
      {"A1 FETCH 1 FULL", "A1 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)"},
      {"A1 FETCH * FLAGS", "A1 FETCH * (FLAGS)"},
      {"A1 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])",
       "A1 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])"},
      {"A1 FETCH 1:* (ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT "
       "BODY BODYSTRUCTURE UID MODSEQ)",
       "A1 FETCH 1:* (ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT "
       "BODY BODYSTRUCTURE UID MODSEQ)"},
      {"A1 FETCH 1 body[]", "A1 FETCH 1 (BODY[])"},
      {"A1 FETCH 1 BODY.PEEK[1.2.3.MIME]", "A1 FETCH 1 (BODY.PEEK[1.2.3.MIME])"},
      {"A1 FETCH 1 (BODY[TEXT]<0.2048> BODY.PEEK[1.HEADER] BODY[2.TEXT] BODY[1] "
       "BODY[HEADER.FIELDS.NOT (Received)])",
       "A1 FETCH 1 (BODY[TEXT]<0.2048> BODY.PEEK[1.HEADER] BODY[2.TEXT] BODY[1] "
       "BODY[HEADER.FIELDS.NOT (Received)])"},
      {"A1 FETCH 1 body.peek[1.header.fields (x-a \"X B\")]<10.20>",
       "A1 FETCH 1 (BODY.PEEK[1.HEADER.FIELDS (x-a \"X B\")]<10.20>)"},
      {"A1 FETCH 1 (BINARY[1.2]<0.100> BINARY.PEEK[] BINARY.SIZE[3])",
       "A1 FETCH 1 (BINARY[1.2]<0.100> BINARY.PEEK[] BINARY.SIZE[3])"},
      {"A1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)",
       "A1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)"},
      {"A1 FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)", "A1 FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)"},
      {"A1 FETCH 1:* FLAGS (changedsince 7)", "A1 FETCH 1:* (FLAGS) (CHANGEDSINCE 7)"},
      {"A1 FETCH 1 (BODY[HEADER.FIELDS ({4+}\r\nDate)])",
       "A1 FETCH 1 (BODY[HEADER.FIELDS (Date)])"},
      {"A1 UID FETCH 4294967295 UID", "A1 UID FETCH 4294967295 (UID)"},
      {"A1 FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
       "A1 BAD VANISHED needs UID FETCH and CHANGEDSINCE"},
      {"A1 UID FETCH 1:* (FLAGS) (VANISHED)", "A1 BAD VANISHED needs UID FETCH and CHANGEDSINCE"},
      {"A1 FETCH 1 (FLAGS) (CHANGEDSINCE 0)", "A1 BAD Invalid number"},
      {"A1 FETCH 1 (FLAGS) (FOO)", "A1 BAD Unknown FETCH modifier"},
      {"A1 FETCH 1 (FLAGS) ()", "A1 BAD Unknown FETCH modifier"},
      {"A1 FETCH 1 ()", "A1 BAD Unknown FETCH item"},
      {"A1 FETCH 1 (ALL)", "A1 BAD Unknown FETCH item"},
      {"A1 FETCH 1 FOO", "A1 BAD Unknown FETCH item"},
      {"A1 FETCH 1 (FLAGS", "A1 BAD Invalid arguments"},
      {"A1 FETCH 1", "A1 BAD Missing argument"},
      {"A1 FETCH 1 ", "A1 BAD Missing argument"},
      {"A1 FETCH 1 BODY[MIME]", "A1 BAD Invalid section"},
      {"A1 FETCH 1 BODY[0]", "A1 BAD Invalid number"},
      {"A1 FETCH 1 BODY[1.]", "A1 BAD Invalid section"},
      {"A1 FETCH 1 BODY[1.FOO]", "A1 BAD Invalid section"},
      {"A1 FETCH 1 BODY[TEXT", "A1 BAD Invalid section"},
      {"A1 FETCH 1 BINARY[HEADER]", "A1 BAD Invalid section"},
      {"A1 FETCH 1 BINARY[1.TEXT]", "A1 BAD Invalid section"},
      {"A1 FETCH 1 BINARY.SIZE[1]<0.5>", "A1 BAD Invalid arguments"},
      {"A1 FETCH 1 BODY[TEXT]<0.0>", "A1 BAD Invalid number"},
      {"A1 FETCH 1 BODY[TEXT]<5>", "A1 BAD Invalid partial"},
      {"A1 FETCH 1 BODY.PEEK", "A1 BAD Invalid section"},
      {"A1 FETCH 1 BODY[HEADER.FIELDS ()]", "A1 BAD Invalid string"},
      {"A1 FETCH 1 BODY[HEADER.FIELDS]", "A1 BAD Invalid arguments"},
      {"A1 FETCH 0 FLAGS", "A1 BAD Invalid sequence set"},
      {"A1 FETCH 1:4294967296 FLAGS", "A1 BAD Invalid sequence set"},
      {"A1 FETCH 01 FLAGS", "A1 BAD Invalid sequence set"},
      {"A1 FETCH FLAGS", "A1 BAD Invalid sequence set"},
  });
}

TEST(CommandGrammarTest, StoreCopyMoveExpunge) {
  RunTable({
      {"A1 STORE 2:4 +FLAGS (\\Deleted)", "A1 STORE 2:4 +FLAGS (\\Deleted)"},
      {"A1 STORE 1 FLAGS.SILENT (\\Seen $Label1)", "A1 STORE 1 FLAGS.SILENT (\\Seen $Label1)"},
      {"A1 STORE 1 -flags.silent \\seen \\answered",
       "A1 STORE 1 -FLAGS.SILENT (\\Seen \\Answered)"},
      {"A1 STORE 1 +FLAGS \\Flagged", "A1 STORE 1 +FLAGS (\\Flagged)"},
      {"A1 STORE 1 FLAGS ()", "A1 STORE 1 FLAGS ()"},
      {"A1 STORE 1 FLAGS (\\Draft \\DELETED)", "A1 STORE 1 FLAGS (\\Draft \\Deleted)"},
      {"A1 UID STORE 1:* (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)",
       "A1 UID STORE 1:* (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)"},
      {"A1 STORE 1 (UNCHANGEDSINCE 0) FLAGS ()", "A1 STORE 1 (UNCHANGEDSINCE 0) FLAGS ()"},
      {"A1 STORE 1 +FLAGS (\\Recent)", "A1 BAD Invalid system flag"},
      {"A1 STORE 1 +FLAGS (\\*)", "A1 BAD Invalid system flag"},
      {"A1 STORE 1 +FLAGS (\\Foo)", "A1 BAD Invalid system flag"},
      {"A1 STORE 1 +FLAGS (a(b))", "A1 BAD Invalid flag list"},
      {"A1 STORE 1 *FLAGS (\\Seen)", "A1 BAD Invalid STORE data item"},
      {"A1 STORE 1 LABELS (x)", "A1 BAD Invalid STORE data item"},
      {"A1 STORE 1 FLAGS.NOISY (x)", "A1 BAD Invalid STORE data item"},
      {"A1 STORE 1 +FLAGS", "A1 BAD Missing argument"},
      {"A1 STORE 1 +FLAGS ", "A1 BAD Invalid flag"},
      {"A1 STORE 1 (FOO 1) FLAGS ()", "A1 BAD Unknown STORE modifier"},
      {"A1 STORE 1 (UNCHANGEDSINCE x) FLAGS ()", "A1 BAD Invalid number"},
      {"A1 STORE", "A1 BAD Missing argument"},
      {"A1 COPY 2:4 MEETING", "A1 COPY 2:4 \"MEETING\""},
      {"A1 UID COPY 1 inbox", "A1 UID COPY 1 \"INBOX\""},
      {"A1 MOVE 1:3 \"Deleted Items\"", "A1 MOVE 1:3 \"Deleted Items\""},
      {"A1 UID MOVE 42:69 foo", "A1 UID MOVE 42:69 \"foo\""},
      {"A1 COPY 1", "A1 BAD Missing argument"},
      {"A1 COPY x y", "A1 BAD Invalid sequence set"},
      {"A1 UID EXPUNGE 3000:3002", "A1 UID EXPUNGE 3000:3002"},
      {"A1 UID EXPUNGE", "A1 BAD Missing argument"},
  });
}

TEST(CommandGrammarTest, Utf8AcceptMailboxNames) {
  RunOptions run = LiteralPlus();
  run.options.utf8_accept = true;
  RunTable(
      {
          {"A1 SELECT \"caf\xc3\xa9\"", "A1 SELECT \"caf\xc3\xa9\""},
          // With UTF8=ACCEPT, "&" is just a character.
          {"A1 SELECT R&-D", "A1 SELECT \"R&-D\""},
          {"A1 CREATE &U,BTFw-", "A1 CREATE \"&U,BTFw-\""},
          {"A1 SELECT \"\xff\"", "A1 BAD Mailbox name is not valid UTF-8"},
          {"A1 LIST \"\" \"\xc3\"", "A1 BAD Mailbox name is not valid UTF-8"},
      },
      run);
}

// The typed values, not only their text.
ParseResult ParseOne(std::string_view input, ParserOptions options = {}) {
  options.literal_plus = true;
  CommandParser parser({}, options);
  return parser.Feed(input);
}

Command ParseCommand(std::string_view input) {
  ParseResult r = ParseOne(input);
  EXPECT_TRUE(std::holds_alternative<Command>(r)) << input;
  if (!std::holds_alternative<Command>(r)) return {};
  return std::get<Command>(std::move(r));
}

TEST(CommandGrammarTest, TypedLogin) {
  Command c = ParseCommand("a001 login {4+}\r\nfred \"sec\\\"ret\"\r\n");
  EXPECT_EQ(c.tag, "a001");
  EXPECT_FALSE(c.uid);
  EXPECT_EQ(c.name(), "LOGIN");
  EXPECT_EQ(c.args, CommandArgs(LoginArgs{"fred", "sec\"ret"}));
}

TEST(CommandGrammarTest, TypedAuthenticate) {
  EXPECT_EQ(ParseCommand("A AUTHENTICATE plain AGZyZWQAc2VjcmV0\r\n").args,
            CommandArgs(AuthenticateArgs{"PLAIN", std::string("\0fred\0secret", 12)}));
  EXPECT_EQ(ParseCommand("A AUTHENTICATE plain =\r\n").args,
            CommandArgs(AuthenticateArgs{"PLAIN", std::string()}));
  EXPECT_EQ(ParseCommand("A AUTHENTICATE EXTERNAL\r\n").args,
            CommandArgs(AuthenticateArgs{"EXTERNAL", std::nullopt}));
}

TEST(CommandGrammarTest, TypedId) {
  IdArgs expected;
  expected.params.emplace();
  expected.params->push_back({"name", "Thunderbird"});
  expected.params->push_back({"os", std::nullopt});
  EXPECT_EQ(ParseCommand("A ID (\"name\" \"Thunderbird\" \"os\" NIL)\r\n").args,
            CommandArgs(expected));
  EXPECT_EQ(ParseCommand("A ID NIL\r\n").args, CommandArgs(IdArgs{}));
}

TEST(CommandGrammarTest, TypedSelectQresync) {
  Command c = ParseCommand(
      "A02 SELECT INBOX (QRESYNC (67890007 90060115194045000 "
      "41:211,214:541 (1,3:4,10 41,43:44,50)))\r\n");
  SelectArgs expected;
  expected.mailbox = "INBOX";
  QresyncParams q;
  q.uid_validity = 67890007;
  q.mod_seq = 90060115194045000ull;
  q.known_uids = SequenceSet{false, {{41, 211}, {214, 541}}};
  q.seq_match = {SequenceSet{false, {{1, 1}, {3, 4}, {10, 10}}},
                 SequenceSet{false, {{41, 41}, {43, 44}, {50, 50}}}};
  expected.qresync = q;
  EXPECT_EQ(c.args, CommandArgs(expected));
  EXPECT_EQ(c.name(), "SELECT");
  SelectArgs examine;
  examine.mailbox = "Sent";
  examine.read_only = true;
  examine.condstore = true;
  Command e = ParseCommand("A EXAMINE Sent (CONDSTORE)\r\n");
  EXPECT_EQ(e.args, CommandArgs(examine));
  EXPECT_EQ(e.name(), "EXAMINE");
}

TEST(CommandGrammarTest, TypedList) {
  ListArgs expected;
  expected.reference = "";
  expected.patterns = {"INBOX*", "Archive/%"};
  expected.extended = true;
  expected.select_subscribed = true;
  expected.select_recursive_match = true;
  expected.return_children = true;
  expected.return_status = std::vector<StatusItem>{StatusItem::kUidNext, StatusItem::kSize};
  EXPECT_EQ(ParseCommand("A LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX* Archive/%) RETURN "
                         "(CHILDREN STATUS (UIDNEXT SIZE))\r\n")
                .args,
            CommandArgs(expected));
  ListArgs plain;
  plain.reference = "~/Mail";
  plain.patterns = {"%"};
  EXPECT_EQ(ParseCommand("A LIST ~/Mail %\r\n").args, CommandArgs(plain));
}

TEST(CommandGrammarTest, TypedAppend) {
  Command c = ParseCommand(
      "A APPEND Drafts (\\Draft $MDNSent) \"05-Mar-2024 13:14:15 +0100\" {7+}\r\nSubject\r\n");
  AppendArgs expected;
  expected.mailbox = "Drafts";
  AppendMessage m;
  m.flags = {"\\Draft", "$MDNSent"};
  m.internal_date = 1709644455 - 3600;  // 2024-03-05 13:14:15 +0100
  m.zone_offset_minutes = 60;
  m.data = "Subject";
  expected.messages.push_back(m);
  EXPECT_EQ(c.args, CommandArgs(expected));
}

TEST(CommandGrammarTest, TypedSearchTree) {
  Command c = ParseCommand(
      "A UID SEARCH RETURN (COUNT) CHARSET UTF-8 OR (FROM alice SINCE 1-Feb-1994) NOT UID 1:* "
      "HEADER X-Priority 1 LARGER 100\r\n");
  EXPECT_TRUE(c.uid);
  const auto& args = std::get<SearchArgs>(c.args);
  EXPECT_EQ(args.return_options, std::vector<SearchReturnOption>{SearchReturnOption::kCount});
  EXPECT_EQ(args.charset, "UTF-8");

  SearchKey from;
  from.type = SearchKeyType::kFrom;
  from.value = "alice";
  SearchKey since;
  since.type = SearchKeyType::kSince;
  since.date = {1994, 2, 1};
  SearchKey group;
  group.type = SearchKeyType::kAnd;
  group.children = {from, since};
  SearchKey uid;
  uid.type = SearchKeyType::kUid;
  uid.set = SequenceSet{false, {{1, SequenceSet::kStar}}};
  SearchKey not_uid;
  not_uid.type = SearchKeyType::kNot;
  not_uid.children = {uid};
  SearchKey either;
  either.type = SearchKeyType::kOr;
  either.children = {group, not_uid};
  SearchKey header;
  header.type = SearchKeyType::kHeader;
  header.field = "X-Priority";
  header.value = "1";
  SearchKey larger;
  larger.type = SearchKeyType::kLarger;
  larger.number = 100;
  SearchKey root;
  root.type = SearchKeyType::kAnd;
  root.children = {either, header, larger};
  EXPECT_EQ(args.key, root);
}

TEST(CommandGrammarTest, TypedFetch) {
  Command c = ParseCommand(
      "A UID FETCH 1:5,* (UID BODY.PEEK[2.1.HEADER.FIELDS (From Subject)]<0.512> BINARY[3] "
      "BINARY.SIZE[]) (CHANGEDSINCE 99 VANISHED)\r\n");
  FetchArgs expected;
  expected.set = SequenceSet{false, {{1, 5}, {SequenceSet::kStar, SequenceSet::kStar}}};
  FetchItem uid;
  uid.type = FetchItemType::kUid;
  FetchItem body;
  body.type = FetchItemType::kBodySection;
  body.peek = true;
  body.section.part = {2, 1};
  body.section.text = SectionText::kHeaderFields;
  body.section.header_fields = {"From", "Subject"};
  body.partial = Partial{0, 512};
  FetchItem binary;
  binary.type = FetchItemType::kBinary;
  binary.section.part = {3};
  FetchItem binary_size;
  binary_size.type = FetchItemType::kBinarySize;
  expected.items = {uid, body, binary, binary_size};
  expected.changed_since = 99;
  expected.vanished = true;
  EXPECT_EQ(c.args, CommandArgs(expected));
}

TEST(CommandGrammarTest, TypedStoreCopyMove) {
  StoreArgs store;
  store.set = SequenceSet{false, {{2, 4}}};
  store.operation = StoreOperation::kRemove;
  store.silent = true;
  store.flags = {"\\Seen", "NonJunk"};
  store.unchanged_since = 12;
  EXPECT_EQ(ParseCommand("A STORE 2:4 (UNCHANGEDSINCE 12) -FLAGS.SILENT (\\SEEN NonJunk)\r\n").args,
            CommandArgs(store));
  EXPECT_EQ(ParseCommand("A COPY $ Archive\r\n").args,
            CommandArgs(CopyArgs{SequenceSet{true, {}}, "Archive"}));
  Command move = ParseCommand("A UID MOVE 7 Junk\r\n");
  EXPECT_TRUE(move.uid);
  EXPECT_EQ(move.args, CommandArgs(MoveArgs{SequenceSet{false, {{7, 7}}}, "Junk"}));
}

TEST(CommandGrammarTest, TypedCreateStatusQuota) {
  EXPECT_EQ(ParseCommand("A CREATE Sent (USE (\\sent))\r\n").args,
            CommandArgs(CreateArgs{"Sent", {"\\Sent"}}));
  EXPECT_EQ(ParseCommand("A STATUS inbox (UNSEEN HIGHESTMODSEQ)\r\n").args,
            CommandArgs(StatusArgs{"INBOX", {StatusItem::kUnseen, StatusItem::kHighestModSeq}}));
  EXPECT_EQ(ParseCommand("A SETQUOTA \"\" (STORAGE 1024)\r\n").args,
            CommandArgs(SetQuotaArgs{"", {{"STORAGE", 1024}}}));
  EXPECT_EQ(ParseCommand("A UID EXPUNGE 1:3\r\n").args,
            CommandArgs(ExpungeArgs{SequenceSet{false, {{1, 3}}}}));
  EXPECT_EQ(ParseCommand("A ENABLE utf8=accept\r\n").args,
            CommandArgs(EnableArgs{{"UTF8=ACCEPT"}}));
}

TEST(CommandGrammarTest, TypedErrors) {
  ParseResult r = ParseOne("A7 FOO\r\n");
  const auto* e = std::get_if<ParseError>(&r);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->tag, "A7");
  EXPECT_EQ(e->kind, ParseErrorKind::kUnknownCommand);
  EXPECT_EQ(e->recovery, ErrorRecovery::kNone);
  EXPECT_EQ(e->Reply(), "A7 BAD Unknown command\r\n");

  r = ParseOne("*bad NOOP\r\n");
  e = std::get_if<ParseError>(&r);
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->tag.has_value());
  EXPECT_EQ(e->Reply(), "* BAD Invalid tag\r\n");

  r = ParseOne("A SELECT &-&\r\n");
  e = std::get_if<ParseError>(&r);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->kind, ParseErrorKind::kInvalidMailboxName);
}

// FormatCommand output parses back to the same command (with UTF8=ACCEPT, since it writes
// mailbox names as UTF-8).
TEST(CommandGrammarTest, FormatCommandRoundTrips) {
  const char* inputs[] = {
      "A1 LOGIN fred \"sec ret\"",
      "A1 SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe- (CONDSTORE QRESYNC (1 2 3:4 (1 2)))",
      "A1 LIST (SUBSCRIBED) \"\" (% *) RETURN (STATUS (MESSAGES))",
      "A1 STATUS INBOX (MESSAGES SIZE)",
      "A1 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nhello",
      "A1 UID SEARCH RETURN (MIN) CHARSET UTF-8 OR (FROM \"a b\" NOT SEEN) HEADER X y MODSEQ "
      "\"/flags/\\\\seen\" priv 5",
      "A1 UID FETCH 1:* (BODY.PEEK[1.HEADER.FIELDS (A B)]<1.2> BINARY.SIZE[1]) (CHANGEDSINCE 5 "
      "VANISHED)",
      "A1 STORE 1 (UNCHANGEDSINCE 3) +FLAGS.SILENT (\\Seen kw)",
      "A1 ID (\"a\" NIL)",
      "A1 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0",
      "A1 SETQUOTA r (STORAGE 5)",
  };
  for (const char* input : inputs) {
    const ParseResult first = ParseOne(std::string(input) + "\r\n");
    ASSERT_TRUE(std::holds_alternative<Command>(first)) << input;
    const std::string text = FormatCommand(std::get<Command>(first));
    ParserOptions utf8;
    utf8.utf8_accept = true;
    // FormatCommand writes synchronizing literals; turn them into LITERAL+ ones.
    std::string wire;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '}' && i + 1 < text.size() && text[i + 1] == '\r') wire.push_back('+');
      wire.push_back(text[i]);
    }
    const ParseResult second = ParseOne(wire + "\r\n", utf8);
    ASSERT_TRUE(std::holds_alternative<Command>(second)) << text;
    EXPECT_EQ(std::get<Command>(second), std::get<Command>(first)) << text;
  }
}

}  // namespace
}  // namespace cas::imap
