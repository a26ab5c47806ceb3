// Incremental IMAP4 command parser (sans I/O). The session feeds it the bytes it read from the
// socket, in chunks of any size (one byte at a time works), and takes events one at a time:
//
//   for (ParseResult r = parser.Feed(bytes); !std::holds_alternative<NeedMoreInput>(r);
//        r = parser.Next()) {
//     if (std::get_if<ContinuationNeeded>(&r)) send(Continuation("Ready for literal data"));
//     if (auto* cmd = std::get_if<Command>(&r)) dispatch(*cmd);  // May call ExpectIdleDone().
//     if (auto* e = std::get_if<ParseError>(&r)) send(e->Reply());  // BYE + close if
//   }                                                                // close_connection().
//   // Now read more from the socket.
//
// Bytes after a complete command (pipelining) stay buffered for the next Next(). Memory is
// bounded by ParserLimits plus the input not yet consumed; a session should stop reading from
// the socket while buffered_input_bytes() is not zero (call Next() until NeedMoreInput first).
//
// Untrusted input never throws or crashes: every problem becomes a ParseError that says how to
// answer (tagged or untagged BAD/NO) and whether the parser could resynchronise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cas/imap/codec/command.h"
#include "cas/imap/codec/frame.h"

namespace cas::imap {

struct ParserLimits {
  // Longest command: every line of it (tag, name, arguments, literal headers, the CR of each
  // CRLF) but not the literal contents. Default: 10240 bytes (Exchange's MaxCommandSize).
  size_t max_line_bytes = 10240;
  // Largest literal in APPEND: the APPENDLIMIT (RFC 7889). Default: 36 MB.
  uint64_t max_append_literal_bytes = 36ull * 1024 * 1024;
  // Largest literal in any other command (user names, passwords, search strings). Default: 64 KB.
  uint64_t max_literal_bytes = 64 * 1024;
  // All literal bytes of one command together (bounds a MULTIAPPEND). Default: 36 MB.
  uint64_t max_command_literal_bytes = 36ull * 1024 * 1024;
  // Most arguments and list items in one command (flags, FETCH items, search keys, patterns,
  // header field names, ID pairs, ...). Default: 10000.
  size_t max_items = 10000;
  // Deepest nesting of parentheses and of NOT/OR search keys. Default: 20.
  size_t max_depth = 20;
  // Most ranges in one sequence set ("1,3,5:7" has 3). Default: 10000.
  size_t max_sequence_ranges = 10000;
  // Longest AUTHENTICATE continuation line (base64). Default: 65536 bytes, room for Kerberos
  // tickets.
  size_t max_sasl_line_bytes = 65536;
  // A rejected non-synchronizing literal of at most this size is read and thrown away so that
  // the connection survives (RFC 7888 section 4); a larger one means the session must close the
  // connection. Default: 1 MB.
  uint64_t max_discard_literal_bytes = 1024 * 1024;
};

struct ParserOptions {
  // The server advertises LITERAL+ (RFC 7888): non-synchronizing literals of any size within
  // the limits. Otherwise it advertises LITERAL- and accepts them only up to 4096 bytes.
  // Default: false.
  bool literal_plus = false;
  // UTF8=ACCEPT (RFC 6855) is enabled: mailbox names arrive as UTF-8 instead of modified
  // UTF-7. A session turns it on after ENABLE UTF8=ACCEPT. Default: false.
  bool utf8_accept = false;
};

// The largest non-synchronizing literal allowed without LITERAL+ (RFC 7888 LITERAL-).
inline constexpr uint64_t kLiteralMinusMax = 4096;

enum class ParseErrorKind {
  kSyntax,                  // Malformed arguments, bad tag, missing command name.
  kUnknownCommand,          // Not a command this codec knows.
  kLineTooLong,             // Over max_line_bytes / max_sasl_line_bytes.
  kLiteralTooLarge,         // Over max_literal_bytes / max_append_literal_bytes / per command.
  kNonSyncLiteralTooLarge,  // {n+} over 4096 without LITERAL+.
  kTooManyItems,            // Over max_items or max_sequence_ranges.
  kTooDeep,                 // Over max_depth.
  kInvalidMailboxName,      // Not valid modified UTF-7 (or UTF-8 with UTF8=ACCEPT).
  kInvalidBase64,           // AUTHENTICATE initial response or continuation line.
  kExpectedDone,            // IDLE ended by something other than DONE.
};

// What the parser does about the rest of a rejected command. In every case but
// kCloseConnection the parser resynchronises by itself and the session only sends Reply().
enum class ErrorRecovery {
  kNone,             // The whole rejected command was consumed.
  kSkipLine,         // The parser discards the rest of the command line as it arrives.
  kDiscardLiteral,   // The parser discards the announced non-synchronizing literal and the
                     // rest of the command as they arrive.
  kCloseConnection,  // The parser cannot find the next command (a non-synchronizing literal
                     // too large to discard): send Reply() and "* BYE", then close. The parser
                     // ignores all further input.
};

struct ParseError {
  // The tag when it was read: answer "<tag> BAD ..."; otherwise "* BAD ...". Errors on an IDLE
  // or AUTHENTICATE continuation line carry no tag: the session answers with the IDLE or
  // AUTHENTICATE tag.
  std::optional<std::string> tag;
  ParseErrorKind kind = ParseErrorKind::kSyntax;
  std::string status = "BAD";  // "NO" for an APPEND literal over the APPENDLIMIT (RFC 7889).
  std::string code;            // Response code without brackets ("TOOBIG"), or empty.
  std::string text;            // Fixed text for the client; never echoes client input.
  ErrorRecovery recovery = ErrorRecovery::kNone;

  bool close_connection() const { return recovery == ErrorRecovery::kCloseConnection; }
  // The response line, e.g. "A1 BAD [TOOBIG] Literal too large\r\n" or "* BAD ...\r\n".
  std::string Reply() const;
};

// No complete event in the buffered input: read more.
struct NeedMoreInput {
  bool operator==(const NeedMoreInput&) const = default;
};

// A synchronizing literal "{n}" was announced and accepted: the session must send a
// continuation request (Continuation("Ready for literal data")) before the client sends it.
struct ContinuationNeeded {
  std::optional<std::string> tag;
  uint64_t literal_size = 0;
  bool operator==(const ContinuationNeeded&) const = default;
};

// The line "DONE" (any case) ended IDLE; see ExpectIdleDone().
struct IdleDone {
  bool operator==(const IdleDone&) const = default;
};

// An AUTHENTICATE continuation line; see ExpectSaslResponse().
struct SaslResponse {
  bool cancelled = false;  // The client sent "*": answer "<tag> BAD" and end the exchange.
  std::string data;        // Base64-decoded.
  bool operator==(const SaslResponse&) const = default;
};

using ParseResult =
    std::variant<NeedMoreInput, Command, ContinuationNeeded, ParseError, IdleDone, SaslResponse>;

class CommandParser {
 public:
  explicit CommandParser(ParserLimits limits = {}, ParserOptions options = {});

  CommandParser(const CommandParser&) = delete;
  CommandParser& operator=(const CommandParser&) = delete;
  CommandParser(CommandParser&&) = default;
  CommandParser& operator=(CommandParser&&) = default;

  // Appends `bytes` to the input and returns the next event, as Next() does.
  ParseResult Feed(std::string_view bytes);
  // Returns the next event from the buffered input, or NeedMoreInput.
  ParseResult Next();

  // The next line is the end of IDLE: Next() returns IdleDone for "DONE", a ParseError
  // (kExpectedDone) for any other line. Applies to one line, then command parsing resumes.
  void ExpectIdleDone();
  // The next line is an AUTHENTICATE continuation: Next() returns SaslResponse (decoded, or
  // cancelled for "*") or a ParseError (kInvalidBase64, kLineTooLong). Applies to one line;
  // call again for every challenge.
  void ExpectSaslResponse();

  void set_utf8_accept(bool on) { options_.utf8_accept = on; }
  const ParserOptions& options() const { return options_; }
  const ParserLimits& limits() const { return limits_; }

  // True after a kCloseConnection error.
  bool closed() const { return state_ == State::kClosed; }
  // Input received but not consumed yet.
  size_t buffered_input_bytes() const { return input_.size() - input_pos_; }
  // Bytes held for the command being read (its lines and literals so far).
  size_t pending_command_bytes() const;
  // Heap bytes the parser holds (buffer capacities), for tests and metrics. Between commands
  // it drops back to a few KB whatever the size of the previous command or read.
  size_t allocated_bytes() const;
  // Hands over the unconsumed input: after LOGIN/AUTHENTICATE to the post-login session, or
  // to throw it away after STARTTLS (plaintext pipelined behind STARTTLS must never be
  // interpreted after the handshake). Call it right after a Command event.
  std::string TakeBufferedInput();

 private:
  enum class State { kLine, kLiteral, kSkipLine, kSkipLiteral, kClosed };
  enum class LineMode { kCommand, kIdleDone, kSasl };

  struct LiteralHeader {
    uint64_t size = 0;
    bool sync = true;
    bool binary = false;
  };

  // Each returns an event, or std::nullopt to keep going.
  std::optional<ParseResult> ScanLine();
  std::optional<ParseResult> OnLineEnd();
  std::optional<ParseResult> OnLiteralHeader(const LiteralHeader& header);
  std::optional<ParseResult> SkipLine();

  void ResetCommand();
  void TrackQuote(char c);
  void StartSkipping(std::string tail, bool detect_literals);
  void Compact();
  void ClearInput();
  // True if `line` ends with a literal header. `truncated`: the line is only the end of a
  // skipped line, so digits reaching its start mean an absurdly long count.
  bool FindLiteralHeader(std::string_view line, bool truncated, LiteralHeader* header) const;
  std::optional<std::string> TagOfCurrentCommand() const;
  // Before accepting a literal: the tag and command name so far must be valid.
  std::optional<ParseError> CheckCommandPrefix(bool* is_append) const;

  ParserLimits limits_;
  ParserOptions options_;
  State state_ = State::kLine;
  LineMode mode_ = LineMode::kCommand;

  std::string input_;
  size_t input_pos_ = 0;

  // The command being read: its lines (without CRLF, joined) and literals.
  internal::Frame frame_;
  size_t segment_start_ = 0;  // Where the current line begins in frame_.line.
  size_t line_bytes_ = 0;
  uint64_t literal_bytes_ = 0;
  uint64_t literal_remaining_ = 0;
  bool in_quote_ = false;
  bool quote_escape_ = false;

  // Skipping a rejected command: quote state and the last bytes of the line, to spot a
  // literal announced at its end.
  std::string skip_tail_;
  bool skip_detect_literals_ = true;
  uint64_t skip_remaining_ = 0;
};

}  // namespace cas::imap
