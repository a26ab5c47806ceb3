// Random-input robustness: random bytes and mutated valid commands, with a fixed seed and a
// bounded count. The parser must not crash, must keep its memory within the limits, must give
// the same events however the input is chunked, and every command it returns must survive a
// FormatCommand() round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "cas/imap/codec/command.h"
#include "cas/imap/codec/parser.h"
#include "tests/cas/imap/parser_test_util.h"

namespace cas::imap {
namespace {

// Small limits, so that random input reaches them.
ParserLimits SmallLimits() {
  ParserLimits l;
  l.max_line_bytes = 256;
  l.max_literal_bytes = 64;
  l.max_append_literal_bytes = 512;
  l.max_command_literal_bytes = 1024;
  l.max_items = 40;
  l.max_depth = 5;
  l.max_sequence_ranges = 10;
  l.max_sasl_line_bytes = 128;
  l.max_discard_literal_bytes = 256;
  return l;
}

const char* const kSeeds[] = {
    "A1 LOGIN fred secret\r\n",
    "A2 LOGIN {4}\r\nfred {6+}\r\nsecret\r\n",
    "A3 SELECT INBOX (QRESYNC (1 2 1:5 (1:3 1:3)))\r\n",
    "A4 FETCH 1:* (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100>) (CHANGEDSINCE 5)\r\n",
    "A5 UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FROM a SINCE 1-Feb-1994) NOT (UID 1:*) "
    "HEADER X y\r\n",
    "A6 STORE 1:3 (UNCHANGEDSINCE 7) +FLAGS.SILENT (\\Seen $Junk)\r\n",
    "A7 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {5+}\r\nhello\r\n",
    "A8 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (% INBOX) RETURN (CHILDREN STATUS (MESSAGES))\r\n",
    "A9 IDLE\r\nDONE\r\n",
    "B1 AUTHENTICATE PLAIN\r\nAGZyZWQAc2VjcmV0\r\n*\r\n",
    "B2 ID (\"name\" \"x\" \"v\" NIL)\r\n",
    "B3 CREATE X (USE (\\Sent))\r\n",
    "B4 STATUS INBOX (MESSAGES UIDNEXT)\r\n",
    "B5 UID EXPUNGE 1:3,5\r\n",
    "B6 SETQUOTA \"\" (STORAGE 10)\r\n",
    "B7 ENABLE QRESYNC\r\n",
    "B8 APPEND INBOX UTF8 (~{2+}\r\nhi)\r\n",
    "B9 SEARCH MODSEQ \"/flags/\\\\draft\" all 5\r\n",
    "C1 RENAME a &U,BTFw-\r\n",
    "C2 COPY $ Trash\r\n",
    "C3 UID MOVE 1 Junk\r\n",
    "C4 GETQUOTAROOT INBOX\r\n",
    "C5 LSUB \"\" *\r\n",
    "C6 EXAMINE \"Sent Items\"\r\n",
    "C7 FETCH 1 (BINARY.PEEK[1]<0.10> BINARY.SIZE[2])\r\n",
    "C8 AUTHENTICATE PLAIN =\r\n",
    "C9 APPEND INBOX {3+}\r\none (\\Draft) {3+}\r\ntwo\r\n",
    "D1 SEARCH NOT NOT (SEEN (DRAFT OR FLAGGED DELETED))\r\n",
    "D2 FETCH 1 FULL\r\n",
    "D3 NOOP\r\nD4 CAPABILITY\r\nD5 LOGOUT\r\n",
};

struct Outcome {
  std::vector<std::string> events;
  std::vector<Command> commands;
};

// Feeds `input` in chunks of 1..max_chunk bytes (all of it when max_chunk is 0).
Outcome RunParser(const std::string& input, std::mt19937* rng, size_t max_chunk,
                  const ParserLimits& limits, const ParserOptions& options) {
  CommandParser parser(limits, options);
  Outcome out;
  size_t pos = 0;
  while (pos < input.size()) {
    size_t n = input.size() - pos;
    if (max_chunk > 0) n = std::min(n, std::uniform_int_distribution<size_t>(1, max_chunk)(*rng));
    ParseResult r = parser.Feed(std::string_view(input).substr(pos, n));
    pos += n;
    while (!std::holds_alternative<NeedMoreInput>(r)) {
      out.events.push_back(testing::Describe(r));
      testing::DefaultHook(parser, r);
      if (auto* c = std::get_if<Command>(&r)) out.commands.push_back(std::move(*c));
      r = parser.Next();
    }
    // Bounded: the command in progress stays within the limits and nothing is left unread.
    EXPECT_LE(parser.pending_command_bytes(),
              limits.max_line_bytes + limits.max_command_literal_bytes);
    EXPECT_EQ(parser.buffered_input_bytes(), 0u);
  }
  return out;
}

// FormatCommand() text parses back to the same command.
void ExpectRoundTrip(const Command& command) {
  const std::string text = FormatCommand(command) + "\r\n";
  ParserOptions options;
  options.utf8_accept = true;  // FormatCommand writes mailbox names as UTF-8.
  CommandParser parser({}, options);
  ParseResult r = parser.Feed(text);
  while (std::holds_alternative<ContinuationNeeded>(r)) r = parser.Next();
  ASSERT_TRUE(std::holds_alternative<Command>(r)) << text << " -> " << testing::Describe(r);
  EXPECT_EQ(std::get<Command>(r), command) << text;
}

void Check(const std::string& input, std::mt19937* rng, const ParserOptions& options) {
  const ParserLimits limits = SmallLimits();
  const Outcome whole = RunParser(input, rng, 0, limits, options);
  const Outcome chunked = RunParser(input, rng, 17, limits, options);
  EXPECT_EQ(chunked.events, whole.events) << input;
  const Outcome bytes = RunParser(input, rng, 1, limits, options);
  EXPECT_EQ(bytes.events, whole.events) << input;
  for (const Command& c : whole.commands) ExpectRoundTrip(c);
}

ParserOptions RandomOptions(std::mt19937* rng) {
  ParserOptions options;
  options.literal_plus = (*rng)() % 2 == 0;
  options.utf8_accept = (*rng)() % 4 == 0;
  return options;
}

TEST(ParserRobustnessTest, RandomBytes) {
  std::mt19937 rng(0x1a2b3c);
  const std::string alphabet =
      " ()[]{}<>\"\\*%:,.+-~$&=0123456789AaBbCDEFHIKLMNOPRSTUVXYZ\r\n\r\n\r\n\t\x80\xc3\xa9";
  for (int i = 0; i < 3000; ++i) {
    std::string input;
    const size_t n = std::uniform_int_distribution<size_t>(0, 400)(rng);
    const bool fully_random = i % 2 == 0;
    for (size_t j = 0; j < n; ++j) {
      if (fully_random) {
        input.push_back(static_cast<char>(rng() & 0xff));
      } else {
        input.push_back(alphabet[rng() % alphabet.size()]);
      }
    }
    Check(input, &rng, RandomOptions(&rng));
    if (::testing::Test::HasFailure()) return;
  }
}

std::string Mutate(std::string s, std::mt19937* rng) {
  static const char* const kInserts[] = {"{3}\r\n",     "{3+}\r\n", "~{2+}\r\n", "\r\n", "(", ")",
                                         "\"",          " ",        "\\",        "*",    "{", "}",
                                         "{99999}\r\n", "{0}\r\n",  "NOT ",      "&"};
  const int mutations = std::uniform_int_distribution<int>(1, 4)(*rng);
  for (int m = 0; m < mutations && !s.empty(); ++m) {
    const size_t pos = std::uniform_int_distribution<size_t>(0, s.size() - 1)(*rng);
    switch ((*rng)() % 6) {
      case 0:
        s[pos] = static_cast<char>((*rng)() & 0xff);
        break;
      case 1:
        s.insert(pos, kInserts[(*rng)() % std::size(kInserts)]);
        break;
      case 2:
        s.erase(pos, 1);
        break;
      case 3: {
        const size_t len = std::uniform_int_distribution<size_t>(1, 20)(*rng);
        s.insert(pos, s.substr(pos, len));
        break;
      }
      case 4:
        s.resize(pos);
        break;
      default:
        s[pos] = static_cast<char>(s[pos] ^ 0x20);  // Flip case.
        break;
    }
  }
  return s;
}

TEST(ParserRobustnessTest, MutatedValidCommands) {
  std::mt19937 rng(0xc0ffee);
  // The seeds themselves parse without errors.
  for (const char* seed : kSeeds) {
    const Outcome o = RunParser(seed, &rng, 0, SmallLimits(), ParserOptions{true, false});
    for (const std::string& e : o.events) EXPECT_EQ(e.find(" BAD "), std::string::npos) << e;
  }
  for (int i = 0; i < 5000; ++i) {
    std::string input;
    const int parts = std::uniform_int_distribution<int>(1, 3)(rng);
    for (int p = 0; p < parts; ++p) input += kSeeds[rng() % std::size(kSeeds)];
    input = Mutate(std::move(input), &rng);
    Check(input + "\r\nZ9 NOOP\r\n", &rng, RandomOptions(&rng));
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace cas::imap
