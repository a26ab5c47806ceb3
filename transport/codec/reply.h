// SMTP replies (RFC 5321 section 4.2) in both directions: encoding the replies our server
// sends, and parsing the replies a next hop sends to our client.
//
// Pure functions over bytes: no I/O. The client offers what it read with Feed() and takes
// whole replies with Next():
//
//   parser.Feed(std::string_view(buf, n));
//   while (std::optional<Reply> r = parser.Next()) Handle(*r);
//   if (parser.failed()) Abort(parser.error());   // The stream is out of step: give up.
//
// Feed() parses eagerly, so a malformed or oversized line is reported as soon as it is seen
// and nothing past the limit is stored. Replies completed before the error still come out of
// Next(); failed() stays true from then on and later input is ignored. A line ends with CRLF
// or a bare LF (some servers send those); CR characters never reach Reply::lines.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace transport::smtp {

struct Reply {
  // 100..599 once parsed; 0 for "no reply".
  int code = 0;
  // The text after "250-" / "250 " of each line, an enhanced status code included as the
  // server wrote it. Never contains CR or LF. A reply line "250" alone has an empty text.
  std::vector<std::string> lines;

  // The RFC 3463 enhanced status code ("2.1.0") the first line starts with, or "" when it
  // does not start with one (class 2, 4 or 5, then 1-3 digits, '.', 1-3 digits, then a space
  // or the end of the line).
  std::string enhanced() const;
  // 2xx and 3xx.
  bool positive() const { return code >= 200 && code < 400; }
  // 4xx: try again later.
  bool transient() const { return code >= 400 && code < 500; }
  // 5xx: do not retry.
  bool permanent() const { return code >= 500 && code < 600; }
  // The lines joined with "; " (for logs and DSN diagnostic codes), without the code.
  std::string Text() const;
};

// One reply line: "550 5.1.1 text\r\n". `enhanced` may be empty, and so may `text`
// ("250\r\n" when both are). CR and LF are removed from `enhanced` and `text` so no caller
// can inject a line. `code` must be 100..599 (checked: replies are our own constants).
std::string FormatReply(int code, std::string_view enhanced, std::string_view text);

// A multiline reply, EHLO style: "250-a\r\n250-b\r\n250 c\r\n". Each line gets the
// enhanced code prefix ("250-2.0.0 a") only when `enhanced` is not empty. No lines gives the
// single line FormatReply(code, enhanced, "").
std::string FormatMultiline(int code, std::string_view enhanced,
                            const std::vector<std::string>& lines);

struct ReplyParserLimits {
  // Longest reply line in octets, counting its line end. RFC 5321 allows 512, but real
  // servers send longer ones (long EHLO keywords, verbose rejections). Default: 4096.
  size_t max_line = 4096;
  // Most lines in one reply. Default: 200.
  size_t max_lines = 200;
};

// Parses the replies a server sends; client side. Bounded: at most one partial line of
// max_line octets and one partial reply of max_lines lines are held, plus the complete
// replies not yet taken with Next() (no more than the bytes given to Feed() hold).
//
// Fails on: a line over max_line, a reply over max_lines lines, a line shorter than three
// characters, a code that is not three digits in 100..599, a fourth character that is not
// a space or a dash, or a code that changes within a multiline reply.
class ReplyParser {
 public:
  ReplyParser() = default;
  explicit ReplyParser(ReplyParserLimits limits) : limits_(limits) {}

  void Feed(std::string_view bytes);
  // The next complete reply, if any.
  std::optional<Reply> Next();
  bool failed() const { return failed_; }
  // What was wrong with the input ("" unless failed()).
  std::string error() const { return error_; }
  // True when nothing is buffered: no partial line, no partial reply, no reply waiting for
  // Next(). After a 220 to STARTTLS anything buffered came in the clear before the handshake
  // and must not be trusted as a reply.
  bool empty() const { return partial_.empty() && current_.lines.empty() && ready_.empty(); }

 private:
  void ParseLine(std::string_view line);
  void Fail(std::string error);

  ReplyParserLimits limits_;
  std::string partial_;  // The line being received, without its LF.
  Reply current_;        // The reply being received: the lines so far.
  std::deque<Reply> ready_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace transport::smtp
