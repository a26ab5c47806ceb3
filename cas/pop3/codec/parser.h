// Incremental POP3 command parser (RFC 1939, RFC 2449, RFC 2595 STLS, RFC 5034 AUTH).
//
// Pure and bounded: no I/O, no storage. The session offers the bytes it read with Feed() and
// takes events with Next(), one per client line, in order:
//
//   std::string_view rest(buf, n);                    // What the socket gave us.
//   while (!rest.empty()) {
//     rest.remove_prefix(parser.Feed(rest));          // Takes all but what would overflow the
//     for (ParseEvent e = parser.Next();              //   pipelining window.
//          !std::holds_alternative<NeedMore>(e); e = parser.Next()) {
//       Handle(e);                                    // Command, ParseError, SaslResponse...
//     }
//   }
//
// Every client line produces exactly one event, so pipelined commands (RFC 2449 PIPELINING)
// come out one at a time and every error keeps the reply stream in step with the commands.
// Untrusted input never throws or aborts; it becomes a ParseError that the session answers
// with `-ERR <ParseErrorText(code)>`.
//
// Lines end with CRLF; a bare LF is accepted too. A CR anywhere else, a NUL byte or a line
// over the limit makes the whole line one ParseError. A line over the limit is reported as
// soon as the limit is passed and the rest of it is skipped without being stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"

namespace cas::pop3 {

struct ParserLimits {
  // Longest command line in octets, counting its CRLF. Exchange's Set-PopSettings
  // MaxCommandSize (allowed range 40..1024); RFC 2449 requires at least 255. RFC 5034 keeps
  // an AUTH line with its initial response within 255 octets, so AUTH needs no exception.
  // Default: 512.
  size_t max_command_line = 512;
  // Longest SASL continuation line (see ExpectSaslResponse()), counting its CRLF. Larger
  // than a command line because OAuth bearer tokens (XOAUTH2, OAUTHBEARER) grow to several
  // KiB once base64-encoded. Default: 16384.
  size_t max_sasl_line = 16 * 1024;
  // Most complete lines held while waiting for Next(). Once that many wait, Feed() takes no
  // more bytes (the caller keeps them: TCP flow control instead of unbounded buffering). Worst
  // case memory is about max_pipelined_commands * max_command_line + max_sasl_line.
  // Default: 64.
  size_t max_pipelined_commands = 64;
};

// OK when the limits are usable: max_command_line >= 40 (Exchange's minimum),
// max_sasl_line >= max_command_line, max_pipelined_commands >= 1.
common::Status ValidateParserLimits(const ParserLimits& limits);

// Largest message number accepted in a command (2^31). Smaller than any real limit, large
// enough for any mailbox; it keeps numbers inside uint32_t.
inline constexpr uint32_t kMaxMessageNumber = 2147483648u;

enum class Verb {
  kUser,
  kPass,
  kApop,
  kStat,
  kList,
  kRetr,
  kDele,
  kNoop,
  kRset,
  kQuit,
  kTop,
  kUidl,
  kCapa,
  kStls,
  kAuth,
};

// The keyword as written in RFCs: "USER", "STLS", ...
std::string_view VerbName(Verb verb);

struct Command {
  Verb verb = Verb::kNoop;
  // USER, APOP: the name. PASS: the password, verbatim (everything after the first space,
  // spaces included). AUTH: the mechanism, upper-cased; empty for a bare AUTH (list the
  // mechanisms).
  std::string text;
  // APOP: the digest, 32 lower-case hex digits.
  std::string digest;
  // RETR, DELE, TOP: the message number. LIST, UIDL: the message number when one was given.
  std::optional<uint32_t> message;
  // TOP: how many body lines to send (0..kMaxMessageNumber).
  uint32_t lines = 0;
  // AUTH: the decoded initial response when one was given; "=" gives an empty one.
  std::optional<std::string> initial_response;

  friend bool operator==(const Command&, const Command&) = default;
};

// Renders a command for logs with secrets replaced: "PASS <hidden>", "AUTH PLAIN <hidden>".
std::string CommandForLog(const Command& command);

enum class ParseErrorCode {
  kLineTooLong,       // Over max_command_line (or max_sasl_line for a SASL response).
  kNulByte,           // A NUL byte in the line.
  kInvalidCharacter,  // A CR or other control character where none may be.
  kUnknownCommand,    // Empty line, leading space, or a keyword we do not know.
  kMissingArgument,
  kTooManyArguments,
  kInvalidNumber,     // Not 1..2^31 in plain decimal (TOP's line count may be 0).
  kInvalidArgument,   // A malformed APOP digest.
  kInvalidMechanism,  // Not a SASL mechanism name (RFC 4422: 1..20 of A-Z 0-9 - _).
  kInvalidBase64,     // AUTH initial response or SASL response that is not base64.
};

struct ParseError {
  ParseErrorCode code = ParseErrorCode::kUnknownCommand;
  // The command the line started with, when it got that far. kInvalidBase64 from a SASL
  // response carries Verb::kAuth.
  std::optional<Verb> verb;

  friend bool operator==(const ParseError&, const ParseError&) = default;
};

// Fixed client-facing text for `-ERR <text>`; never echoes client bytes.
std::string_view ParseErrorText(ParseErrorCode code);

// No complete line is waiting: read more from the client.
struct NeedMore {
  friend bool operator==(const NeedMore&, const NeedMore&) = default;
};

// A SASL continuation line (RFC 5034 section 4), base64-decoded. An empty line is an empty
// response.
struct SaslResponse {
  std::string data;
  friend bool operator==(const SaslResponse&, const SaslResponse&) = default;
};

// The client sent "*" instead of a SASL response: answer -ERR and end the exchange.
struct SaslCancel {
  friend bool operator==(const SaslCancel&, const SaslCancel&) = default;
};

using ParseEvent = std::variant<NeedMore, Command, ParseError, SaslResponse, SaslCancel>;

class CommandParser {
 public:
  // `limits` must pass ValidateParserLimits (checked; settings are validated at load time).
  explicit CommandParser(const ParserLimits& limits = {});

  CommandParser(CommandParser&&) = default;
  CommandParser& operator=(CommandParser&&) = default;
  CommandParser(const CommandParser&) = delete;
  CommandParser& operator=(const CommandParser&) = delete;

  // Takes bytes received from the client and returns how many it took: all of them unless
  // max_pipelined_commands complete lines are waiting for Next(). The caller keeps the rest
  // and offers it again once Next() has returned NeedMore.
  [[nodiscard]] size_t Feed(std::string_view data);

  // The event for the next complete line, or NeedMore.
  ParseEvent Next();

  // The next line Next() returns is a SASL continuation line: "*" (SaslCancel) or base64
  // (SaslResponse), limited by max_sasl_line. Call it after sending each "+ " challenge;
  // the mode ends with that one line, whatever it holds.
  void ExpectSaslResponse() { sasl_expected_ = true; }
  bool sasl_response_expected() const { return sasl_expected_; }

  // True when any client byte is held: waiting lines, a partial line, or a long line still
  // being skipped. After STLS this must be false: plaintext sent after STLS is an injection
  // attempt (RFC 2595 section 4; CVE-2011-0411 for the SMTP variant).
  bool HasBufferedInput() const { return !queue_.empty() || !partial_.empty() || skipping_; }

  // Drops everything held and leaves SASL mode: the state of a fresh parser. Use after STLS
  // (together with any bytes the caller kept).
  void Reset();

  // Octets of client data currently stored (waiting lines plus the partial line). Never more
  // than max_pipelined_commands * max_command_line + max_sasl_line.
  size_t BufferedBytes() const { return queued_bytes_ + partial_.size(); }

 private:
  struct Line {
    std::string text;  // Without its line end.
    bool too_long = false;
  };

  // The limit for the line being assembled: max_sasl_line when it will be read as a SASL
  // response, else max_command_line.
  size_t PartialLineLimit() const;
  void Enqueue(Line line);

  ParserLimits limits_;
  std::deque<Line> queue_;  // Complete lines (and too-long markers) waiting for Next().
  size_t queued_bytes_ = 0;
  std::string partial_;    // The line being assembled, up to its limit.
  bool skipping_ = false;  // Inside a line already reported as too long.
  bool sasl_expected_ = false;
};

}  // namespace cas::pop3
