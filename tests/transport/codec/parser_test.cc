#include "transport/codec/parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace transport::smtp {

// gtest prints events through these (found by argument-dependent lookup); defined at the end.
void PrintTo(const Command& e, std::ostream* os);
void PrintTo(const ParseError& e, std::ostream* os);
void PrintTo(const SaslResponse& e, std::ostream* os);
void PrintTo(const DataDone& e, std::ostream* os);
void PrintTo(const ChunkDone& e, std::ostream* os);
void PrintTo(const NeedMore& e, std::ostream* os);

namespace {

using namespace std::string_literals;  // "a\0b"s keeps embedded NULs.

// --- Event helpers -----------------------------------------------------------------------

Command Cmd(Verb verb, std::string argument = "") {
  Command c;
  c.verb = verb;
  c.argument = std::move(argument);
  return c;
}

Command Mail(std::string path, const std::function<void(Command&)>& edit = nullptr) {
  Command c = Cmd(Verb::kMail);
  c.path = std::move(path);
  if (edit) edit(c);
  return c;
}

Command Rcpt(std::string path, const std::function<void(Command&)>& edit = nullptr) {
  Command c = Cmd(Verb::kRcpt);
  c.path = std::move(path);
  if (edit) edit(c);
  return c;
}

Command Bdat(uint64_t size, bool last) {
  Command c = Cmd(Verb::kBdat);
  c.bdat_size = size;
  c.bdat_last = last;
  return c;
}

ParseError Err(int code, std::string enhanced, std::string text) {
  return ParseError{code, std::move(enhanced), std::move(text)};
}

ParseError Syntax(std::string text) { return Err(501, "5.5.4", std::move(text)); }
ParseError BadSender() { return Err(501, "5.1.7", "Bad sender address syntax"); }
ParseError BadRecipient() { return Err(501, "5.1.3", "Bad recipient address syntax"); }
ParseError Unrecognized() { return Err(500, "5.5.2", "Command unrecognized"); }
ParseError TooLong() { return Err(500, "5.5.6", "Line too long"); }

DataDone Data(std::string message, bool bare = false) {
  DataDone d;
  d.octets = message.size();
  d.message = std::move(message);
  d.bare_line_ending = bare;
  return d;
}

ChunkDone Chunk(std::string bytes, bool last) {
  ChunkDone c;
  c.size = bytes.size();
  c.bytes = std::move(bytes);
  c.last = last;
  return c;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

// A readable, complete rendering of an event, so that failures show what differed.
std::string Describe(const ParseEvent& event) {
  if (std::holds_alternative<NeedMore>(event)) return "NeedMore";
  if (const auto* s = std::get_if<SaslResponse>(&event)) return "Sasl '" + Escape(s->line) + "'";
  if (const auto* e = std::get_if<ParseError>(&event)) {
    return "Error " + std::to_string(e->code) + " " + e->enhanced + " " + e->text;
  }
  if (const auto* d = std::get_if<DataDone>(&event)) {
    return "Data '" + Escape(d->message) + "' octets=" + std::to_string(d->octets) +
           (d->too_big ? " too_big" : "") + (d->bare_line_ending ? " bare" : "");
  }
  if (const auto* k = std::get_if<ChunkDone>(&event)) {
    return "Chunk '" + Escape(k->bytes) + "' size=" + std::to_string(k->size) +
           (k->last ? " last" : "") + (k->too_big ? " too_big" : "");
  }
  const Command& c = std::get<Command>(event);
  std::string out = "Command " + std::string(VerbName(c.verb));
  if (!c.argument.empty()) out += " arg='" + Escape(c.argument) + "'";
  if (c.verb == Verb::kMail || c.verb == Verb::kRcpt) out += " path='" + Escape(c.path) + "'";
  if (c.path_has_utf8) out += " utf8";
  const MailParams& m = c.mail;
  if (m.size) out += " SIZE=" + std::to_string(*m.size);
  if (m.body != MailParams::Body::kUnspecified) {
    out += " BODY=" + std::to_string(static_cast<int>(m.body));
  }
  if (m.smtputf8) out += " SMTPUTF8";
  if (m.ret != MailParams::Ret::kUnspecified) {
    out += " RET=" + std::to_string(static_cast<int>(m.ret));
  }
  if (!m.envid.empty()) out += " ENVID='" + Escape(m.envid) + "'";
  if (!m.auth.empty()) out += " AUTH='" + Escape(m.auth) + "'";
  const RcptParams& r = c.rcpt;
  if (r.notify_set) {
    out += " NOTIFY=";
    if (r.notify_never) out += "N";
    if (r.notify_success) out += "S";
    if (r.notify_failure) out += "F";
    if (r.notify_delay) out += "D";
  }
  if (!r.orcpt.empty()) out += " ORCPT='" + Escape(r.orcpt) + "'";
  if (c.verb == Verb::kBdat) {
    out += " size=" + std::to_string(c.bdat_size) + (c.bdat_last ? " LAST" : "");
  }
  return out;
}

std::vector<std::string> DescribeAll(const std::vector<ParseEvent>& events) {
  std::vector<std::string> out;
  for (const ParseEvent& e : events) out.push_back(Describe(e));
  return out;
}

// --- A fake session driving the parser ----------------------------------------------------

struct SessionOptions {
  bool accept_data = true;  // Answer DATA with 354 and BeginData().
  bool sasl = true;         // Run SASL exchanges after AUTH.
};

class Driver {
 public:
  explicit Driver(const ParserLimits& limits = {}, SessionOptions options = {})
      : parser_(limits), options_(options) {}

  // Offers `piece` as a session would: feed, drain, feed the rest.
  void Offer(std::string_view piece) {
    Drain();
    while (!piece.empty()) {
      const size_t taken = parser_.Feed(piece);
      ASSERT_LE(taken, piece.size());
      piece.remove_prefix(taken);
      const size_t before = events_.size();
      Drain();
      // No progress means no events were waiting either: the parser would be stuck.
      ASSERT_TRUE(taken > 0 || events_.size() > before) << "parser took nothing";
    }
  }

  void Drain() {
    for (ParseEvent e = parser_.Next(); !std::holds_alternative<NeedMore>(e); e = parser_.Next()) {
      Handle(e);
      events_.push_back(std::move(e));
    }
  }

  Parser& parser() { return parser_; }
  const std::vector<ParseEvent>& events() const { return events_; }

 private:
  void Handle(const ParseEvent& e) {
    const auto* c = std::get_if<Command>(&e);
    if (c != nullptr && c->verb == Verb::kData && options_.accept_data) parser_.BeginData();
    if (!options_.sasl) return;
    if (c != nullptr && c->verb == Verb::kAuth) {
      // No initial response: LOGIN asks twice, the others once.
      const bool initial = c->argument.find(' ') != std::string::npos;
      remaining_ = initial ? 0 : (c->argument == "LOGIN" ? 2 : 1);
    } else if (std::holds_alternative<SaslResponse>(e)) {
      --remaining_;
    } else {
      remaining_ = 0;
    }
    if (remaining_ > 0) parser_.ExpectSaslResponse();
  }

  Parser parser_;
  SessionOptions options_;
  int remaining_ = 0;
  std::vector<ParseEvent> events_;
};

std::vector<ParseEvent> RunEvents(const std::vector<std::string_view>& pieces,
                                  const ParserLimits& limits = {}, SessionOptions options = {}) {
  Driver driver(limits, options);
  for (std::string_view piece : pieces) driver.Offer(piece);
  return driver.events();
}

std::vector<std::string> RunPieces(const std::vector<std::string_view>& pieces,
                                   const ParserLimits& limits = {}, SessionOptions options = {}) {
  return DescribeAll(RunEvents(pieces, limits, options));
}

std::vector<std::string> RunWhole(std::string_view input, const ParserLimits& limits = {},
                                  SessionOptions options = {}) {
  return RunPieces({input}, limits, options);
}

std::vector<std::string> RunBytewise(std::string_view input, const ParserLimits& limits = {},
                                     SessionOptions options = {}) {
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < input.size(); ++i) pieces.push_back(input.substr(i, 1));
  return RunPieces(pieces, limits, options);
}

std::vector<std::string> RunSteps(std::string_view input, size_t step,
                                  const ParserLimits& limits = {}) {
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < input.size(); i += step) pieces.push_back(input.substr(i, step));
  return RunPieces(pieces, limits);
}

std::vector<std::string> DescribeList(const std::vector<ParseEvent>& events) {
  return DescribeAll(events);
}

// Feeds `input` whole, one byte at a time, and split in two at every position (at every
// 64th position past 4 KiB); all must give `expected`.
void ExpectEverySplit(std::string_view input, const std::vector<ParseEvent>& expected,
                      const ParserLimits& limits = {}, SessionOptions options = {}) {
  SCOPED_TRACE("input: " + Escape(input));
  const std::vector<std::string> want = DescribeList(expected);
  EXPECT_EQ(RunEvents({input}, limits, options), expected) << "fed whole";
  EXPECT_EQ(RunWhole(input, limits, options), want) << "fed whole";
  EXPECT_EQ(RunBytewise(input, limits, options), want) << "fed one byte at a time";
  const size_t stride = input.size() > 4096 ? 64 : 1;
  for (size_t cut = 1; cut < input.size(); cut += stride) {
    ASSERT_EQ(RunPieces({input.substr(0, cut), input.substr(cut)}, limits, options), want)
        << "split at " << cut;
  }
}

// --- Tables of single commands --------------------------------------------------------------

struct Case {
  std::string input;
  ParseEvent expected;
};

std::vector<Case> GoodCases() {
  using Body = MailParams::Body;
  using Ret = MailParams::Ret;
  return {
      // HELO / EHLO.
      {"HELO mail.example.com\r\n", Cmd(Verb::kHelo, "mail.example.com")},
      {"helo x\r\n", Cmd(Verb::kHelo, "x")},
      {"EHLO [192.0.2.1]\r\n", Cmd(Verb::kEhlo, "[192.0.2.1]")},
      {"ehlo  client.example  \r\n", Cmd(Verb::kEhlo, "client.example")},
      {"EhLo client.example\n", Cmd(Verb::kEhlo, "client.example")},
      {"EHLO [IPv6:2001:db8::1]\r\n", Cmd(Verb::kEhlo, "[IPv6:2001:db8::1]")},
      // MAIL paths.
      {"MAIL FROM:<alice@example.com>\r\n", Mail("alice@example.com")},
      {"mail from:<Alice@Example.COM>\r\n", Mail("Alice@Example.COM")},
      {"Mail From:<a@b>\n", Mail("a@b")},
      {"MAIL FROM: <alice@example.com>\r\n", Mail("alice@example.com")},
      {"MAIL FROM:   <alice@example.com>   \r\n", Mail("alice@example.com")},
      {"MAIL FROM:<>\r\n", Mail("")},
      {"MAIL FROM:<@hosta.int,@jkl.org:userc@d.bar.org>\r\n", Mail("userc@d.bar.org")},
      {"MAIL FROM:<@relay.example:bob@example.org>\r\n", Mail("bob@example.org")},
      {"MAIL FROM:<\"john doe\"@example.com>\r\n", Mail("\"john doe\"@example.com")},
      {"MAIL FROM:<\"a\\\"b\"@example.com>\r\n", Mail("\"a\\\"b\"@example.com")},
      {"MAIL FROM:<\"a>b\"@example.com>\r\n", Mail("\"a>b\"@example.com")},
      {"MAIL FROM:<\"\"@example.com>\r\n", Mail("\"\"@example.com")},
      {"MAIL FROM:<first.last+tag@sub.example.co.uk>\r\n",
       Mail("first.last+tag@sub.example.co.uk")},
      {"MAIL FROM:<!#$%&'*+-/=?^_`{|}~@example.com>\r\n", Mail("!#$%&'*+-/=?^_`{|}~@example.com")},
      {"MAIL FROM:<x@a-b.c0m>\r\n", Mail("x@a-b.c0m")},
      {"MAIL FROM:<x@localhost>\r\n", Mail("x@localhost")},
      {"MAIL FROM:<user@[192.0.2.1]>\r\n", Mail("user@[192.0.2.1]")},
      {"MAIL FROM:<user@[IPv6:2001:db8::1]>\r\n", Mail("user@[IPv6:2001:db8::1]")},
      {"MAIL FROM:<user@[ipv6:2001:DB8:0:0:0:0:0:1]>\r\n",
       Mail("user@[ipv6:2001:DB8:0:0:0:0:0:1]")},
      {"MAIL FROM:<user@[IPv6:::ffff:192.0.2.1]>\r\n", Mail("user@[IPv6:::ffff:192.0.2.1]")},
      {"MAIL FROM:<user@[IPv6:1:2:3:4:5:6:192.0.2.1]>\r\n",
       Mail("user@[IPv6:1:2:3:4:5:6:192.0.2.1]")},
      {"MAIL FROM:<user@[IPv6:::]>\r\n", Mail("user@[IPv6:::]")},
      {"MAIL FROM:<" + std::string(64, 'l') + "@example.com>\r\n",
       Mail(std::string(64, 'l') + "@example.com")},
      {"MAIL FROM:<a@" + std::string(63, 'd') + ".example>\r\n",
       Mail("a@" + std::string(63, 'd') + ".example")},
      {"MAIL FROM:<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a> "
       "SMTPUTF8\r\n",
       Mail("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a",
            [](Command& c) {
              c.path_has_utf8 = true;
              c.mail.smtputf8 = true;
            })},
      {"MAIL FROM:<j\xc3\xb6rg@example.com>\r\n",
       Mail("j\xc3\xb6rg@example.com", [](Command& c) { c.path_has_utf8 = true; })},
      // MAIL parameters.
      {"MAIL FROM:<a@b> SIZE=1000\r\n", Mail("a@b", [](Command& c) { c.mail.size = 1000; })},
      {"MAIL FROM:<a@b> size=0\r\n", Mail("a@b", [](Command& c) { c.mail.size = 0; })},
      {"MAIL FROM:<a@b> SIZE=18446744073709551615\r\n",
       Mail("a@b", [](Command& c) { c.mail.size = UINT64_MAX; })},
      {"MAIL FROM:<a@b> SIZE=00000000000000000001\r\n",
       Mail("a@b", [](Command& c) { c.mail.size = 1; })},
      {"MAIL FROM:<a@b> BODY=8BITMIME\r\n",
       Mail("a@b", [](Command& c) { c.mail.body = Body::k8BitMime; })},
      {"MAIL FROM:<a@b> body=7bit\r\n", Mail("a@b", [](Command& c) { c.mail.body = Body::k7Bit; })},
      {"MAIL FROM:<a@b> BODY=BinaryMIME\r\n",
       Mail("a@b", [](Command& c) { c.mail.body = Body::kBinaryMime; })},
      {"MAIL FROM:<a@b> smtputf8\r\n", Mail("a@b", [](Command& c) { c.mail.smtputf8 = true; })},
      {"MAIL FROM:<a@b> RET=FULL\r\n", Mail("a@b", [](Command& c) { c.mail.ret = Ret::kFull; })},
      {"MAIL FROM:<a@b> ret=hdrs\r\n", Mail("a@b", [](Command& c) { c.mail.ret = Ret::kHeaders; })},
      {"MAIL FROM:<a@b> ENVID=QQ314159\r\n",
       Mail("a@b", [](Command& c) { c.mail.envid = "QQ314159"; })},
      {"MAIL FROM:<a@b> ENVID=a+2Bb+3dc\r\n",
       Mail("a@b", [](Command& c) { c.mail.envid = "a+b=c"; })},
      {"MAIL FROM:<a@b> ENVID=" + std::string(100, 'e') + "\r\n",
       Mail("a@b", [](Command& c) { c.mail.envid = std::string(100, 'e'); })},
      {"MAIL FROM:<a@b> AUTH=<>\r\n", Mail("a@b", [](Command& c) { c.mail.auth = "<>"; })},
      {"MAIL FROM:<a@b> AUTH=e+3Dmc2@example.com\r\n",
       Mail("a@b", [](Command& c) { c.mail.auth = "e=mc2@example.com"; })},
      {"MAIL FROM:<> SIZE=512 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id1 AUTH=<>\r\n",
       Mail("",
            [](Command& c) {
              c.mail.size = 512;
              c.mail.body = Body::k8BitMime;
              c.mail.smtputf8 = true;
              c.mail.ret = Ret::kHeaders;
              c.mail.envid = "id1";
              c.mail.auth = "<>";
            })},
      {"MAIL FROM:<a@b>   SIZE=1   BODY=7BIT  \r\n", Mail("a@b",
                                                          [](Command& c) {
                                                            c.mail.size = 1;
                                                            c.mail.body = Body::k7Bit;
                                                          })},
      // RCPT.
      {"RCPT TO:<bob@example.org>\r\n", Rcpt("bob@example.org")},
      {"rcpt to: <bob@example.org>\r\n", Rcpt("bob@example.org")},
      {"RCPT TO:<postmaster>\r\n", Rcpt("postmaster")},
      {"RCPT TO:<PostMaster>\r\n", Rcpt("PostMaster")},
      {"RCPT TO:<Postmaster@example.org>\r\n", Rcpt("Postmaster@example.org")},
      {"RCPT TO:<@a.example,@b.example:c@d.example>\r\n", Rcpt("c@d.example")},
      {"RCPT TO:<b@example.org> NOTIFY=NEVER\r\n", Rcpt("b@example.org",
                                                        [](Command& c) {
                                                          c.rcpt.notify_set = true;
                                                          c.rcpt.notify_never = true;
                                                        })},
      {"RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE,DELAY\r\n",
       Rcpt("b@example.org",
            [](Command& c) {
              c.rcpt.notify_set = true;
              c.rcpt.notify_success = true;
              c.rcpt.notify_failure = true;
              c.rcpt.notify_delay = true;
            })},
      {"RCPT TO:<b@example.org> notify=failure\r\n", Rcpt("b@example.org",
                                                          [](Command& c) {
                                                            c.rcpt.notify_set = true;
                                                            c.rcpt.notify_failure = true;
                                                          })},
      {"RCPT TO:<b@example.org> ORCPT=rfc822;b@example.org\r\n",
       Rcpt("b@example.org", [](Command& c) { c.rcpt.orcpt = "rfc822;b@example.org"; })},
      {"RCPT TO:<b@example.org> ORCPT=rfc822;a+2Bb+20c@example.org NOTIFY=DELAY\r\n",
       Rcpt("b@example.org",
            [](Command& c) {
              c.rcpt.orcpt = "rfc822;a+b c@example.org";
              c.rcpt.notify_set = true;
              c.rcpt.notify_delay = true;
            })},
      // Commands without a path.
      {"DATA\r\n", Cmd(Verb::kData)},
      {"data \r\n", Cmd(Verb::kData)},
      {"RSET\r\n", Cmd(Verb::kRset)},
      {"NOOP\r\n", Cmd(Verb::kNoop)},
      {"noop hello there\r\n", Cmd(Verb::kNoop, "hello there")},
      {"HELP\r\n", Cmd(Verb::kHelp)},
      {"HELP MAIL\r\n", Cmd(Verb::kHelp, "MAIL")},
      {"VRFY bob\r\n", Cmd(Verb::kVrfy, "bob")},
      {"vrfy Bob Smith <bob@example.org>\r\n", Cmd(Verb::kVrfy, "Bob Smith <bob@example.org>")},
      {"EXPN staff\r\n", Cmd(Verb::kExpn, "staff")},
      {"QUIT\r\n", Cmd(Verb::kQuit)},
      {"quit\n", Cmd(Verb::kQuit)},
      {"STARTTLS\r\n", Cmd(Verb::kStartTls)},
      {"StartTLS\r\n", Cmd(Verb::kStartTls)},
      // AUTH (with an initial response, or without SASL: the table runs no exchange).
      {"AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n", Cmd(Verb::kAuth, "PLAIN AGJvYgBzZWNyZXQ=")},
      {"auth plain =\r\n", Cmd(Verb::kAuth, "PLAIN =")},
      {"AUTH  xoauth2  dXNlcj1ib2IBAQ==  \r\n", Cmd(Verb::kAuth, "XOAUTH2 dXNlcj1ib2IBAQ==")},
      {"AUTH login\r\n", Cmd(Verb::kAuth, "LOGIN")},
      {"AUTH SCRAM-SHA-256\r\n", Cmd(Verb::kAuth, "SCRAM-SHA-256")},
      {"AUTH X_MECH-2\r\n", Cmd(Verb::kAuth, "X_MECH-2")},
      {"AUTH ABCDEFGHIJKLMNOPQRST\r\n", Cmd(Verb::kAuth, "ABCDEFGHIJKLMNOPQRST")},
  };
}

std::vector<Case> BadCases() {
  const ParseError kMailSyntax = Syntax("Syntax: MAIL FROM:<address>");
  const ParseError kRcptSyntax = Syntax("Syntax: RCPT TO:<address>");
  const ParseError kBdatSyntax = Syntax("Syntax: BDAT size [LAST]");
  const ParseError kParamSyntax = Syntax("Syntax error in parameters");
  auto mail = [](std::string_view path) { return "MAIL FROM:<" + std::string(path) + ">\r\n"; };
  auto param = [](std::string_view p) { return "MAIL FROM:<a@b> " + std::string(p) + "\r\n"; };
  auto rparam = [](std::string_view p) { return "RCPT TO:<a@b> " + std::string(p) + "\r\n"; };
  return {
      // Lines that are no command.
      {"\r\n", Unrecognized()},
      {"\n", Unrecognized()},
      {" NOOP\r\n", Unrecognized()},
      {"FOO\r\n", Unrecognized()},
      {"MAI\r\n", Unrecognized()},
      {"MAILFROM:<a@b>\r\n", Unrecognized()},
      {"STARTTLSX\r\n", Unrecognized()},
      {"NO\xc3\x96P\r\n", Unrecognized()},
      {"NOOP\0\r\n"s, Err(500, "5.5.2", "NUL character not allowed")},
      {"NO\0OP\r\n"s, Err(500, "5.5.2", "NUL character not allowed")},
      {"\0\n"s, Err(500, "5.5.2", "NUL character not allowed")},
      {"NOOP\r\r\n", Err(500, "5.5.2", "Bare CR not allowed")},
      {"NOOP\rQUIT\r\n", Err(500, "5.5.2", "Bare CR not allowed")},
      {"\rRSET\n", Err(500, "5.5.2", "Bare CR not allowed")},
      {"NOOP\tx\r\n", Err(500, "5.5.2", "Invalid character in command")},
      {"HELO a\x01\r\n", Err(500, "5.5.2", "Invalid character in command")},
      {"NOOP \x7f\r\n", Err(500, "5.5.2", "Invalid character in command")},
      // Missing or extra arguments.
      {"HELO\r\n", Syntax("Syntax: HELO hostname")},
      {"EHLO \r\n", Syntax("Syntax: EHLO hostname")},
      {"EHLO a b\r\n", Syntax("Syntax: EHLO hostname")},
      {"DATA x\r\n", Syntax("Syntax: DATA")},
      {"RSET now\r\n", Syntax("Syntax: RSET")},
      {"QUIT now\r\n", Syntax("Syntax: QUIT")},
      {"STARTTLS x\r\n", Syntax("Syntax: STARTTLS")},
      {"VRFY\r\n", Syntax("Syntax: VRFY address")},
      {"EXPN  \r\n", Syntax("Syntax: EXPN mailing-list")},
      {"AUTH\r\n", Syntax("Syntax: AUTH mechanism [initial-response]")},
      {"AUTH PLAIN a b\r\n", Syntax("Syntax: AUTH mechanism [initial-response]")},
      {"AUTH PL@IN\r\n", Syntax("Invalid authentication mechanism")},
      {"AUTH ABCDEFGHIJKLMNOPQRSTU\r\n", Syntax("Invalid authentication mechanism")},
      {"AUTH PL\xc3\x84IN\r\n", Syntax("Invalid authentication mechanism")},
      // MAIL / RCPT syntax.
      {"MAIL\r\n", kMailSyntax},
      {"MAIL FROM\r\n", kMailSyntax},
      {"MAIL  FROM:<a@b>\r\n", kMailSyntax},
      {"MAIL TO:<a@b>\r\n", kMailSyntax},
      {"MAIL FROM:a@b\r\n", kMailSyntax},
      {"MAIL FROM:\r\n", kMailSyntax},
      {"MAIL FROM:<a@b\r\n", kMailSyntax},
      {"MAIL FROM:<\"a@b>\r\n", kMailSyntax},
      {"MAIL FROM:<a@b>x\r\n", kMailSyntax},
      {"MAIL FROM:<a@b>SIZE=1\r\n", kMailSyntax},
      {"MAIL FROM:a@b SIZE=1\r\n", kMailSyntax},
      {"RCPT\r\n", kRcptSyntax},
      {"RCPT FROM:<a@b>\r\n", kRcptSyntax},
      {"RCPT TO:b@c\r\n", kRcptSyntax},
      // Bad addresses.
      {mail("a"), BadSender()},
      {mail("postmaster"), BadSender()},
      {mail("@b"), BadSender()},
      {mail("a@"), BadSender()},
      {mail("a@b."), BadSender()},
      {mail("a@.b"), BadSender()},
      {mail("a@b..c"), BadSender()},
      {mail("a..b@c"), BadSender()},
      {mail(".a@c"), BadSender()},
      {mail("a.@c"), BadSender()},
      {mail("a b@c"), BadSender()},
      {mail("a(b)@c"), BadSender()},
      {mail("a@b@c"), BadSender()},
      {mail("a@b_c.example"), BadSender()},
      {mail("a@-b.example"), BadSender()},
      {mail("a@b-.example"), BadSender()},
      {mail("a@" + std::string(64, 'd') + ".example"), BadSender()},
      {mail("a@[1.2.3]"), BadSender()},
      {mail("a@[1.2.3.256]"), BadSender()},
      {mail("a@[1.2.3.4.5]"), BadSender()},
      {mail("a@[1.2.3.4]x"), BadSender()},
      {mail("a@[example.com]"), BadSender()},
      {mail("a@[IPv6:1::2::3]"), BadSender()},
      {mail("a@[IPv6:1:2:3:4:5:6:7::]"), BadSender()},  // RFC 5321: at most 6 groups with "::".
      {mail("a@[IPv6:1:2:3:4:5:6:7]"), BadSender()},
      {mail("a@[IPv6:1:2:3:4:5:6:7:8:9]"), BadSender()},
      {mail("a@[IPv6:12345::1]"), BadSender()},
      {mail("a@[IPv6:g::1]"), BadSender()},
      {mail("a@[IPv6:1.2.3.4::]"), BadSender()},
      {mail("a@[tag:content]"), BadSender()},
      {mail("\"a\"b@c"), BadSender()},
      {mail("\"a\\\x01\"@c"), Err(500, "5.5.2", "Invalid character in command")},
      {mail("\"a\"@"), BadSender()},
      {mail("@a:"), BadSender()},
      {mail("@a,b:c@d"), BadSender()},
      {mail("@a_b:c@d"), BadSender()},
      {mail("@a"), BadSender()},
      {mail("a@b\xff"), BadSender()},
      {mail("\xc0\xaf@b"), BadSender()},      // Overlong UTF-8.
      {mail("\xed\xa0\x80@b"), BadSender()},  // A UTF-16 surrogate.
      {mail("\xe7\x94@b"), BadSender()},      // Truncated.
      {mail(std::string(65, 'l') + "@b"), Err(501, "5.1.7", "Local part too long")},
      {mail("a@" + std::string(60, 'd') + "." + std::string(60, 'd') + "." + std::string(60, 'd') +
            "." + std::string(60, 'd') + "." + std::string(60, 'd')),
       Err(501, "5.1.7", "Path too long")},
      {"RCPT TO:<>\r\n", BadRecipient()},
      {"RCPT TO:<postmaster@>\r\n", BadRecipient()},
      {"RCPT TO:<post master>\r\n", BadRecipient()},
      {"RCPT TO:<" + std::string(65, 'l') + "@b>\r\n", Err(501, "5.1.3", "Local part too long")},
      // Parameters.
      {param("FOO=bar"), Err(555, "5.5.4", "Unsupported parameter FOO")},
      {param("x-Custom"), Err(555, "5.5.4", "Unsupported parameter X-CUSTOM")},
      {param("NOTIFY=NEVER"), Err(555, "5.5.4", "Unsupported parameter NOTIFY")},
      {param(std::string(40, 'k')),
       Err(555, "5.5.4", "Unsupported parameter " + std::string(32, 'K'))},
      {rparam("SIZE=1"), Err(555, "5.5.4", "Unsupported parameter SIZE")},
      {param("SIZE=1 SIZE=2"), Err(555, "5.5.4", "Duplicate parameter SIZE")},
      {param("size=1 BODY=7BIT Size=1"), Err(555, "5.5.4", "Duplicate parameter SIZE")},
      {param("SMTPUTF8 SMTPUTF8"), Err(555, "5.5.4", "Duplicate parameter SMTPUTF8")},
      {rparam("NOTIFY=NEVER NOTIFY=NEVER"), Err(555, "5.5.4", "Duplicate parameter NOTIFY")},
      {param("=1"), kParamSyntax},
      {param("-SIZE=1"), kParamSyntax},
      {param("SI_ZE=1"), kParamSyntax},
      {param("SIZE=1=2"), kParamSyntax},
      {param("SIZE=\xc3\xa9"), Syntax("Invalid SIZE value")},
      {param("SIZE="), Syntax("Invalid SIZE value")},
      {param("SIZE"), Syntax("Invalid SIZE value")},
      {param("SIZE=-1"), Syntax("Invalid SIZE value")},
      {param("SIZE=+1"), Syntax("Invalid SIZE value")},
      {param("SIZE=1k"), Syntax("Invalid SIZE value")},
      {param("SIZE=18446744073709551616"), Syntax("Invalid SIZE value")},
      {param("SIZE=000000000000000000001"), Syntax("Invalid SIZE value")},  // 21 digits.
      {param("BODY=9BIT"), Syntax("Invalid BODY value")},
      {param("BODY"), Syntax("Invalid BODY value")},
      {param("SMTPUTF8=YES"), Syntax("SMTPUTF8 takes no value")},
      {param("SMTPUTF8="), Syntax("SMTPUTF8 takes no value")},
      {param("RET=NONE"), Syntax("Invalid RET value")},
      {param("ENVID="), Syntax("Invalid ENVID value")},
      {param("ENVID=" + std::string(101, 'e')), Syntax("Invalid ENVID value")},
      {param("ENVID=a+0D+0ABcc:x"), Syntax("Invalid ENVID value")},
      {param("ENVID=a+zz"), Syntax("Invalid ENVID value")},
      {param("ENVID=a+4"), Syntax("Invalid ENVID value")},
      {param("ENVID=\xc3\xa9"), Syntax("Invalid ENVID value")},
      {param("AUTH="), Syntax("Invalid AUTH value")},
      {param("AUTH=a+00b"), Syntax("Invalid AUTH value")},
      {rparam("NOTIFY=NEVER,SUCCESS"), Syntax("Invalid NOTIFY value")},
      {rparam("NOTIFY=DELAY,NEVER"), Syntax("Invalid NOTIFY value")},
      {rparam("NOTIFY=SOMETIMES"), Syntax("Invalid NOTIFY value")},
      {rparam("NOTIFY="), Syntax("Invalid NOTIFY value")},
      {rparam("NOTIFY=SUCCESS,"), Syntax("Invalid NOTIFY value")},
      {rparam("NOTIFY"), Syntax("Invalid NOTIFY value")},
      {rparam("ORCPT=b@c"), Syntax("Invalid ORCPT value")},
      {rparam("ORCPT=;b@c"), Syntax("Invalid ORCPT value")},
      {rparam("ORCPT=rfc822;"), Syntax("Invalid ORCPT value")},
      {rparam("ORCPT=rfc(822);b@c"), Syntax("Invalid ORCPT value")},
      {rparam("ORCPT=rfc822;a+0D+0Ab@c"), Syntax("Invalid ORCPT value")},
      // BDAT (no chunk follows a BDAT the parser could not read).
      {"BDAT\r\n", kBdatSyntax},
      {"BDAT x\r\n", kBdatSyntax},
      {"BDAT -1\r\n", kBdatSyntax},
      {"BDAT 1.5\r\n", kBdatSyntax},
      {"BDAT 0x10\r\n", kBdatSyntax},
      {"BDAT 1 FIRST\r\n", kBdatSyntax},
      {"BDAT 1 LAST x\r\n", kBdatSyntax},
      {"BDAT LAST\r\n", kBdatSyntax},
      {"BDAT 000000000000000000001\r\n", kBdatSyntax},  // 21 digits.
      {"BDAT 18446744073709551616\r\n", kBdatSyntax},
  };
}

TEST(CommandTableTest, GoodCommandsParseWholeBytewiseAndAtEverySplit) {
  const SessionOptions no_session{/*accept_data=*/false, /*sasl=*/false};
  for (const Case& c : GoodCases()) {
    ASSERT_TRUE(std::holds_alternative<Command>(c.expected)) << Escape(c.input);
    ExpectEverySplit(c.input, {c.expected}, {}, no_session);
  }
}

TEST(CommandTableTest, BadCommandsGiveOneErrorWholeBytewiseAndAtEverySplit) {
  for (const Case& c : BadCases()) {
    ASSERT_TRUE(std::holds_alternative<ParseError>(c.expected)) << Escape(c.input);
    ExpectEverySplit(c.input, {c.expected});
  }
}

TEST(CommandTableTest, DsnValuesHaveTheirRfcLimits) {
  // ORCPT may be 500 octets (RFC 3461 section 4.2), which needs a longer line than 512.
  ParserLimits limits;
  limits.max_command_line = 1024;
  const std::string ok = "rfc822;" + std::string(493, 'o');
  EXPECT_EQ(RunEvents({"RCPT TO:<a@b> ORCPT=" + ok + "\r\n"}, limits),
            std::vector<ParseEvent>{Rcpt("a@b", [&](Command& c) { c.rcpt.orcpt = ok; })});
  EXPECT_EQ(RunEvents({"RCPT TO:<a@b> ORCPT=" + ok + "o\r\n"}, limits),
            std::vector<ParseEvent>{Syntax("Invalid ORCPT value")});
}

TEST(CommandTableTest, ErrorsAreOneLineWithAMatchingEnhancedCode) {
  for (const Case& c : BadCases()) {
    const auto& error = std::get<ParseError>(c.expected);
    EXPECT_GE(error.code, 500);
    EXPECT_LT(error.code, 600);
    EXPECT_EQ(error.enhanced.substr(0, 2), "5.");
    EXPECT_FALSE(error.text.empty());
    EXPECT_EQ(error.text.find_first_of("\r\n"), std::string::npos);
  }
}

TEST(CommandTableTest, EveryVerbHasItsName) {
  const std::vector<std::pair<Verb, std::string_view>> verbs = {
      {Verb::kHelo, "HELO"},         {Verb::kEhlo, "EHLO"}, {Verb::kMail, "MAIL"},
      {Verb::kRcpt, "RCPT"},         {Verb::kData, "DATA"}, {Verb::kBdat, "BDAT"},
      {Verb::kRset, "RSET"},         {Verb::kNoop, "NOOP"}, {Verb::kVrfy, "VRFY"},
      {Verb::kExpn, "EXPN"},         {Verb::kHelp, "HELP"}, {Verb::kQuit, "QUIT"},
      {Verb::kStartTls, "STARTTLS"}, {Verb::kAuth, "AUTH"},
  };
  for (const auto& [verb, name] : verbs) EXPECT_EQ(VerbName(verb), name);
}

TEST(ParserTest, NothingBeforeTheLineEnd) {
  Parser parser;
  ASSERT_EQ(parser.Feed("NOOP"), 4u);
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  EXPECT_EQ(parser.buffered(), 4u);
  ASSERT_EQ(parser.Feed("\r"), 1u);
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  ASSERT_EQ(parser.Feed("\n"), 1u);
  EXPECT_EQ(parser.buffered(), 6u);
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kNoop)));
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(ParserTest, EmptyFeedIsHarmless) {
  Parser parser;
  EXPECT_EQ(parser.Feed(""), 0u);
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
}

TEST(ParserTest, BareLfLineEndsAreToleratedForCommands) {
  ExpectEverySplit("EHLO a\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\r\nQUIT\n",
                   {Cmd(Verb::kEhlo, "a"), Mail("a@b"), Rcpt("c@d"), Cmd(Verb::kQuit)});
}

// --- Long lines -----------------------------------------------------------------------------

TEST(LongLineTest, ALineOfExactlyTheLimitIsACommand) {
  const std::string text(512 - 7, 'x');  // "NOOP " + text + CRLF = 512 octets.
  ExpectEverySplit("NOOP " + text + "\r\n", {Cmd(Verb::kNoop, text)});
}

TEST(LongLineTest, OneOctetMoreIsAnErrorAndTheNextLineStillWorks) {
  const std::string line = "NOOP " + std::string(512 - 6, 'x') + "\r\n";  // 513 octets.
  ExpectEverySplit(line + "QUIT\r\n", {TooLong(), Cmd(Verb::kQuit)});
  // A bare LF line end counts as one octet.
  ExpectEverySplit("NOOP " + std::string(512 - 6, 'x') + "\n",
                   {Cmd(Verb::kNoop, std::string(506, 'x'))});
}

TEST(LongLineTest, ReportedOnceTheLimitIsPassedAndTheRestIsSkipped) {
  Parser parser;
  const std::string head(600, 'a');
  ASSERT_EQ(parser.Feed(head), head.size());
  EXPECT_EQ(parser.Next(), ParseEvent(TooLong()));
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  // A megabyte more of the same line is taken and dropped.
  const std::string more(1 << 20, 'b');
  ASSERT_EQ(parser.Feed(more), more.size());
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  ASSERT_EQ(parser.Feed("tail\r\nMAIL FROM:<a@b>\r\n"), 23u);
  EXPECT_EQ(parser.Next(), ParseEvent(Mail("a@b")));
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(LongLineTest, TheLimitIsConfigurable) {
  ParserLimits limits;
  limits.max_command_line = 64 * 1024;
  const std::string text(64 * 1024 - 7, 'v');
  ExpectEverySplit("VRFY " + text + "\r\nVRFY " + text + "v\r\n",
                   {Cmd(Verb::kVrfy, text), TooLong()}, limits);
}

TEST(LongLineTest, AnAuthLineMayCarryALongInitialResponse) {
  const std::string token(4000, 'A');
  ExpectEverySplit("AUTH XOAUTH2 " + token + "\r\nNOOP " + token + "\r\n",
                   {Cmd(Verb::kAuth, "XOAUTH2 " + token), TooLong()});
  const std::string huge(12288, 'A');
  EXPECT_EQ(RunWhole("auth xoauth2 " + huge + "\r\nQUIT\r\n"),
            DescribeList({TooLong(), Cmd(Verb::kQuit)}));
}

// --- Pipelining -----------------------------------------------------------------------------

TEST(PipeliningTest, ATransactionInOnePieceComesOutInOrder) {
  ExpectEverySplit(
      "EHLO client.example\r\nMAIL FROM:<a@b.example> SIZE=10\r\nRCPT TO:<c@d.example>\r\n"
      "RCPT TO:<bad>\r\nRCPT TO:<e@f.example>\r\nDATA\r\n",
      {Cmd(Verb::kEhlo, "client.example"),
       Mail("a@b.example", [](Command& c) { c.mail.size = 10; }), Rcpt("c@d.example"),
       BadRecipient(), Rcpt("e@f.example"), Cmd(Verb::kData)},
      {}, SessionOptions{/*accept_data=*/false, /*sasl=*/true});
}

TEST(PipeliningTest, FeedStopsTakingAtTheWindowAndResumesAfterNext) {
  ParserLimits limits;
  limits.max_pipelined_commands = 3;
  Parser parser(limits);
  const std::string input = "NOOP 1\r\nNOOP 2\r\nNOOP 3\r\nNOOP 4\r\nNOOP 5\r\n";
  EXPECT_EQ(parser.Feed(input), 24u);  // Three lines.
  EXPECT_EQ(parser.Feed(std::string_view(input).substr(24)), 0u);
  EXPECT_EQ(parser.buffered(), 24u);
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kNoop, "1")));
  EXPECT_EQ(parser.Feed(std::string_view(input).substr(24)), 8u);  // Room for one more.
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kNoop, "2")));
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kNoop, "3")));
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kNoop, "4")));
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  EXPECT_EQ(parser.Feed(std::string_view(input).substr(32)), 8u);
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kNoop, "5")));
}

TEST(PipeliningTest, ManyCommandsThroughASmallWindow) {
  ParserLimits limits;
  limits.max_pipelined_commands = 2;
  std::string input;
  std::vector<ParseEvent> expected;
  for (int i = 0; i < 50; ++i) {
    input += "RCPT TO:<u" + std::to_string(i) + "@example.org>\r\n";
    expected.push_back(Rcpt("u" + std::to_string(i) + "@example.org"));
  }
  EXPECT_EQ(RunEvents({input}, limits), expected);
  EXPECT_EQ(RunSteps(input, 7, limits), DescribeList(expected));
}

TEST(PipeliningTest, FeedStopsAfterDataUntilTheSessionAnswered) {
  Parser parser;
  const std::string input = "RCPT TO:<a@b>\r\nDATA\r\nSubject: x\r\n";
  EXPECT_EQ(parser.Feed(input), 21u);  // Through the DATA line.
  EXPECT_EQ(parser.Next(), ParseEvent(Rcpt("a@b")));
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kData)));
  parser.BeginData();
  EXPECT_EQ(parser.Feed(std::string_view(input).substr(21)), 12u);
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  EXPECT_EQ(parser.Feed("\r\n.\r\n"), 5u);
  EXPECT_EQ(parser.Next(), ParseEvent(Data("Subject: x\r\n\r\n")));
}

// --- STARTTLS -------------------------------------------------------------------------------

TEST(StartTlsTest, NothingHeldAfterACleanStartTls) {
  Parser parser;
  ASSERT_EQ(parser.Feed("EHLO a\r\nSTARTTLS\r\n"), 18u);
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kEhlo, "a")));
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kStartTls)));
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(StartTlsTest, ResetDropsCommandsPipelinedPastStartTls) {
  Parser parser;
  const std::string injected = "MAIL FROM:<evil@example.com>\r\nRCPT TO:<x@y>\r\nRS";
  ASSERT_EQ(parser.Feed("STARTTLS\r\n" + injected), 10 + injected.size());
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kStartTls)));
  EXPECT_EQ(parser.buffered(), injected.size());
  parser.Reset();
  EXPECT_EQ(parser.buffered(), 0u);
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  // The partial "RS" is gone too: the first line after the handshake stands alone.
  ASSERT_EQ(parser.Feed("EHLO a\r\n"), 8u);
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kEhlo, "a")));
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
}

TEST(StartTlsTest, ResetLeavesAnyModeForCommands) {
  {
    Parser parser;  // Inside a message.
    ASSERT_EQ(parser.Feed("DATA\r\n"), 6u);
    EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kData)));
    parser.BeginData();
    ASSERT_EQ(parser.Feed("half a message"), 14u);
    EXPECT_EQ(parser.buffered(), 14u);
    parser.Reset();
    EXPECT_EQ(parser.buffered(), 0u);
    ASSERT_EQ(parser.Feed(".\r\nQUIT\r\n"), 9u);
    EXPECT_EQ(parser.Next(), ParseEvent(Unrecognized()));
    EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kQuit)));
  }
  {
    Parser parser;  // Inside a chunk.
    ASSERT_EQ(parser.Feed("BDAT 100\r\nabc"), 13u);
    parser.Reset();
    EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
    ASSERT_EQ(parser.Feed("QUIT\r\n"), 6u);
    EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kQuit)));
  }
  {
    Parser parser;  // Expecting a SASL line, and skipping a long line.
    parser.ExpectSaslResponse();
    ASSERT_EQ(parser.Feed(std::string(13000, 'x')), 13000u);
    parser.Reset();
    ASSERT_EQ(parser.Feed("QUIT\r\n"), 6u);
    EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kQuit)));
  }
}

// --- SASL -----------------------------------------------------------------------------------

TEST(SaslTest, ResponsesAreLinesVerbatim) {
  ExpectEverySplit(
      "AUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\nAUTH PLAIN\r\n*\r\nAUTH PLAIN\r\n\r\nQUIT\r\n",
      {Cmd(Verb::kAuth, "LOGIN"), SaslResponse{"dXNlcg=="}, SaslResponse{"cGFzcw=="},
       Cmd(Verb::kAuth, "PLAIN"), SaslResponse{"*"}, Cmd(Verb::kAuth, "PLAIN"), SaslResponse{""},
       Cmd(Verb::kQuit)});
}

TEST(SaslTest, WithoutExpectSaslResponseALineIsACommand) {
  const SessionOptions no_sasl{/*accept_data=*/true, /*sasl=*/false};
  ExpectEverySplit("AUTH PLAIN\r\nAGJvYgBzZWNyZXQ=\r\n",
                   {Cmd(Verb::kAuth, "PLAIN"), Unrecognized()}, {}, no_sasl);
}

TEST(SaslTest, SaslLinesHaveTheirOwnLimit) {
  const std::string token(12288 - 2, 'Q');
  ExpectEverySplit("AUTH XOAUTH2\r\n" + token + "\r\nQUIT\r\n",
                   {Cmd(Verb::kAuth, "XOAUTH2"), SaslResponse{token}, Cmd(Verb::kQuit)});
  // One octet more ends the exchange with an error; the next line is a command again.
  EXPECT_EQ(RunWhole("AUTH XOAUTH2\r\n" + token + "Q\r\nQUIT\r\n"),
            DescribeList({Cmd(Verb::kAuth, "XOAUTH2"), TooLong(), Cmd(Verb::kQuit)}));
}

TEST(SaslTest, BadBytesInASaslLineAreErrors) {
  EXPECT_EQ(RunWhole("AUTH PLAIN\r\nAG\0Jv\r\nQUIT\r\n"s),
            DescribeList({Cmd(Verb::kAuth, "PLAIN"), Err(500, "5.5.2", "NUL character not allowed"),
                          Cmd(Verb::kQuit)}));
  EXPECT_EQ(RunWhole("AUTH PLAIN\r\nAG\rJv\r\nQUIT\r\n"),
            DescribeList({Cmd(Verb::kAuth, "PLAIN"), Err(500, "5.5.2", "Bare CR not allowed"),
                          Cmd(Verb::kQuit)}));
}

TEST(SaslTest, ABareLfEndsASaslLine) {
  ExpectEverySplit("AUTH PLAIN\nAGJvYgBzZWNyZXQ=\nQUIT\n",
                   {Cmd(Verb::kAuth, "PLAIN"), SaslResponse{"AGJvYgBzZWNyZXQ="}, Cmd(Verb::kQuit)});
}

// --- DATA -----------------------------------------------------------------------------------

TEST(DataTest, AMessageAndThePipelinedCommandsAfterIt) {
  ExpectEverySplit(
      "DATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nQUIT\r\n",
      {Cmd(Verb::kData), Data("Subject: hi\r\n\r\nbody\r\n"), Mail("a@b"), Rcpt("c@d"),
       Cmd(Verb::kQuit)});
}

TEST(DataTest, AnEmptyMessage) {
  ExpectEverySplit("DATA\r\n.\r\nQUIT\r\n", {Cmd(Verb::kData), Data(""), Cmd(Verb::kQuit)});
}

TEST(DataTest, TwoMessagesBackToBack) {
  ExpectEverySplit("DATA\r\na\r\n.\r\nDATA\r\nb\r\n.\r\n",
                   {Cmd(Verb::kData), Data("a\r\n"), Cmd(Verb::kData), Data("b\r\n")});
}

TEST(DataTest, WithoutBeginDataTheLinesAreCommands) {
  const SessionOptions refuse{/*accept_data=*/false, /*sasl=*/true};
  ExpectEverySplit("DATA\r\nSubject: hi\r\n.\r\nQUIT\r\n",
                   {Cmd(Verb::kData), Unrecognized(), Unrecognized(), Cmd(Verb::kQuit)}, {},
                   refuse);
}

TEST(DataTest, DotUnstuffing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"..\r\n", ".\r\n"},
      {"..foo\r\n", ".foo\r\n"},
      {".foo\r\n", "foo\r\n"},
      {"...\r\n", "..\r\n"},
      {"a\r\n..\r\nb\r\n", "a\r\n.\r\nb\r\n"},
      {"x.\r\n.x\r\n", "x.\r\nx\r\n"},
      {"a\r\n..\r\n..\r\n", "a\r\n.\r\n.\r\n"},
  };
  for (const auto& [content, message] : cases) {
    ExpectEverySplit("DATA\r\n" + content + ".\r\n", {Cmd(Verb::kData), Data(message)});
  }
  ExpectEverySplit("DATA\r\na.b\r\n.\r\nQUIT\r\n",
                   {Cmd(Verb::kData), Data("a.b\r\n"), Cmd(Verb::kQuit)});
}

TEST(DataTest, TheEndMarkerSplitAtEveryPointAcrossThreePieces) {
  const std::string input = "DATA\r\nline\r\n..dot\r\n.\r\nQUIT\r\n";
  const std::vector<std::string> want =
      DescribeList({Cmd(Verb::kData), Data("line\r\n.dot\r\n"), Cmd(Verb::kQuit)});
  for (size_t a = 1; a < input.size(); ++a) {
    for (size_t b = a + 1; b < input.size(); ++b) {
      const std::string_view in = input;
      ASSERT_EQ(RunPieces({in.substr(0, a), in.substr(a, b - a), in.substr(b)}), want)
          << a << " " << b;
    }
  }
}

TEST(DataTest, OnlyCrLfDotCrLfEndsTheData) {
  // Each of these would end the message for some MTA; here it is content, flagged.
  const std::vector<std::string> smuggles = {
      "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r", "\n.\r",
  };
  const std::string smuggled = "MAIL FROM:<evil@example.com>\r\n";
  for (const std::string& s : smuggles) {
    SCOPED_TRACE(Escape(s));
    const std::string content = "Subject: x\r\n\r\nbody" + s + smuggled;
    // What the parser keeps: the content with the smuggling dot removed when it starts a
    // CRLF line, as any line starting with a dot.
    std::string kept = "Subject: x\r\n\r\nbody" + s + smuggled;
    if (s.rfind("\r\n.", 0) == 0) kept.erase(kept.find("\r\n.", 14) + 2, 1);
    ExpectEverySplit("DATA\r\n" + content + ".\r\nQUIT\r\n",
                     {Cmd(Verb::kData), Data(kept, /*bare=*/true), Cmd(Verb::kQuit)});
  }
}

TEST(DataTest, ASmuggledEndAtTheVeryStartIsContent) {
  ExpectEverySplit("DATA\r\n.\nRSET\r\n.\r\n", {Cmd(Verb::kData), Data("\nRSET\r\n", true)});
  ExpectEverySplit("DATA\r\n.\rRSET\r\n.\r\n", {Cmd(Verb::kData), Data("\rRSET\r\n", true)});
  ExpectEverySplit("DATA\r\n\n.\r\nRSET\r\n.\r\n",
                   {Cmd(Verb::kData), Data("\n.\r\nRSET\r\n", true)});
}

TEST(DataTest, BareLineEndsAnywhereAreFlagged) {
  ExpectEverySplit("DATA\r\na\nb\r\n.\r\n", {Cmd(Verb::kData), Data("a\nb\r\n", true)});
  ExpectEverySplit("DATA\r\na\rb\r\n.\r\n", {Cmd(Verb::kData), Data("a\rb\r\n", true)});
  ExpectEverySplit("DATA\r\na\r\r\n.\r\n", {Cmd(Verb::kData), Data("a\r\r\n", true)});
  ExpectEverySplit("DATA\r\na\r\n\n.\r\n.\r\n", {Cmd(Verb::kData), Data("a\r\n\n.\r\n", true)});
  ExpectEverySplit("DATA\r\na\r\nb\r\n.\r\n", {Cmd(Verb::kData), Data("a\r\nb\r\n", false)});
}

TEST(DataTest, AnyOctetIsContent) {
  std::string content;
  for (int c = 0; c < 256; ++c) {
    if (c != '\r' && c != '\n') content.push_back(static_cast<char>(c));
  }
  content += "\r\n";
  ExpectEverySplit("DATA\r\n" + content + ".\r\n", {Cmd(Verb::kData), Data(content)});
}

TEST(DataTest, OverTheSizeLimitTheContentIsCountedNotKept) {
  ParserLimits limits;
  limits.max_message_size = 10;
  ExpectEverySplit("DATA\r\n12345678\r\n.\r\n", {Cmd(Verb::kData), Data("12345678\r\n")}, limits);
  // Dot-unstuffing comes first: 11 octets on the wire, 10 of content.
  ExpectEverySplit("DATA\r\n.23456789\r\n.\r\n", {Cmd(Verb::kData), Data("23456789\r\n")}, limits);
  DataDone big;
  big.octets = 11;
  big.too_big = true;
  ExpectEverySplit("DATA\r\n123456789\r\n.\r\nQUIT\r\n", {Cmd(Verb::kData), big, Cmd(Verb::kQuit)},
                   limits);
}

TEST(DataTest, ALargeMessageOverTheLimitKeepsCounting) {
  ParserLimits limits;
  limits.max_message_size = 1000;
  const std::string line = std::string(998, 'm') + "\r\n";
  std::string content;
  for (int i = 0; i < 1000; ++i) content += line;
  DataDone big;
  big.octets = content.size();
  big.too_big = true;
  const std::string input = "DATA\r\n" + content + ".\r\nQUIT\r\n";
  EXPECT_EQ(RunEvents({input}, limits),
            (std::vector<ParseEvent>{Cmd(Verb::kData), big, Cmd(Verb::kQuit)}));
  EXPECT_EQ(RunSteps(input, 4093, limits), DescribeList({Cmd(Verb::kData), big, Cmd(Verb::kQuit)}));
}

TEST(DataTest, SetLimitsAppliesToTheNextMessage) {
  Parser parser;
  ParserLimits limits;
  limits.max_message_size = 3;
  parser.set_limits(limits);
  EXPECT_EQ(parser.limits().max_message_size, 3u);
  ASSERT_EQ(parser.Feed("DATA\r\n"), 6u);
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kData)));
  parser.BeginData();
  ASSERT_EQ(parser.Feed("abcd\r\n.\r\n"), 9u);
  const auto done = std::get<DataDone>(parser.Next());
  EXPECT_TRUE(done.too_big);
  EXPECT_EQ(done.octets, 6u);
}

TEST(DataTest, BufferedCountsTheMessageBeingRead) {
  Parser parser;
  ASSERT_EQ(parser.Feed("DATA\r\n"), 6u);
  EXPECT_EQ(parser.Next(), ParseEvent(Cmd(Verb::kData)));
  parser.BeginData();
  ASSERT_EQ(parser.Feed("abc\r\n."), 6u);
  EXPECT_EQ(parser.buffered(), 6u);
  ASSERT_EQ(parser.Feed("\r\nNOOP\r\n"), 2u);  // Stops after the message.
  EXPECT_EQ(parser.buffered(), 8u);
  EXPECT_EQ(parser.Next(), ParseEvent(Data("abc\r\n")));
  EXPECT_EQ(parser.buffered(), 0u);
}

// --- BDAT -----------------------------------------------------------------------------------

TEST(BdatTest, ChunksAreReadByCountWithCommandsAround) {
  ExpectEverySplit(
      "MAIL FROM:<a@b> BODY=BINARYMIME\r\nBDAT 5\r\nhelloBDAT 7 LAST\r\n\0\r\n.\r\nx"
      "QUIT\r\n"s,
      {Mail("a@b", [](Command& c) { c.mail.body = MailParams::Body::kBinaryMime; }), Bdat(5, false),
       Chunk("hello", false), Bdat(7, true), Chunk("\0\r\n.\r\nx"s, true), Cmd(Verb::kQuit)});
}

TEST(BdatTest, ChunkBytesAreNeverCommandsOrDotStuffing) {
  const std::string chunk = ".\r\nMAIL FROM:<x@y>\r\n..\nQUIT\r\n";
  ExpectEverySplit("BDAT " + std::to_string(chunk.size()) + " LAST\r\n" + chunk + "RSET\r\n",
                   {Bdat(chunk.size(), true), Chunk(chunk, true), Cmd(Verb::kRset)});
}

TEST(BdatTest, EveryOctetValueInAChunkSplitAcrossFeeds) {
  std::string chunk;
  for (int round = 0; round < 4; ++round) {
    for (int c = 0; c < 256; ++c) chunk.push_back(static_cast<char>(c));
  }
  const std::string input = "BDAT " + std::to_string(chunk.size()) + "\r\n" + chunk + "QUIT\r\n";
  const std::vector<std::string> want =
      DescribeList({Bdat(chunk.size(), false), Chunk(chunk, false), Cmd(Verb::kQuit)});
  for (size_t step : {1, 2, 3, 7, 100, 1023, 1024, 4096}) {
    EXPECT_EQ(RunSteps(input, step), want) << "step " << step;
  }
}

TEST(BdatTest, AnEmptyLastChunk) {
  ExpectEverySplit(
      "BDAT 3\r\nabcBDAT 0 LAST\r\nQUIT\r\n",
      {Bdat(3, false), Chunk("abc", false), Bdat(0, true), Chunk("", true), Cmd(Verb::kQuit)});
  ExpectEverySplit("bdat 0\r\nbdat 2 last\r\nab",
                   {Bdat(0, false), Chunk("", false), Bdat(2, true), Chunk("ab", true)});
}

TEST(BdatTest, ATooBigChunkIsReadAndDiscarded) {
  ParserLimits limits;
  limits.max_message_size = 100;
  const std::string chunk(1000, 'z');
  ChunkDone big;
  big.size = 1000;
  big.last = true;
  big.too_big = true;
  ExpectEverySplit("BDAT 1000 LAST\r\n" + chunk + "QUIT\r\n",
                   {Bdat(1000, true), big, Cmd(Verb::kQuit)}, limits);
  // Exactly the limit is kept.
  ExpectEverySplit("BDAT 100\r\n" + std::string(100, 'k'),
                   {Bdat(100, false), Chunk(std::string(100, 'k'), false)}, limits);
}

TEST(BdatTest, AHugeAnnouncedChunkKeepsTakingBytes) {
  Parser parser;
  ASSERT_EQ(parser.Feed("BDAT 18446744073709551615\r\n"), 27u);
  EXPECT_EQ(parser.Next(), ParseEvent(Bdat(UINT64_MAX, false)));
  const std::string junk(1 << 20, 'j');
  for (int i = 0; i < 8; ++i) ASSERT_EQ(parser.Feed(junk), junk.size());
  EXPECT_EQ(parser.Next(), ParseEvent(NeedMore{}));
  EXPECT_EQ(parser.buffered(), 8u << 20);
}

TEST(BdatTest, HasBareLineEndingMatchesTheDataReader) {
  // What the session checks on the chunks of a message put together.
  for (const char* content : {"", "a", "a\r\n", "a\r\nb\r\n", "\r\n\r\n", "a\r\n.\r\n"}) {
    EXPECT_FALSE(HasBareLineEnding(content)) << content;
  }
  for (const char* content : {"\n", "\r", "a\nb\r\n", "a\rb\r\n", "a\r\r\n", "a\r\n\n", "a\r\n.\n",
                              "a\n.\r\n", "a\r.\r", "a\r\n.\r", "a\r\n\r"}) {
    EXPECT_TRUE(HasBareLineEnding(content)) << content;
  }
  // The same answer as the DATA reader gives for the same content, for every short mix of
  // CR, LF, "." and one other octet.
  const std::string alphabet = "\r\n.x";
  for (int n = 1; n <= 6; ++n) {
    int combinations = 1;
    for (int i = 0; i < n; ++i) combinations *= 4;
    for (int k = 0; k < combinations; ++k) {
      std::string content;
      for (int i = 0, v = k; i < n; ++i, v /= 4) content.push_back(alphabet[v % 4]);
      content += "\r\n";  // Then ".\r\n" ends the data, unless it came earlier (skipped).
      if (content.find("\r\n.\r\n") != std::string::npos || content.rfind(".\r\n", 0) == 0) {
        continue;
      }
      Parser parser;
      const std::string input = "DATA\r\n" + content + ".\r\n";
      ASSERT_EQ(parser.Feed(input), 6u);
      ASSERT_EQ(std::get<Command>(parser.Next()).verb, Verb::kData);
      parser.BeginData();
      ASSERT_EQ(parser.Feed(std::string_view(input).substr(6)), input.size() - 6);
      const DataDone done = std::get<DataDone>(parser.Next());
      EXPECT_EQ(HasBareLineEnding(content), done.bare_line_ending)
          << testing::PrintToString(content);
    }
  }
}

TEST(BdatTest, ASyntaxErrorReadsNoChunk) {
  ExpectEverySplit("BDAT 5x\r\nQUIT\r\n", {Syntax("Syntax: BDAT size [LAST]"), Cmd(Verb::kQuit)});
}

// --- Cost ----------------------------------------------------------------------------------

// Quadratic rescans would make these take minutes; linear work takes well under a second.
TEST(CostTest, OneByteFeedsOfALargeMessage) {
  std::string content;
  while (content.size() < (4u << 20)) content += "A line of text, not very long.\r\n";
  Parser parser;
  const std::string input = "DATA\r\n" + content + ".\r\n";
  size_t events = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    ASSERT_EQ(parser.Feed(std::string_view(input).substr(i, 1)), 1u);
    for (ParseEvent e = parser.Next(); !std::holds_alternative<NeedMore>(e); e = parser.Next()) {
      if (std::holds_alternative<Command>(e)) parser.BeginData();
      if (const auto* d = std::get_if<DataDone>(&e)) {
        EXPECT_EQ(d->octets, content.size());
      }
      ++events;
    }
  }
  EXPECT_EQ(events, 2u);
}

TEST(CostTest, OneByteFeedsOfLongLinesAndManyCommands) {
  std::string input(4u << 20, 'x');
  input += "\r\n";
  for (int i = 0; i < 100000; ++i) input += "NOOP\r\n";
  Driver driver;
  for (size_t i = 0; i < input.size(); ++i) driver.Offer(std::string_view(input).substr(i, 1));
  ASSERT_EQ(driver.events().size(), 100001u);
  EXPECT_EQ(driver.events().front(), ParseEvent(TooLong()));
  EXPECT_EQ(driver.events().back(), ParseEvent(Cmd(Verb::kNoop)));
}

// --- A whole session in pieces --------------------------------------------------------------

TEST(SessionTest, ASessionGivesTheSameEventsHoweverItIsSplit) {
  const std::string input =
      "EHLO client.example\r\n"
      "AUTH LOGIN\r\nYm9i\r\nc2VjcmV0\r\n"
      "MAIL FROM:<bob@example.org> BODY=8BITMIME SIZE=100\r\n"
      "RCPT TO:<alice@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.com\r\n"
      "RCPT TO:<postmaster>\r\n"
      "DATA\r\n"
      "From: bob@example.org\r\n\r\n..hidden\r\n\n.\n\r\n.\r\n"
      "MAIL FROM:<> \r\nRCPT TO:<c@d>\r\nBDAT 4\r\n1234BDAT 2 LAST\r\n\r\n"
      "VRFY x\r\nHELP\r\nNOOP\r\nRSET\r\nQUIT\r\n";
  const std::vector<std::string> whole = RunWhole(input);
  ASSERT_EQ(whole.size(), 20u);
  EXPECT_EQ(whole[8], Describe(Data("From: bob@example.org\r\n\r\n.hidden\r\n\n.\n\r\n", true)));
  EXPECT_EQ(RunBytewise(input), whole);
  for (size_t step = 2; step < 40; ++step) EXPECT_EQ(RunSteps(input, step), whole) << step;
}

// --- xtext -----------------------------------------------------------------------------------

TEST(XtextTest, Decode) {
  const std::vector<std::pair<std::string, std::string>> good = {
      {"", ""},         {"abc", "abc"}, {"a+2Bb", "a+b"}, {"a+3Db", "a=b"}, {"+20", " "},
      {"+2b+3d", "+="}, {"+00", "\0"s}, {"+FF", "\xff"},  {"!~", "!~"},
  };
  for (const auto& [in, out] : good) {
    bool ok = false;
    EXPECT_EQ(XtextDecode(in, &ok), out) << in;
    EXPECT_TRUE(ok) << in;
  }
  for (std::string_view bad : {"+", "+2", "+G0", "a=b", "a b", "\x01", "\xc3\xa9", "+2+20"}) {
    bool ok = true;
    XtextDecode(bad, &ok);
    EXPECT_FALSE(ok) << Escape(bad);
  }
}

TEST(XtextTest, EncodeAndRoundTrip) {
  EXPECT_EQ(XtextEncode("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(XtextEncode("bob@example.org"), "bob@example.org");
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  bool ok = false;
  EXPECT_EQ(XtextDecode(XtextEncode(all), &ok), all);
  EXPECT_TRUE(ok);
}

// --- Limits ----------------------------------------------------------------------------------

TEST(LimitsTest, Validation) {
  EXPECT_TRUE(ValidateParserLimits(ParserLimits{}).ok());
  ParserLimits limits;
  limits.max_command_line = 65536;
  EXPECT_TRUE(ValidateParserLimits(limits).ok());
  limits.max_command_line = 65537;
  EXPECT_FALSE(ValidateParserLimits(limits).ok());
  limits.max_command_line = 511;
  EXPECT_FALSE(ValidateParserLimits(limits).ok());
  limits = ParserLimits{};
  limits.max_sasl_line = 511;
  EXPECT_FALSE(ValidateParserLimits(limits).ok());
  limits = ParserLimits{};
  limits.max_pipelined_commands = 0;
  EXPECT_FALSE(ValidateParserLimits(limits).ok());
  limits = ParserLimits{};
  limits.max_message_size = 0;
  EXPECT_TRUE(ValidateParserLimits(limits).ok());
}

}  // namespace

void PrintTo(const Command& e, std::ostream* os) { *os << Describe(e); }
void PrintTo(const ParseError& e, std::ostream* os) { *os << Describe(e); }
void PrintTo(const SaslResponse& e, std::ostream* os) { *os << Describe(e); }
void PrintTo(const DataDone& e, std::ostream* os) { *os << Describe(e); }
void PrintTo(const ChunkDone& e, std::ostream* os) { *os << Describe(e); }
void PrintTo(const NeedMore& e, std::ostream* os) { *os << Describe(e); }

}  // namespace transport::smtp
