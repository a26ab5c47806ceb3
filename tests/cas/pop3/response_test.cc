#include "cas/pop3/codec/response.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace cas::pop3 {
namespace {

using namespace std::string_literals;  // "a\0b"s keeps embedded NULs.

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\0') {
      out += "\\0";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// --- Status lines ---------------------------------------------------------------------------

TEST(StatusLineTest, OkAndErr) {
  EXPECT_EQ(OkResponse(""), "+OK\r\n");
  EXPECT_EQ(OkResponse("POP3 server ready"), "+OK POP3 server ready\r\n");
  EXPECT_EQ(ErrResponse(""), "-ERR\r\n");
  EXPECT_EQ(ErrResponse("Unknown command."), "-ERR Unknown command.\r\n");
}

TEST(StatusLineTest, ResponseCodes) {
  EXPECT_EQ(ErrResponse(ResponseCode::kInUse, "Mailbox is locked by another session."),
            "-ERR [IN-USE] Mailbox is locked by another session.\r\n");
  EXPECT_EQ(ErrResponse(ResponseCode::kLoginDelay, "Wait before logging in again."),
            "-ERR [LOGIN-DELAY] Wait before logging in again.\r\n");
  EXPECT_EQ(ErrResponse(ResponseCode::kSysTemp, "service stopped by administrator"),
            "-ERR [SYS/TEMP] service stopped by administrator\r\n");
  EXPECT_EQ(ErrResponse(ResponseCode::kSysPerm, "POP3 access is disabled for this mailbox."),
            "-ERR [SYS/PERM] POP3 access is disabled for this mailbox.\r\n");
  EXPECT_EQ(ErrResponse(ResponseCode::kAuth, "Authentication failed."),
            "-ERR [AUTH] Authentication failed.\r\n");
  EXPECT_EQ(ErrResponse(ResponseCode::kAuth, ""), "-ERR [AUTH]\r\n");
}

TEST(StatusLineTest, LineBreaksCannotInjectALine) {
  EXPECT_EQ(ErrResponse("bad\r\n+OK forged"), "-ERR bad  +OK forged\r\n");
  EXPECT_EQ(OkResponse("a\nb\rc\0d"s), "+OK a b c d\r\n");
  EXPECT_EQ(ErrResponse(ResponseCode::kSysTemp, "x\r\n"), "-ERR [SYS/TEMP] x  \r\n");
}

TEST(StatusLineTest, LongTextIsCutTo512Octets) {
  const std::string line = OkResponse(std::string(1000, 'x'));
  EXPECT_EQ(line.size(), kMaxStatusLine);
  EXPECT_EQ(line.substr(line.size() - 2), "\r\n");
  const std::string err = ErrResponse(ResponseCode::kLoginDelay, std::string(1000, 'y'));
  EXPECT_EQ(err.size(), kMaxStatusLine);
  // Exactly at the limit nothing is cut.
  const std::string fits(kMaxStatusLine - std::string("+OK \r\n").size(), 'z');
  EXPECT_EQ(OkResponse(fits), "+OK " + fits + "\r\n");
}

TEST(StatusLineTest, CutKeepsUtf8CharactersWhole) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "\xc3\xa9";  // U+00E9, two octets each.
  for (size_t prefix = 0; prefix < 4; ++prefix) {
    const std::string line = OkResponse(std::string(prefix, 'a') + text);
    ASSERT_LE(line.size(), kMaxStatusLine);
    ASSERT_GE(line.size(), kMaxStatusLine - 1);
    // The octet before CRLF ends a character: it is 0xa9, or an 'a' from the prefix.
    const unsigned char last = static_cast<unsigned char>(line[line.size() - 3]);
    EXPECT_TRUE(last == 0xa9 || last == 'a') << prefix;
    // Character starts and continuation octets pair up.
    size_t leads = 0, continuations = 0;
    for (unsigned char c : line) {
      if (c == 0xc3) ++leads;
      if (c == 0xa9) ++continuations;
    }
    EXPECT_EQ(leads, continuations) << prefix;
  }
}

TEST(SaslChallengeTest, Base64AfterPlusSpace) {
  EXPECT_EQ(SaslChallenge(""), "+ \r\n");
  EXPECT_EQ(SaslChallenge("abc"), "+ YWJj\r\n");
  EXPECT_EQ(SaslChallenge("r=nonce,s=c2FsdA==,i=4096"),
            "+ cj1ub25jZSxzPWMyRnNkQT09LGk9NDA5Ng==\r\n");
}

// --- Multi-line responses -------------------------------------------------------------------

TEST(MultiLineTest, CapaListing) {
  const std::vector<std::string> capabilities = {"TOP",        "UIDL", "RESP-CODES",
                                                 "PIPELINING", "USER", "SASL PLAIN SCRAM-SHA-256"};
  EXPECT_EQ(MultiLineResponse("Capability list follows", capabilities),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nUSER\r\n"
            "SASL PLAIN SCRAM-SHA-256\r\n.\r\n");
}

TEST(MultiLineTest, EmptyListingAndStuffedLines) {
  EXPECT_EQ(MultiLineResponse("0 messages", {}), "+OK 0 messages\r\n.\r\n");
  const std::vector<std::string> lines = {".", "..x", "a.b", "", "bad\r\nline"};
  EXPECT_EQ(MultiLineResponse("", lines), "+OK\r\n..\r\n...x\r\na.b\r\n\r\nbad  line\r\n.\r\n");
}

TEST(ListingTest, StatListUidl) {
  EXPECT_EQ(StatResponse(2, 320), "+OK 2 320\r\n");
  EXPECT_EQ(StatResponse(0, 0), "+OK 0 0\r\n");
  EXPECT_EQ(ScanListing(1, 120), "1 120");
  EXPECT_EQ(OkResponse(ScanListing(2, 200)), "+OK 2 200\r\n");
  EXPECT_EQ(ScanListing(512, 5000000000ull), "512 5000000000");
  EXPECT_EQ(UniqueIdListing(1, "whqtswO00WBw418f9t5JxYwZ"), "1 whqtswO00WBw418f9t5JxYwZ");
}

TEST(ListingTest, UniqueIdSyntax) {
  EXPECT_TRUE(IsValidUniqueId("whqtswO00WBw418f9t5JxYwZ"));
  EXPECT_TRUE(IsValidUniqueId("!"));
  EXPECT_TRUE(IsValidUniqueId(std::string(70, '~')));
  EXPECT_FALSE(IsValidUniqueId(""));
  EXPECT_FALSE(IsValidUniqueId(std::string(71, 'a')));
  EXPECT_FALSE(IsValidUniqueId("a b"));
  EXPECT_FALSE(IsValidUniqueId("a\x7f"));
  EXPECT_FALSE(IsValidUniqueId("\xc3\xa9"));
}

// --- Dot-stuffing ---------------------------------------------------------------------------

// The obvious implementation: split into lines on CRLF, LF or CR; stuff each; join with CRLF.
std::string ReferenceStuff(std::string_view message) {
  std::vector<std::string> lines;
  std::string current;
  bool open = false;  // `current` holds a line that has not ended yet.
  for (size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (c == '\r' || c == '\n') {
      lines.push_back(current);
      current.clear();
      open = false;
      if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n') ++i;
    } else {
      current.push_back(c);
      open = true;
    }
  }
  if (open) lines.push_back(current);
  std::string out;
  for (const std::string& line : lines) {
    if (!line.empty() && line[0] == '.') out += ".";
    out += line + "\r\n";
  }
  return out + ".\r\n";
}

uint64_t ReferenceNormalizedSize(std::string_view message) {
  uint64_t size = 0;
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n') {
      size += 2;
      ++i;
    } else if (message[i] == '\r' || message[i] == '\n') {
      size += 2;
    } else {
      size += 1;
    }
  }
  return size;
}

std::string StuffInPieces(std::string_view message, const std::vector<size_t>& cuts) {
  DotStuffer stuffer;
  std::string out;
  size_t start = 0;
  for (size_t cut : cuts) {
    stuffer.Feed(message.substr(start, cut - start), &out);
    start = cut;
  }
  stuffer.Feed(message.substr(start), &out);
  stuffer.Finish(&out);
  return out;
}

// No bare CR or LF, and ".\r\n" as a line only at the very end.
void ExpectWellFormedWire(std::string_view wire) {
  ASSERT_GE(wire.size(), 3u);
  ASSERT_EQ(wire.substr(wire.size() - 3), ".\r\n");
  for (size_t i = 0; i < wire.size(); ++i) {
    if (wire[i] == '\r') {
      ASSERT_TRUE(i + 1 < wire.size() && wire[i + 1] == '\n') << "bare CR at " << i;
    }
    if (wire[i] == '\n') {
      ASSERT_TRUE(i > 0 && wire[i - 1] == '\r') << "bare LF at " << i;
    }
  }
  const size_t end = wire.find("\r\n.\r\n");
  if (wire.size() == 3) {
    EXPECT_EQ(end, std::string_view::npos);
  } else {
    EXPECT_EQ(end, wire.size() - 5) << "early terminator";
  }
}

struct StuffCase {
  std::string message;
  std::string wire;
};

std::vector<StuffCase> StuffCases() {
  return {
      {"", ".\r\n"},
      {".", "..\r\n.\r\n"},
      {".\r\n", "..\r\n.\r\n"},
      {"..\r\n", "...\r\n.\r\n"},
      {"...", "....\r\n.\r\n"},
      {"a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"},
      {"a\r\n..\r\nb\r\n", "a\r\n...\r\nb\r\n.\r\n"},
      {"no newline at end", "no newline at end\r\n.\r\n"},
      {"a\nb\n", "a\r\nb\r\n.\r\n"},
      {"a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"},
      {"\n.\n", "\r\n..\r\n.\r\n"},
      {"\r\n", "\r\n.\r\n"},
      {"\n", "\r\n.\r\n"},
      {"\r", "\r\n.\r\n"},
      {"a\rb", "a\r\nb\r\n.\r\n"},
      {"a\r.\r\n", "a\r\n..\r\n.\r\n"},
      {"a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"},
      {"a\n\rb", "a\r\n\r\nb\r\n.\r\n"},
      {"\r\n\r\n", "\r\n\r\n.\r\n"},
      {"x.y\r\n. \r\n", "x.y\r\n.. \r\n.\r\n"},
      {".\r.\n.", "..\r\n..\r\n..\r\n.\r\n"},
      {"Subject: hi\r\n\r\n.\r\n", "Subject: hi\r\n\r\n..\r\n.\r\n"},
      {"nul\0byte\r\n"s, "nul\0byte\r\n.\r\n"s},
  };
}

TEST(DotStufferTest, TrickyInputsWholeBytewiseAndAtEverySplit) {
  for (const StuffCase& c : StuffCases()) {
    SCOPED_TRACE(Escape(c.message));
    EXPECT_EQ(DotStuff(c.message), c.wire);
    EXPECT_EQ(ReferenceStuff(c.message), c.wire);  // Keeps the reference honest.
    std::vector<size_t> every;
    for (size_t i = 1; i < c.message.size(); ++i) every.push_back(i);
    EXPECT_EQ(StuffInPieces(c.message, every), c.wire);
    for (size_t cut = 0; cut <= c.message.size(); ++cut) {
      EXPECT_EQ(StuffInPieces(c.message, {cut}), c.wire) << "split at " << cut;
    }
    ExpectWellFormedWire(c.wire);
    EXPECT_EQ(StuffedSize(c.message), c.wire.size() - kMultiLineEnd.size());
  }
}

TEST(DotStufferTest, CrlfSplitAcrossChunks) {
  DotStuffer stuffer;
  std::string out;
  stuffer.Feed("line one\r", &out);
  stuffer.Feed("\n.line two\r", &out);
  stuffer.Feed("", &out);  // Empty chunks change nothing, even between CR and LF.
  stuffer.Feed("\n", &out);
  stuffer.Feed(".", &out);
  stuffer.Finish(&out);
  EXPECT_EQ(out, "line one\r\n..line two\r\n..\r\n.\r\n");
}

TEST(DotStufferTest, ReusableAfterFinish) {
  DotStuffer stuffer;
  std::string first, second;
  stuffer.Feed("abc\r", &first);  // Ends on a CR: the next message must not eat its LF.
  stuffer.Finish(&first);
  stuffer.Feed("\n.x", &second);
  stuffer.Finish(&second);
  EXPECT_EQ(first, "abc\r\n.\r\n");
  EXPECT_EQ(second, "\r\n..x\r\n.\r\n");
}

TEST(DotStufferTest, AppendsToExistingOutput) {
  DotStuffer stuffer;
  std::string out = "+OK 3 octets\r\n";
  stuffer.Feed("abc", &out);
  stuffer.Finish(&out);
  EXPECT_EQ(out, "+OK 3 octets\r\nabc\r\n.\r\n");
}

std::string RandomMessage(std::mt19937& rng) {
  static constexpr char kAlphabet[] = {'.', '.', '\r', '\n', '\n', 'a', 'b', ' ', '\0', '\t'};
  std::uniform_int_distribution<size_t> length(0, 200);
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 1);
  std::string out(length(rng), ' ');
  for (char& c : out) c = kAlphabet[pick(rng)];
  return out;
}

TEST(DotStufferTest, MatchesReferenceOnRandomInput) {
  std::mt19937 rng(1939);  // Fixed seed: failures reproduce.
  for (int iteration = 0; iteration < 5000; ++iteration) {
    const std::string message = RandomMessage(rng);
    SCOPED_TRACE("iteration " + std::to_string(iteration) + ": " + Escape(message));
    const std::string expected = ReferenceStuff(message);
    std::vector<size_t> cuts;
    std::uniform_int_distribution<size_t> step(1, 8);
    for (size_t i = step(rng); i < message.size(); i += step(rng)) cuts.push_back(i);
    ASSERT_EQ(StuffInPieces(message, cuts), expected);
    ASSERT_EQ(DotStuff(message), expected);
    ExpectWellFormedWire(expected);
    ASSERT_EQ(StuffedSize(message), expected.size() - kMultiLineEnd.size());
    ASSERT_EQ(CrlfNormalizedSize(message), ReferenceNormalizedSize(message));
  }
}

// --- Sizes ----------------------------------------------------------------------------------

TEST(SizeTest, NormalizedSizeCountsEveryLineEndAsCrlf) {
  EXPECT_EQ(CrlfNormalizedSize(""), 0u);
  EXPECT_EQ(CrlfNormalizedSize("abc"), 3u);
  EXPECT_EQ(CrlfNormalizedSize("a\r\nb"), 4u);
  EXPECT_EQ(CrlfNormalizedSize("a\nb"), 4u);
  EXPECT_EQ(CrlfNormalizedSize("a\rb"), 4u);
  EXPECT_EQ(CrlfNormalizedSize("a\n\n"), 5u);
  EXPECT_EQ(CrlfNormalizedSize("\r\r\n"), 4u);
  // Dot-stuffing is not counted: the size LIST and STAT report, as Dovecot does.
  EXPECT_EQ(CrlfNormalizedSize(".\r\n..\r\n"), 7u);
  EXPECT_EQ(StuffedSize(".\r\n..\r\n"), 9u);
}

TEST(SizeTest, StuffedSizeAddsDotsAndTheMissingLineEnd) {
  EXPECT_EQ(StuffedSize(""), 0u);
  EXPECT_EQ(StuffedSize("abc"), 5u);      // "abc\r\n"
  EXPECT_EQ(StuffedSize("abc\n"), 5u);    // "abc\r\n"
  EXPECT_EQ(StuffedSize(".a"), 5u);       // "..a\r\n"
  EXPECT_EQ(StuffedSize("a\r.b\n"), 8u);  // "a\r\n..b\r\n"
}

TEST(SizeTest, CrlfMessageSizeIsItsLength) {
  const std::string message = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
  EXPECT_EQ(CrlfNormalizedSize(message), message.size());
  EXPECT_EQ(StuffedSize(message), message.size());
}

// --- TOP ------------------------------------------------------------------------------------

const std::string kHeader = "From: a@example.com\r\nSubject: hi\r\n";
const std::string kMessage = kHeader + "\r\nline1\r\n.line2\r\nline3\r\n";

TEST(TopTest, ZeroLinesGivesHeaderAndBlankLine) {
  EXPECT_EQ(TopOf(kMessage, 0), kHeader + "\r\n");
  EXPECT_EQ(DotStuff(TopOf(kMessage, 0)), kHeader + "\r\n.\r\n");
}

TEST(TopTest, SomeBodyLines) {
  EXPECT_EQ(TopOf(kMessage, 1), kHeader + "\r\nline1\r\n");
  EXPECT_EQ(TopOf(kMessage, 2), kHeader + "\r\nline1\r\n.line2\r\n");
  EXPECT_EQ(DotStuff(TopOf(kMessage, 2)), kHeader + "\r\nline1\r\n..line2\r\n.\r\n");
}

TEST(TopTest, MoreLinesThanTheBodyGivesTheWholeMessage) {
  EXPECT_EQ(TopOf(kMessage, 3), kMessage);
  EXPECT_EQ(TopOf(kMessage, 4), kMessage);
  EXPECT_EQ(TopOf(kMessage, 100), kMessage);
  EXPECT_EQ(TopOf(kMessage, 2147483648u), kMessage);
}

TEST(TopTest, UnusualShapes) {
  EXPECT_EQ(TopOf("", 0), "");
  EXPECT_EQ(TopOf("", 5), "");
  EXPECT_EQ(TopOf(kHeader, 0), kHeader);              // No blank line: all header.
  EXPECT_EQ(TopOf("Subject: x", 0), "Subject: x");    // Not even a line end.
  EXPECT_EQ(TopOf("\r\nbody1\r\nbody2", 0), "\r\n");  // No header at all.
  EXPECT_EQ(TopOf("\r\nbody1\r\nbody2", 1), "\r\nbody1\r\n");
  EXPECT_EQ(TopOf("\r\nbody1\r\nbody2", 2), "\r\nbody1\r\nbody2");   // Unterminated last line.
  EXPECT_EQ(TopOf("S: x\n\nb1\nb2\n", 1), "S: x\n\nb1\n");           // Bare LF.
  EXPECT_EQ(TopOf("S: x\r\rb1\rb2", 1), "S: x\r\rb1\r");             // Bare CR, as DotStuffer.
  EXPECT_EQ(TopOf("S: x\r\n\r\n\r\n\r\nb", 1), "S: x\r\n\r\n\r\n");  // Empty body lines count.
  EXPECT_EQ(TopOf("S: x\r\n\r", 0), "S: x\r\n\r");  // Blank line ending in a bare CR.
}

// The same by splitting into lines with their line ends.
std::string ReferenceTop(std::string_view message, uint32_t n) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r' || message[i] == '\n') {
      if (message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n') ++i;
      lines.push_back(message.substr(start, i + 1 - start));
      start = i + 1;
    }
  }
  if (start < message.size()) lines.push_back(message.substr(start));
  size_t blank = 0;
  while (blank < lines.size() && lines[blank][0] != '\r' && lines[blank][0] != '\n') ++blank;
  const size_t keep = std::min<size_t>(lines.size(), blank + 1 + n);
  std::string out;
  for (size_t i = 0; i < keep; ++i) out += lines[i];
  return out;
}

TEST(TopTest, MatchesReferenceOnRandomInput) {
  std::mt19937 rng(2449);
  std::uniform_int_distribution<uint32_t> lines(0, 6);
  for (int iteration = 0; iteration < 5000; ++iteration) {
    const std::string message = RandomMessage(rng);
    const uint32_t n = lines(rng);
    ASSERT_EQ(TopOf(message, n), ReferenceTop(message, n)) << Escape(message) << " n=" << n;
    // TOP output is always a prefix, so its stuffed form is a prefix of RETR's up to the end.
    ASSERT_EQ(message.substr(0, TopOf(message, n).size()), TopOf(message, n));
  }
}

}  // namespace
}  // namespace cas::pop3
