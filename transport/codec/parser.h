// Incremental SMTP server-side parser: command lines (RFC 5321 with the ESMTP parameters of
// RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 3030 CHUNKING/BINARYMIME, RFC 6531 SMTPUTF8,
// RFC 3461 DSN and RFC 4954 AUTH), SASL continuation lines, DATA content and BDAT chunks.
//
// Pure and bounded: no I/O, no storage. The session offers the bytes it read with Feed() and
// takes events with Next(), in order:
//
//   std::string_view rest(buf, n);                    // What the socket gave us.
//   while (!rest.empty()) {
//     rest.remove_prefix(parser.Feed(rest));          // May take only part of it (see Feed).
//     for (ParseEvent e = parser.Next();
//          !std::holds_alternative<NeedMore>(e); e = parser.Next()) {
//       Handle(e);                                    // May call BeginData() or
//     }                                               //   ExpectSaslResponse().
//   }
//
// Every command line gives exactly one event (a Command or a ParseError), so pipelined
// commands (RFC 2920) come out one at a time and the replies stay in step. After BeginData()
// the content up to CRLF "." CRLF gives one DataDone; a BDAT command is followed by exactly
// one ChunkDone, read automatically. Untrusted input never throws or aborts; it becomes a
// ParseError that the session answers with "<code> <enhanced> <text>".
//
// Feed() stops taking bytes right after a line whose meaning for the following bytes depends
// on the session's answer: a DATA command (354 and BeginData(), or an error), an AUTH command
// and a SASL response (ExpectSaslResponse() or not). It also stops after a DataDone or
// ChunkDone (so at most one message or chunk is held) and when max_pipelined_commands events
// wait for Next(). It takes more once Next() has returned those events. So the way bytes are
// read never depends on how the client's bytes were split into Feed() calls.
//
// Memory: at most max_pipelined_commands lines of max_command_line octets, one AUTH or SASL
// line of max_sasl_line octets and one message or chunk of max_message_size octets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"

namespace transport::smtp {

struct ParserLimits {
  // Longest command line in octets, counting its CRLF. RFC 5321 section 4.5.3.1.4 requires
  // at least 512. Allowed range 512..65536. Default: 512.
  size_t max_command_line = 512;
  // Longest SASL continuation line (see ExpectSaslResponse()) and longest AUTH command line
  // (an initial response such as an XOAUTH2 token does not fit in 512 octets), counting its
  // CRLF. RFC 4954 section 4 asks servers to accept 12288. At least 512. Default: 12288.
  size_t max_sasl_line = 12288;
  // Most complete lines (events) held while waiting for Next(). Once that many wait, Feed()
  // takes no more bytes (the caller keeps them: TCP flow control instead of unbounded
  // buffering). At least 1. Default: 100.
  size_t max_pipelined_commands = 100;
  // Most octets of DATA content (after dot-unstuffing) or of one BDAT chunk kept in memory.
  // Beyond it the octets are counted and discarded, and the event says too_big.
  // Default: 36 MiB.
  uint64_t max_message_size = 36 * 1024 * 1024;
};

// OK when the limits are usable (the ranges above).
common::Status ValidateParserLimits(const ParserLimits& limits);

enum class Verb {
  kHelo,
  kEhlo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kVrfy,
  kExpn,
  kHelp,
  kQuit,
  kStartTls,
  kAuth,
};

// The keyword as written in RFCs: "EHLO", "STARTTLS", ...
std::string_view VerbName(Verb verb);

// MAIL FROM parameters. The parser accepts every parameter it knows whether or not the
// session advertised the extension; the session decides.
struct MailParams {
  // SIZE=<octets> (RFC 1870).
  std::optional<uint64_t> size;
  // BODY= (RFC 6152, RFC 3030).
  enum class Body { kUnspecified, k7Bit, k8BitMime, kBinaryMime };
  Body body = Body::kUnspecified;
  // SMTPUTF8 (RFC 6531).
  bool smtputf8 = false;
  // RET= (RFC 3461).
  enum class Ret { kUnspecified, kFull, kHeaders };
  Ret ret = Ret::kUnspecified;
  // ENVID= (RFC 3461), xtext-decoded; at most 100 characters, no control characters.
  std::string envid;
  // AUTH= (RFC 4954 section 5): "<>" as written, else the xtext-decoded mailbox.
  std::string auth;

  friend bool operator==(const MailParams&, const MailParams&) = default;
};

// RCPT TO parameters (RFC 3461).
struct RcptParams {
  // NOTIFY=: NEVER alone, or any of SUCCESS, FAILURE, DELAY. notify_set says it was given.
  bool notify_never = false;
  bool notify_success = false;
  bool notify_failure = false;
  bool notify_delay = false;
  bool notify_set = false;
  // ORCPT=: "<addr-type>;<address>" with the address xtext-decoded, e.g. "rfc822;bob@b.org".
  std::string orcpt;

  friend bool operator==(const RcptParams&, const RcptParams&) = default;
};

struct Command {
  Verb verb = Verb::kNoop;
  // HELO/EHLO: the domain or address literal as written. VRFY/EXPN: the argument (required).
  // HELP/NOOP: the text, possibly empty. AUTH: "MECHANISM" upper-cased, then " " and the
  // initial response verbatim when one was given ("=" is an empty one, RFC 4954).
  // Leading and trailing spaces are dropped.
  std::string argument;
  // MAIL/RCPT: the mailbox without <> and without a source route; empty for MAIL FROM:<>.
  // Case and quoting are kept as written ("\"john doe\"@example.com", "Postmaster").
  std::string path;
  // The path holds UTF-8 (valid, RFC 6531). Only legal with SMTPUTF8; the session decides.
  bool path_has_utf8 = false;
  MailParams mail;
  RcptParams rcpt;
  // BDAT: the chunk size and whether LAST was given. The chunk follows as a ChunkDone.
  uint64_t bdat_size = 0;
  bool bdat_last = false;

  friend bool operator==(const Command&, const Command&) = default;
};

// A line the session answers with "<code> <enhanced> <text>", e.g. {501, "5.5.4", "Syntax:
// MAIL FROM:<address>"}. The text never holds client bytes other than a parameter keyword.
// After an error for a BDAT line the chunk size is unknown, so the client's chunk would be
// read as commands: the session should close the connection (RFC 3030 gives no way back).
struct ParseError {
  int code = 500;
  std::string enhanced;
  std::string text;

  friend bool operator==(const ParseError&, const ParseError&) = default;
};

// True for the error that reports a line over max_command_line or max_sasl_line
// ("500 5.5.6 Line too long"); the rest of that line is skipped as it arrives.
bool IsLineTooLong(const ParseError& error);

// No complete event is waiting: read more from the client.
struct NeedMore {
  friend bool operator==(const NeedMore&, const NeedMore&) = default;
};

// After ExpectSaslResponse(): the next line verbatim, without its line end. "*" cancels the
// exchange (RFC 4954); decoding the base64 is the session's job. A SASL line that is too
// long, holds a NUL or a bare CR is a ParseError instead (the exchange ends too).
struct SaslResponse {
  std::string line;

  friend bool operator==(const SaslResponse&, const SaslResponse&) = default;
};

// After BeginData(): the message content up to the CRLF "." CRLF that ends it.
struct DataDone {
  // The content, dot-unstuffed, with line ends as received (the last line's CRLF kept, the
  // final ".CRLF" not). Empty when too_big.
  std::string message;
  // Octets of content after dot-unstuffing, all of them even when too_big.
  uint64_t octets = 0;
  // octets > max_message_size: the content was counted and discarded.
  bool too_big = false;
  // A bare LF (not after CR) or a bare CR (not before LF) appeared in the content. Such a
  // line end never ends the data (SMTP smuggling defence); the session may refuse the
  // message or accept it as it is.
  bool bare_line_ending = false;

  friend bool operator==(const DataDone&, const DataDone&) = default;
};

// The chunk that follows a BDAT command: exactly `size` octets, any bytes, no dot-stuffing.
// Comes after every BDAT Command, also one the session refuses (RFC 3030 section 2: the chunk
// is read and discarded all the same).
struct ChunkDone {
  std::string bytes;  // Empty when too_big.
  uint64_t size = 0;
  bool last = false;
  bool too_big = false;  // size > max_message_size: the octets were read and discarded.

  friend bool operator==(const ChunkDone&, const ChunkDone&) = default;
};

using ParseEvent = std::variant<NeedMore, Command, ParseError, SaslResponse, DataDone, ChunkDone>;

class Parser {
 public:
  // `limits` must pass ValidateParserLimits (checked; settings are validated at load time).
  explicit Parser(ParserLimits limits = {});

  Parser(Parser&&) = default;
  Parser& operator=(Parser&&) = default;
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Takes bytes received from the client and returns how many it took. It takes fewer than
  // offered when max_pipelined_commands events wait, or right after a DATA, AUTH or SASL line,
  // a DataDone or a ChunkDone (see the top of this file). It takes nothing only while
  // Next() has an event to return. The caller keeps the rest and offers it again once Next()
  // has returned NeedMore.
  [[nodiscard]] size_t Feed(std::string_view bytes);

  // The next event, or NeedMore.
  ParseEvent Next();

  // The next line is a SASL continuation line: a SaslResponse limited by max_sasl_line. Call
  // it after sending each "334" challenge, before offering more bytes.
  void ExpectSaslResponse();

  // The session answered 354 to the DATA command Next() just returned: the following bytes
  // are message content up to CRLF "." CRLF, which gives a DataDone. Then commands again.
  void BeginData();

  // Drops every byte held and every waiting event: the state of a fresh parser with the same
  // limits. Use after STARTTLS (RFC 3207 section 6: nothing sent before the TLS handshake may
  // be acted on afterwards; CVE-2011-0411), together with any bytes the caller kept.
  void Reset();

  // Client octets taken by Feed() whose events Next() has not returned yet: waiting lines,
  // the line, message or chunk being read (octets skipped or discarded over a limit count
  // too). Not zero after Next() returned STARTTLS means the client pipelined past STARTTLS.
  size_t buffered() const;

  // New limits (they must pass ValidateParserLimits); they apply from the next octet on.
  void set_limits(const ParserLimits& limits);
  const ParserLimits& limits() const { return limits_; }

 private:
  enum class Mode {
    kLines,  // Command lines (or a SASL line).
    kData,   // DATA content after BeginData().
    kChunk,  // The octets of a BDAT chunk.
  };
  // Where the DATA reader stands, for the end marker and dot-unstuffing.
  enum class DataState {
    kLineStart,  // After CRLF, or at the start of the content.
    kDot,        // A "." at the start of a line, not yet kept.
    kDotCr,      // "." CR at the start of a line: an LF now ends the data.
    kInLine,     // Inside a line.
    kCr,         // After a CR that is kept.
  };
  struct Pending {
    ParseEvent event;
    size_t octets = 0;     // Client octets the event stands for (for buffered()).
    bool barrier = false;  // Feed() takes nothing more while this event waits.
  };

  bool Blocked() const;
  size_t FeedLines(std::string_view bytes);
  size_t FeedData(std::string_view bytes);
  size_t FeedChunk(std::string_view bytes);
  void CompleteLine(std::string_view line, size_t octets);
  void KeepContent(std::string_view bytes);
  void Enqueue(ParseEvent event, size_t octets, bool barrier);
  size_t LineLimit(std::string_view segment) const;

  ParserLimits limits_;
  Mode mode_ = Mode::kLines;
  std::deque<Pending> queue_;
  size_t queued_octets_ = 0;
  size_t current_octets_ = 0;  // Octets of the line, message or chunk being read.
  bool sasl_expected_ = false;

  // kLines.
  std::string partial_;    // The line being assembled, up to its limit.
  bool skipping_ = false;  // Inside a line already reported as too long.

  // kData.
  DataState data_state_ = DataState::kLineStart;
  DataDone data_;

  // kChunk.
  ChunkDone chunk_;
  uint64_t chunk_remaining_ = 0;
};

// True when `content` holds a CR not followed by LF or an LF not preceded by CR: the test the
// DATA reader makes (DataDone::bare_line_ending), for message content that came another way,
// such as the BDAT chunks of one message put together (a CRLF split between two chunks is
// not bare). Without BINARYMIME, BDAT content is a message with CRLF line ends too (RFC 3030
// section 3), and a bare line end in it could end the data early at a next hop that is
// lenient about them (SMTP smuggling).
bool HasBareLineEnding(std::string_view content);

// RFC 3461 section 4 xtext: "+XX" (two hex digits) stands for one octet; other characters
// must be printable ASCII other than "+" and "=". *ok is false (and the result meaningless)
// when `text` is not xtext. Lower-case hex digits are accepted.
std::string XtextDecode(std::string_view text, bool* ok);
// Octets outside "!".."~", and "+" and "=", become "+XX" with upper-case hex.
std::string XtextEncode(std::string_view text);

}  // namespace transport::smtp
