// SMTP reply encoding and the client-side reply parser: whole feeds, byte-at-a-time feeds,
// limits and malformed replies.
#include "transport/codec/reply.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace transport::smtp {
namespace {

// Feeds `input` in pieces of `step` octets and collects every reply.
std::vector<Reply> ParseAll(std::string_view input, size_t step, ReplyParser* parser) {
  std::vector<Reply> out;
  while (!input.empty()) {
    size_t n = std::min(step, input.size());
    parser->Feed(input.substr(0, n));
    input.remove_prefix(n);
    while (std::optional<Reply> r = parser->Next()) out.push_back(std::move(*r));
  }
  return out;
}

TEST(FormatReplyTest, SingleLine) {
  EXPECT_EQ(FormatReply(550, "5.1.1", "User unknown"), "550 5.1.1 User unknown\r\n");
  EXPECT_EQ(FormatReply(250, "", "OK"), "250 OK\r\n");
  EXPECT_EQ(FormatReply(354, "", "Start mail input; end with <CRLF>.<CRLF>"),
            "354 Start mail input; end with <CRLF>.<CRLF>\r\n");
  EXPECT_EQ(FormatReply(250, "2.0.0", ""), "250 2.0.0\r\n");
  EXPECT_EQ(FormatReply(250, "", ""), "250\r\n");
}

TEST(FormatReplyTest, LineEndsAreStripped) {
  EXPECT_EQ(FormatReply(550, "5.7.1", "bad\r\n250 injected"), "550 5.7.1 bad250 injected\r\n");
  EXPECT_EQ(FormatReply(451, "4.3.0\n", "x\ry"), "451 4.3.0 xy\r\n");
}

TEST(FormatReplyTest, Multiline) {
  EXPECT_EQ(FormatMultiline(250, "", {"mail.example.test", "PIPELINING", "SIZE 1000", "8BITMIME"}),
            "250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n");
  EXPECT_EQ(FormatMultiline(550, "5.7.1", {"Rejected", "see https://example.test/"}),
            "550-5.7.1 Rejected\r\n550 5.7.1 see https://example.test/\r\n");
  EXPECT_EQ(FormatMultiline(250, "", {"only"}), "250 only\r\n");
  EXPECT_EQ(FormatMultiline(250, "", {}), "250\r\n");
  EXPECT_EQ(FormatMultiline(250, "", {"a\r\n", ""}), "250-a\r\n250\r\n");
  EXPECT_EQ(FormatMultiline(250, "", {"", "b"}), "250-\r\n250 b\r\n");
}

TEST(FormatReplyTest, RoundTripsThroughTheParser) {
  std::string wire = FormatMultiline(250, "", {"mail.example.test", "STARTTLS", "SIZE 1000"}) +
                     FormatReply(550, "5.1.1", "User unknown") + FormatReply(221, "", "");
  ReplyParser parser;
  std::vector<Reply> replies = ParseAll(wire, wire.size(), &parser);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].code, 250);
  EXPECT_EQ(replies[0].lines,
            (std::vector<std::string>{"mail.example.test", "STARTTLS", "SIZE 1000"}));
  EXPECT_EQ(replies[1].code, 550);
  EXPECT_EQ(replies[1].enhanced(), "5.1.1");
  EXPECT_EQ(replies[1].Text(), "5.1.1 User unknown");
  EXPECT_EQ(replies[2].code, 221);
  EXPECT_EQ(replies[2].lines, std::vector<std::string>{""});
  EXPECT_FALSE(parser.failed());
  EXPECT_TRUE(parser.empty());
}

TEST(ReplyTest, EnhancedCode) {
  auto with = [](std::string first) {
    Reply r;
    r.code = 250;
    r.lines = {std::move(first), "second"};
    return r.enhanced();
  };
  EXPECT_EQ(with("2.1.0 Sender OK"), "2.1.0");
  EXPECT_EQ(with("5.7.1"), "5.7.1");
  EXPECT_EQ(with("4.123.456 x"), "4.123.456");
  EXPECT_EQ(with("2.1.0Sender"), "");
  EXPECT_EQ(with("3.1.0 no such class"), "");
  EXPECT_EQ(with("2.1234.0 x"), "");
  EXPECT_EQ(with("2.1.1234 x"), "");
  EXPECT_EQ(with("2..0 x"), "");
  EXPECT_EQ(with("2.1. x"), "");
  EXPECT_EQ(with("2.1"), "");
  EXPECT_EQ(with("OK"), "");
  EXPECT_EQ(with(""), "");
  EXPECT_EQ(Reply().enhanced(), "");
}

TEST(ReplyTest, Classes) {
  Reply r;
  r.code = 250;
  EXPECT_TRUE(r.positive());
  EXPECT_FALSE(r.transient());
  EXPECT_FALSE(r.permanent());
  r.code = 354;
  EXPECT_TRUE(r.positive());
  r.code = 421;
  EXPECT_FALSE(r.positive());
  EXPECT_TRUE(r.transient());
  EXPECT_FALSE(r.permanent());
  r.code = 554;
  EXPECT_FALSE(r.positive());
  EXPECT_FALSE(r.transient());
  EXPECT_TRUE(r.permanent());
  r.code = 0;
  EXPECT_FALSE(r.positive() || r.transient() || r.permanent());
}

TEST(ReplyTest, TextJoinsLines) {
  Reply r;
  r.code = 550;
  r.lines = {"5.7.1 Rejected", "see policy"};
  EXPECT_EQ(r.Text(), "5.7.1 Rejected; see policy");
  EXPECT_EQ(Reply().Text(), "");
}

TEST(ReplyParserTest, EhloReplyWholeAndByteByByte) {
  const std::string wire =
      "250-mx.example.test Hello\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250-STARTTLS\r\n"
      "250 SMTPUTF8\r\n220 2.0.0 Ready to start TLS\r\n";
  for (size_t step : {wire.size(), size_t{1}, size_t{2}, size_t{7}}) {
    SCOPED_TRACE(step);
    ReplyParser parser;
    std::vector<Reply> replies = ParseAll(wire, step, &parser);
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0].code, 250);
    EXPECT_EQ(replies[0].lines,
              (std::vector<std::string>{"mx.example.test Hello", "PIPELINING", "SIZE 35882577",
                                        "STARTTLS", "SMTPUTF8"}));
    EXPECT_EQ(replies[0].enhanced(), "");
    EXPECT_EQ(replies[1].code, 220);
    EXPECT_EQ(replies[1].enhanced(), "2.0.0");
    EXPECT_EQ(replies[1].lines, std::vector<std::string>{"2.0.0 Ready to start TLS"});
    EXPECT_FALSE(parser.failed());
    EXPECT_EQ(parser.error(), "");
  }
}

TEST(ReplyParserTest, NothingUntilTheLastLine) {
  ReplyParser parser;
  parser.Feed("250-first\r\n250-second\r");
  EXPECT_FALSE(parser.Next());
  EXPECT_FALSE(parser.empty());
  parser.Feed("\n250 third");
  EXPECT_FALSE(parser.Next());
  parser.Feed("\r\n");
  std::optional<Reply> r = parser.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lines.size(), 3u);
  EXPECT_FALSE(parser.Next());
  EXPECT_TRUE(parser.empty());
}

TEST(ReplyParserTest, BareLfAndStrayCr) {
  ReplyParser parser;
  parser.Feed("220 mx.example.test\n250-a\rb\r\n250 c\n");
  std::optional<Reply> r = parser.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lines, std::vector<std::string>{"mx.example.test"});
  r = parser.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lines, (std::vector<std::string>{"ab", "c"}));
  EXPECT_FALSE(parser.failed());
}

TEST(ReplyParserTest, CodeWithoutText) {
  ReplyParser parser;
  parser.Feed("250\r\n");
  std::optional<Reply> r = parser.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 250);
  EXPECT_EQ(r->lines, std::vector<std::string>{""});
  parser.Feed("250-\r\n250 x\r\n");
  r = parser.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lines, (std::vector<std::string>{"", "x"}));
}

TEST(ReplyParserTest, MalformedReplies) {
  struct Case {
    const char* input;
    const char* error_part;
  };
  for (const Case& c : std::vector<Case>{
           {"25\r\n", "too short"},
           {"\r\n", "too short"},
           {"2x0 OK\r\n", "three digits"},
           {"OKAY\r\n", "three digits"},
           {"-50 OK\r\n", "three digits"},
           {"250OK\r\n", "space or dash"},
           {"250_OK\r\n", "space or dash"},
           {"099 x\r\n", "out of range"},
           {"600 x\r\n", "out of range"},
           {"250-a\r\n251 b\r\n", "changed"},
           {"250-a\r\n550-b\r\n", "changed"},
       }) {
    SCOPED_TRACE(c.input);
    for (size_t step : {size_t{1}, size_t{100}}) {
      ReplyParser parser;
      std::vector<Reply> replies = ParseAll(c.input, step, &parser);
      EXPECT_TRUE(replies.empty());
      EXPECT_TRUE(parser.failed());
      EXPECT_NE(parser.error().find(c.error_part), std::string::npos) << parser.error();
    }
  }
}

TEST(ReplyParserTest, RepliesBeforeTheErrorStillComeOut) {
  ReplyParser parser;
  parser.Feed("250 ok\r\ngarbage\r\n250 after\r\n");
  EXPECT_TRUE(parser.failed());
  std::optional<Reply> r = parser.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 250);
  EXPECT_FALSE(parser.Next());
  parser.Feed("250 more\r\n");  // Ignored once failed.
  EXPECT_FALSE(parser.Next());
  EXPECT_TRUE(parser.failed());
}

TEST(ReplyParserTest, LineLimitCountsTheLineEnd) {
  ReplyParserLimits limits;
  limits.max_line = 16;
  {
    ReplyParser parser(limits);
    parser.Feed("250 " + std::string(10, 'x') + "\r\n");  // 16 octets: fits.
    EXPECT_FALSE(parser.failed());
    EXPECT_TRUE(parser.Next());
  }
  {
    ReplyParser parser(limits);
    parser.Feed("250 " + std::string(11, 'x') + "\r\n");  // 17 octets.
    EXPECT_TRUE(parser.failed());
    EXPECT_NE(parser.error().find("longer than 16"), std::string::npos);
  }
  {
    // Reported while the line is still arriving, one byte at a time, without its end.
    ReplyParser parser(limits);
    size_t fed = 0;
    while (!parser.failed() && fed < 1000) {
      parser.Feed(fed == 0 ? "2" : "5");
      ++fed;
    }
    EXPECT_TRUE(parser.failed());
    EXPECT_EQ(fed, 16u);
  }
}

TEST(ReplyParserTest, DefaultLineLimitIs4096) {
  ReplyParser ok;
  ok.Feed("250 " + std::string(4090, 'x') + "\r\n");
  EXPECT_FALSE(ok.failed());
  EXPECT_TRUE(ok.Next());
  ReplyParser too_long;
  too_long.Feed("250 " + std::string(4091, 'x') + "\r\n");
  EXPECT_TRUE(too_long.failed());
}

TEST(ReplyParserTest, LinesPerReplyLimit) {
  std::string two_hundred;
  for (int i = 0; i < 199; ++i) two_hundred += "250-line\r\n";
  two_hundred += "250 last\r\n";
  ReplyParser ok;
  ok.Feed(two_hundred);
  std::optional<Reply> r = ok.Next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lines.size(), 200u);

  std::string too_many;
  for (int i = 0; i < 200; ++i) too_many += "250-line\r\n";
  too_many += "250 last\r\n";
  ReplyParser parser;
  std::vector<Reply> replies = ParseAll(too_many, 1, &parser);
  EXPECT_TRUE(replies.empty());
  EXPECT_TRUE(parser.failed());
  EXPECT_NE(parser.error().find("200 lines"), std::string::npos);
}

TEST(ReplyParserTest, SplitAtEveryPosition) {
  const std::string wire = "220-mx.example.test ESMTP\r\n220 ready\r\n354 go ahead\r\n";
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    ReplyParser parser;
    std::vector<Reply> replies;
    parser.Feed(std::string_view(wire).substr(0, cut));
    while (std::optional<Reply> r = parser.Next()) replies.push_back(*r);
    parser.Feed(std::string_view(wire).substr(cut));
    while (std::optional<Reply> r = parser.Next()) replies.push_back(*r);
    ASSERT_EQ(replies.size(), 2u) << cut;
    EXPECT_EQ(replies[0].code, 220);
    EXPECT_EQ(replies[0].Text(), "mx.example.test ESMTP; ready");
    EXPECT_EQ(replies[1].code, 354);
  }
}

}  // namespace
}  // namespace transport::smtp
