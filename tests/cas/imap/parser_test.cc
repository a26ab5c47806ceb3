// CommandParser framing: chunking, literals and continuations, LITERAL+/LITERAL-, pipelining,
// limits, resynchronisation, IDLE and AUTHENTICATE continuation lines.
#include "cas/imap/codec/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/cas/imap/parser_test_util.h"

namespace cas::imap {
namespace {

using testing::RunAllSplits;
using testing::RunByteAtATime;
using testing::RunChunks;
using testing::RunOptions;
using testing::RunWhole;
using Events = std::vector<std::string>;
using namespace std::string_literals;

RunOptions WithLiteralPlus() {
  RunOptions run;
  run.options.literal_plus = true;
  return run;
}

TEST(CommandParserTest, NeedsMoreInputUntilTheLineEnds) {
  CommandParser parser;
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Feed("A1 NO")));
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Feed("OP\r")));
  ParseResult r = parser.Feed("\n");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<Command>(r).args, CommandArgs(NoopArgs{}));
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Next()));
  EXPECT_EQ(parser.buffered_input_bytes(), 0u);
  EXPECT_EQ(parser.pending_command_bytes(), 0u);
}

TEST(CommandParserTest, PipelinedCommandsInOneChunk) {
  CommandParser parser;
  ParseResult r = parser.Feed("A1 NOOP\r\nA2 CAPABILITY\r\nA3 LOGOUT\r\nA4 NO");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<Command>(r).tag, "A1");
  // The rest stays buffered for the next call.
  EXPECT_EQ(parser.buffered_input_bytes(), 31u);
  r = parser.Next();
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<Command>(r).tag, "A2");
  r = parser.Next();
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<Command>(r).tag, "A3");
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Next()));
  r = parser.Feed("OP\r\n");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<Command>(r).tag, "A4");

  EXPECT_EQ(RunAllSplits("A1 NOOP\r\nA2 LOGIN a b\r\nA3 SELECT inbox\r\nA4 FETCH 1 FLAGS\r\n"),
            (Events{"A1 NOOP", "A2 LOGIN a b", "A3 SELECT \"INBOX\"", "A4 FETCH 1 (FLAGS)"}));
}

TEST(CommandParserTest, BareLineFeedsAndEmptyLines) {
  EXPECT_EQ(RunAllSplits("\r\n\r\nA1 NOOP\nA2 NOOP\r\n\n"), (Events{"A1 NOOP", "A2 NOOP"}));
}

TEST(CommandParserTest, SynchronizingLiteralContinuationFlow) {
  CommandParser parser;
  ParseResult r = parser.Feed("A1 LOGIN {4}\r\n");
  ASSERT_TRUE(std::holds_alternative<ContinuationNeeded>(r));
  EXPECT_EQ(std::get<ContinuationNeeded>(r).literal_size, 4u);
  EXPECT_EQ(std::get<ContinuationNeeded>(r).tag, "A1");
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Next()));
  // The session now sends "+ Ready" and the client sends the literal.
  r = parser.Feed("fred {6}\r\n");
  ASSERT_TRUE(std::holds_alternative<ContinuationNeeded>(r));
  EXPECT_EQ(std::get<ContinuationNeeded>(r).literal_size, 6u);
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Feed("sec")));
  r = parser.Feed("ret\r\n");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<Command>(r).args, CommandArgs(LoginArgs{"fred", "secret"}));

  // The same stream in any chunking gives the same events.
  EXPECT_EQ(RunAllSplits("A1 LOGIN {4}\r\nfred {6}\r\nsecret\r\nA2 NOOP\r\n"),
            (Events{"+ 4", "+ 6", "A1 LOGIN fred secret", "A2 NOOP"}));
}

TEST(CommandParserTest, LiteralBytesAreNeverInterpreted) {
  // A literal may hold CRLF, braces, quotes and what looks like commands.
  const std::string input = "A1 LOGIN {19}\r\nA2 LOGOUT\r\n\"{5}\r\n}\" x\r\n";
  EXPECT_EQ(RunAllSplits(input), (Events{"+ 19", "A1 LOGIN {19}\r\nA2 LOGOUT\r\n\"{5}\r\n}\" x"}));
}

TEST(CommandParserTest, ZeroLengthLiterals) {
  EXPECT_EQ(RunAllSplits("A1 LOGIN {0}\r\n {0}\r\n\r\n"),
            (Events{"+ 0", "+ 0", "A1 LOGIN \"\" \"\""}));
  EXPECT_EQ(RunAllSplits("A1 LOGIN {0+}\r\n {0+}\r\n\r\n", WithLiteralPlus()),
            (Events{"A1 LOGIN \"\" \"\""}));
}

TEST(CommandParserTest, AppendWithSynchronizingLiteral) {
  const std::string message = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
  const std::string input = "A1 APPEND INBOX (\\Seen) {" + std::to_string(message.size()) +
                            "}\r\n" + message + "\r\nA2 NOOP\r\n";
  EXPECT_EQ(RunAllSplits(input), (Events{"+ " + std::to_string(message.size()),
                                         "A1 APPEND \"INBOX\" (\\Seen) {" +
                                             std::to_string(message.size()) + "}\r\n" + message,
                                         "A2 NOOP"}));
}

TEST(CommandParserTest, LiteralMinusAllowsSmallNonSynchronizingLiterals) {
  // Without LITERAL+, {n+} is fine up to 4096 bytes (RFC 7888 LITERAL-).
  const std::string ok(4096, 'x');
  EXPECT_EQ(RunWhole("A1 LOGIN fred {4096+}\r\n" + ok + "\r\n"),
            (Events{"A1 LOGIN fred {4096}\r\n" + ok}));
  // One more byte is refused with BAD [TOOBIG]; the literal is read and thrown away, and the
  // next command parses.
  const std::string big(4097, 'x');
  const std::string input = "A1 LOGIN fred {4097+}\r\n" + big + "\r\nA2 NOOP\r\n";
  EXPECT_EQ(
      RunWhole(input),
      (Events{"A1 BAD [TOOBIG] Non-synchronizing literal too large {discard-literal}", "A2 NOOP"}));
  EXPECT_EQ(RunByteAtATime(input), RunWhole(input));
  // With LITERAL+ the same literal is accepted.
  EXPECT_EQ(RunWhole(input, WithLiteralPlus()),
            (Events{"A1 LOGIN fred {4097}\r\n" + big, "A2 NOOP"}));
}

TEST(CommandParserTest, RejectedLiteralIsDiscardedWithTheRestOfTheCommand) {
  // The discarded command continues after its literal, with another literal.
  RunOptions run;
  run.limits.max_literal_bytes = 10;
  run.options.literal_plus = true;
  const std::string input =
      "A1 LOGIN {11+}\r\nhello world {3+}\r\nabc\r\nA2 LOGIN {3+}\r\nabc x\r\n";
  EXPECT_EQ(RunAllSplits(input, run),
            (Events{"A1 BAD [TOOBIG] Literal too large {discard-literal}", "A2 LOGIN abc x"}));
}

TEST(CommandParserTest, OversizedSynchronizingLiteralGetsNoContinuation) {
  RunOptions run;
  run.limits.max_literal_bytes = 100;
  run.limits.max_append_literal_bytes = 1000;
  // No "+" is sent, so the client does not send the literal: the next line is a command.
  EXPECT_EQ(RunAllSplits("A1 LOGIN {101}\r\nA2 NOOP\r\n", run),
            (Events{"A1 BAD [TOOBIG] Literal too large", "A2 NOOP"}));
  // APPEND uses the APPENDLIMIT and answers NO [TOOBIG] (RFC 7889).
  EXPECT_EQ(RunAllSplits("A1 APPEND INBOX {1000}\r\n", run), (Events{"+ 1000"}));
  EXPECT_EQ(RunAllSplits("A1 APPEND INBOX {1001}\r\nA2 NOOP\r\n", run),
            (Events{"A1 NO [TOOBIG] Message too large", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("a1 uid append INBOX {5}\r\n", run), (Events{"a1 BAD Unknown command"}));
  // A count beyond 64 bits.
  EXPECT_EQ(RunAllSplits("A1 LOGIN {99999999999999999999999}\r\nA2 NOOP\r\n", run),
            (Events{"A1 BAD [TOOBIG] Literal too large", "A2 NOOP"}));
}

TEST(CommandParserTest, TotalLiteralBytesPerCommandAreBounded) {
  RunOptions run;
  run.limits.max_append_literal_bytes = 100;
  run.limits.max_command_literal_bytes = 150;
  const std::string m(80, 'm');
  EXPECT_EQ(RunAllSplits("A1 APPEND INBOX {80}\r\n" + m + " {80}\r\n", run),
            (Events{"+ 80", "A1 NO [TOOBIG] Message too large"}));
}

TEST(CommandParserTest, NonSynchronizingLiteralTooLargeToDiscardClosesTheConnection) {
  RunOptions run = WithLiteralPlus();
  run.limits.max_literal_bytes = 100;
  run.limits.max_discard_literal_bytes = 1000;
  EXPECT_EQ(
      RunAllSplits("A1 LOGIN {1000+}\r\n" + std::string(1000, 'x') + " pw\r\nA2 NOOP\r\n", run),
      (Events{"A1 BAD [TOOBIG] Literal too large {discard-literal}", "A2 NOOP"}));
  const std::string input = "A1 LOGIN {1001+}\r\nA2 NOOP\r\nA3 NOOP\r\n";
  EXPECT_EQ(RunAllSplits(input, run), (Events{"A1 BAD [TOOBIG] Literal too large {close}"}));

  CommandParser parser(run.limits, run.options);
  ParseResult r = parser.Feed(input);
  ASSERT_TRUE(std::holds_alternative<ParseError>(r));
  EXPECT_TRUE(std::get<ParseError>(r).close_connection());
  EXPECT_TRUE(parser.closed());
  // Everything after is ignored and not even buffered.
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Feed("A4 NOOP\r\n")));
  EXPECT_EQ(parser.buffered_input_bytes(), 0u);
}

TEST(CommandParserTest, LiteralOnlyAcceptedForKnownCommands) {
  // A literal is announced for a command that does not exist or takes no arguments: no "+",
  // and a non-synchronizing literal is skipped.
  EXPECT_EQ(RunAllSplits("A1 FOO {5}\r\nA2 NOOP\r\n"),
            (Events{"A1 BAD Unknown command", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 FOO {5+}\r\nhello\r\nA2 NOOP\r\n"),
            (Events{"A1 BAD Unknown command {discard-literal}", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 NOOP {5}\r\nA2 NOOP\r\n"),
            (Events{"A1 BAD Invalid arguments", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("{5}\r\nA2 NOOP\r\n"), (Events{"* BAD Invalid tag", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 LOGIN{5}\r\nA2 NOOP\r\n"),
            (Events{"A1 BAD Invalid arguments", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 UID FETCH 1 {5}\r\n"), (Events{"+ 5"}));
}

TEST(CommandParserTest, LiteralHeaderInsideQuotesIsNotALiteral) {
  EXPECT_EQ(RunAllSplits("A1 LOGIN a \"b {5}\r\nA2 NOOP\r\n"),
            (Events{"A1 BAD Unterminated quoted string", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 LOGIN \"{5}\" \"\\\"{5}\"\r\n"),
            (Events{"A1 LOGIN \"{5}\" \"\\\"{5}\""}));
  // A quote that closes before the header.
  EXPECT_EQ(RunAllSplits("A1 LOGIN \"a\\\\\" {1}\r\nb\r\n"),
            (Events{"+ 1", "A1 LOGIN \"a\\\\\" b"}));
}

TEST(CommandParserTest, LongLineIsRejectedWithBoundedMemory) {
  ParserLimits limits;  // max_line_bytes = 10240
  CommandParser parser(limits);
  std::vector<std::string> events;
  const std::string chunk(1024, 'x');
  auto drain = [&](ParseResult r) {
    while (!std::holds_alternative<NeedMoreInput>(r)) {
      events.push_back(testing::Describe(r));
      r = parser.Next();
    }
    EXPECT_LE(parser.pending_command_bytes(), limits.max_line_bytes);
    EXPECT_LE(parser.allocated_bytes(), 3 * limits.max_line_bytes);
    EXPECT_EQ(parser.buffered_input_bytes(), 0u);
  };
  drain(parser.Feed("A1 LOGIN "));
  for (int i = 0; i < 100; ++i) drain(parser.Feed(chunk));  // 100 KB line.
  EXPECT_EQ(parser.pending_command_bytes(), 0u);            // Nothing kept while skipping.
  drain(parser.Feed(" x\r\nA2 NOOP\r\n"));
  EXPECT_EQ(events, (Events{"A1 BAD Command line too long {skip-line}", "A2 NOOP"}));
  EXPECT_LE(parser.allocated_bytes(), 2048u);

  // The same in one piece and one byte at a time.
  const std::string input = "A1 LOGIN " + std::string(100 * 1024, 'x') + "\r\nA2 NOOP\r\n";
  EXPECT_EQ(RunWhole(input), events);
  EXPECT_EQ(RunByteAtATime(input), events);
}

TEST(CommandParserTest, MemoryIsReleasedAfterALargeCommand) {
  CommandParser parser;
  const std::string message(5 * 1024 * 1024, 'm');
  ParseResult r = parser.Feed("A1 APPEND INBOX {" + std::to_string(message.size()) + "}\r\n");
  ASSERT_TRUE(std::holds_alternative<ContinuationNeeded>(r));
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Feed(message)));
  EXPECT_GE(parser.pending_command_bytes(), message.size());
  r = parser.Feed("\r\n");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<AppendArgs>(std::get<Command>(r).args).messages[0].data.size(),
            message.size());
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Next()));
  EXPECT_LE(parser.allocated_bytes(), 2048u);
}

TEST(CommandParserTest, LineLimitIsExact) {
  RunOptions run;
  run.limits.max_line_bytes = 20;
  EXPECT_EQ(RunAllSplits("A1 LOGIN fred secre\r\n", run), (Events{"A1 LOGIN fred secre"}));
  EXPECT_EQ(RunAllSplits("A1 LOGIN fred secret\r\n", run),
            (Events{"A1 BAD Command line too long {skip-line}"}));
  // The limit covers every line of a command, not the literal contents.
  EXPECT_EQ(RunAllSplits("A1 LOGIN {30}\r\n" + std::string(30, 'u') + " x\r\n", run),
            (Events{"+ 30", "A1 LOGIN " + std::string(30, 'u') + " x"}));
  EXPECT_EQ(RunAllSplits("A1 LOGIN {1}\r\nu 0123456789\r\n", run),
            (Events{"+ 1", "A1 BAD Command line too long {skip-line}"}));
  // No tag seen yet: untagged.
  EXPECT_EQ(RunAllSplits(std::string(25, 'a') + "\r\nA2 NOOP\r\n", run),
            (Events{"* BAD Command line too long {skip-line}", "A2 NOOP"}));
}

TEST(CommandParserTest, SkippedLineEndingInANonSynchronizingLiteralSkipsTheLiteralToo) {
  RunOptions run = WithLiteralPlus();
  run.limits.max_line_bytes = 100;
  const std::string input = "A1 LOGIN " + std::string(200, 'x') + " {5+}\r\nA9 NO\r\nA2 NOOP\r\n";
  EXPECT_EQ(RunAllSplits(input, run),
            (Events{"A1 BAD Command line too long {skip-line}", "A2 NOOP"}));
  // A synchronizing literal at the end is never sent (the client saw BAD first).
  const std::string sync = "A1 LOGIN " + std::string(200, 'x') + " {5}\r\nA2 NOOP\r\n";
  EXPECT_EQ(RunAllSplits(sync, run),
            (Events{"A1 BAD Command line too long {skip-line}", "A2 NOOP"}));
  // Inside quotes it is no literal.
  const std::string quoted = "A1 LOGIN \"" + std::string(200, 'x') + " {5+}\r\nA2 NOOP\r\n";
  EXPECT_EQ(RunAllSplits(quoted, run),
            (Events{"A1 BAD Command line too long {skip-line}", "A2 NOOP"}));
  // An absurd count at the end of a skipped line closes the connection.
  const std::string absurd =
      "A1 LOGIN " + std::string(200, 'x') + " {" + std::string(40, '9') + "+}\r\nA2 NOOP\r\n";
  EXPECT_EQ(RunAllSplits(absurd, run), (Events{"A1 BAD Command line too long {skip-line}",
                                               "* BAD [TOOBIG] Literal too large {close}"}));
}

TEST(CommandParserTest, NestingTooDeep) {
  std::string deep = "A1 SEARCH ";
  for (int i = 0; i < 21; ++i) deep += "(";
  deep += "SEEN";
  for (int i = 0; i < 21; ++i) deep += ")";
  EXPECT_EQ(RunAllSplits(deep + "\r\nA2 NOOP\r\n"), (Events{"A1 BAD Nesting too deep", "A2 NOOP"}));
  std::string nots = "A1 SEARCH ";
  for (int i = 0; i < 21; ++i) nots += "NOT ";
  EXPECT_EQ(RunAllSplits(nots + "SEEN\r\n"), (Events{"A1 BAD Nesting too deep"}));
  std::string ors = "A1 SEARCH ";
  for (int i = 0; i < 21; ++i) ors += "OR SEEN ";
  EXPECT_EQ(RunAllSplits(ors + "SEEN\r\n"), (Events{"A1 BAD Nesting too deep"}));
  // 20 levels are fine.
  std::string ok = "A1 SEARCH ";
  for (int i = 0; i < 20; ++i) ok += "(";
  ok += "SEEN";
  for (int i = 0; i < 20; ++i) ok += ")";
  EXPECT_EQ(RunWhole(ok + "\r\n"), (Events{ok}));
}

TEST(CommandParserTest, TooManyItems) {
  RunOptions run;
  run.limits.max_items = 10;
  EXPECT_EQ(RunAllSplits("A1 STORE 1 FLAGS (a b c d e f g h i j)\r\n", run),
            (Events{"A1 STORE 1 FLAGS (a b c d e f g h i j)"}));
  EXPECT_EQ(RunAllSplits("A1 STORE 1 FLAGS (a b c d e f g h i j k)\r\nA2 NOOP\r\n", run),
            (Events{"A1 BAD Too many items", "A2 NOOP"}));
  EXPECT_EQ(
      RunAllSplits("A1 SEARCH SEEN SEEN SEEN SEEN SEEN SEEN SEEN SEEN SEEN SEEN SEEN\r\n", run),
      (Events{"A1 BAD Too many items"}));
  EXPECT_EQ(RunAllSplits("A1 FETCH 1 (UID UID UID UID UID UID UID UID UID UID UID)\r\n", run),
            (Events{"A1 BAD Too many items"}));
  // The default limit with a line full of items.
  std::string many = "A1 SEARCH";
  for (int i = 0; i < 2000; ++i) many += " ALL";
  EXPECT_EQ(RunWhole(many + "\r\n"), (Events{many}));
  run.limits.max_items = 1999;
  EXPECT_EQ(RunWhole(many + "\r\n", run), (Events{"A1 BAD Too many items"}));
}

TEST(CommandParserTest, TooManySequenceSetRanges) {
  RunOptions run;
  run.limits.max_sequence_ranges = 3;
  EXPECT_EQ(RunAllSplits("A1 FETCH 1,2,3:4 FLAGS\r\n", run), (Events{"A1 FETCH 1,2,3:4 (FLAGS)"}));
  EXPECT_EQ(RunAllSplits("A1 FETCH 1,2,3,4 FLAGS\r\n", run),
            (Events{"A1 BAD Too many sequence set ranges"}));
}

TEST(CommandParserTest, ResynchronisesAfterBadLines) {
  EXPECT_EQ(RunAllSplits("A1 FOO\r\nA2 NOOP\r\n"), (Events{"A1 BAD Unknown command", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("\x01\x02\xff garbage (((\r\n\0\0\r\nA2 NOOP\r\n"s),
            (Events{"* BAD Invalid tag", "* BAD Invalid tag", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 FETCH 1 BODY[\r\nA2 SELECT \"INBOX\r\nA3 NOOP\r\n"),
            (Events{"A1 BAD Invalid section", "A2 BAD Unterminated quoted string", "A3 NOOP"}));
  // GET / HTTP requests and similar junk become untagged BAD lines, never a crash.
  EXPECT_EQ(RunAllSplits("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            (Events{"GET BAD Unknown command", "Host: BAD Unknown command"}));
}

TEST(CommandParserTest, IdleDone) {
  EXPECT_EQ(RunAllSplits("A1 IDLE\r\nDONE\r\nA2 NOOP\r\n"), (Events{"A1 IDLE", "DONE", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 IDLE\r\ndone\nA2 NOOP\r\n"), (Events{"A1 IDLE", "DONE", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 IDLE\r\nA2 NOOP\r\nA3 NOOP\r\n"),
            (Events{"A1 IDLE", "* BAD Expected DONE", "A3 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 IDLE\r\nDONE \r\n"), (Events{"A1 IDLE", "* BAD Expected DONE"}));
  // DONE is a command-less line only while IDLE is on.
  EXPECT_EQ(RunAllSplits("DONE\r\n"), (Events{"DONE BAD Missing command"}));
  RunOptions run;
  run.limits.max_line_bytes = 50;
  EXPECT_EQ(RunAllSplits("A1 IDLE\r\n" + std::string(100, 'D') + "\r\nA2 NOOP\r\n", run),
            (Events{"A1 IDLE", "* BAD Command line too long {skip-line}", "A2 NOOP"}));
}

TEST(CommandParserTest, AuthenticateContinuationLines) {
  // The hook re-arms SASL mode after every response except "last".
  EXPECT_EQ(RunAllSplits("A1 AUTHENTICATE SCRAM-SHA-256\r\nZmlyc3Q=\r\nbGFzdA==\r\nA2 NOOP\r\n"),
            (Events{"A1 AUTHENTICATE SCRAM-SHA-256", "SASL first", "SASL last", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 AUTHENTICATE PLAIN\r\n*\r\nA2 NOOP\r\n"),
            (Events{"A1 AUTHENTICATE PLAIN", "SASL *", "A2 NOOP"}));
  EXPECT_EQ(RunAllSplits("A1 AUTHENTICATE PLAIN\r\n\r\n*\r\n"),
            (Events{"A1 AUTHENTICATE PLAIN", "SASL ", "SASL *"}));
  EXPECT_EQ(RunAllSplits("A1 AUTHENTICATE PLAIN\r\nnot base64!\r\nA2 NOOP\r\n"),
            (Events{"A1 AUTHENTICATE PLAIN", "* BAD Invalid base64 data", "A2 NOOP"}));
  // SASL lines may be longer than command lines, up to their own limit.
  RunOptions run;
  run.limits.max_line_bytes = 40;
  run.limits.max_sasl_line_bytes = 400;
  const std::string token(300, 'A');
  EXPECT_EQ(RunAllSplits("A1 AUTHENTICATE GSSAPI\r\n" + token + "\r\n*\r\n", run).size(), 3u);
  const std::string huge(500, 'A');
  EXPECT_EQ(
      RunAllSplits("A1 AUTHENTICATE GSSAPI\r\n" + huge + "\r\nA2 NOOP\r\n", run),
      (Events{"A1 AUTHENTICATE GSSAPI", "* BAD Command line too long {skip-line}", "A2 NOOP"}));

  // Decoded bytes are returned as is.
  CommandParser parser;
  ASSERT_TRUE(std::holds_alternative<Command>(parser.Feed("A1 AUTHENTICATE PLAIN\r\n")));
  parser.ExpectSaslResponse();
  ParseResult r = parser.Feed("AGZyZWQAc2VjcmV0\r\n");
  ASSERT_TRUE(std::holds_alternative<SaslResponse>(r));
  EXPECT_EQ(std::get<SaslResponse>(r).data, std::string("\0fred\0secret", 12));
}

TEST(CommandParserTest, TakeBufferedInputAfterStartTls) {
  CommandParser parser;
  ParseResult r = parser.Feed("A1 STARTTLS\r\nA2 LOGIN injected command\r\n");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(parser.TakeBufferedInput(), "A2 LOGIN injected command\r\n");
  EXPECT_TRUE(std::holds_alternative<NeedMoreInput>(parser.Next()));
}

TEST(CommandParserTest, Utf8AcceptCanBeSwitchedOn) {
  CommandParser parser;
  ParseResult r = parser.Feed("A1 SELECT \"caf\xc3\xa9\"\r\n");
  ASSERT_TRUE(std::holds_alternative<ParseError>(r));
  EXPECT_EQ(std::get<ParseError>(r).kind, ParseErrorKind::kInvalidMailboxName);
  parser.set_utf8_accept(true);
  r = parser.Feed("A2 SELECT \"caf\xc3\xa9\"\r\n");
  ASSERT_TRUE(std::holds_alternative<Command>(r));
  EXPECT_EQ(std::get<SelectArgs>(std::get<Command>(r).args).mailbox, "caf\xc3\xa9");
}

TEST(CommandParserTest, ErrorReplies) {
  ParseError e;
  e.tag = "A1";
  e.text = "Unknown command";
  EXPECT_EQ(e.Reply(), "A1 BAD Unknown command\r\n");
  e.tag.reset();
  e.status = "NO";
  e.code = "TOOBIG";
  e.text = "Message too large";
  EXPECT_EQ(e.Reply(), "* NO [TOOBIG] Message too large\r\n");
}

}  // namespace
}  // namespace cas::imap
