// POP3 response encoding: status lines, RFC 2449/3206 response codes, multi-line responses,
// SASL challenges, and the dot-stuffing of message content for RETR and TOP.
//
// Pure functions over bytes; every result is the exact wire form, CRLF included.
//
// Message sizes: RFC 1939 says STAT and LIST give "the exact size of the message in octets"
// and warns that it may differ from what RETR sends. LIST, STAT and the "+OK <n> octets" of
// RETR use CrlfNormalizedSize(): the size with every line end counted as CRLF and no
// dot-stuffing, as Dovecot counts its virtual size. StuffedSize() is what RETR really sends
// before the terminating ".\r\n", for tests and for sizing output buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cas::pop3 {

// RFC 2449 section 8 and RFC 3206 response codes, sent as "-ERR [CODE] text".
enum class ResponseCode {
  kInUse,       // IN-USE: the maildrop is locked by another session.
  kLoginDelay,  // LOGIN-DELAY: logged in too recently (RFC 2449 section 8.1.1).
  kSysTemp,     // SYS/TEMP: temporary system problem; retry later (RFC 3206).
  kSysPerm,     // SYS/PERM: permanent system problem; do not retry (RFC 3206).
  kAuth,        // AUTH: the credentials are the problem (RFC 3206).
};

// "IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", "AUTH".
std::string_view ResponseCodeText(ResponseCode code);

// Most octets in a status line (the first line of a response), CRLF included: RFC 2449
// section 4.
inline constexpr size_t kMaxStatusLine = 512;

// The line that ends every multi-line response.
inline constexpr std::string_view kMultiLineEnd = ".\r\n";

// Status lines. `text` may be empty ("+OK\r\n"). CR, LF and NUL in `text` become spaces so
// no caller can inject a line, and text that would make the line longer than kMaxStatusLine
// is cut (at a UTF-8 character boundary).
std::string OkResponse(std::string_view text);
std::string ErrResponse(std::string_view text);
std::string ErrResponse(ResponseCode code, std::string_view text);

// RFC 5034 server challenge: "+ " followed by the base64 of `challenge` ("+ \r\n" if empty).
std::string SaslChallenge(std::string_view challenge);

// "+OK <text>\r\n", then every line with a leading '.' doubled, then ".\r\n". For CAPA,
// LIST, UIDL; lines must not contain line ends (CR, LF and NUL become spaces).
std::string MultiLineResponse(std::string_view text, std::span<const std::string> lines);

// STAT: "+OK <count> <octets>\r\n".
std::string StatResponse(uint64_t count, uint64_t octets);
// A LIST scan listing "<msg> <octets>": the body of "+OK ..." or one line of the listing.
std::string ScanListing(uint32_t message, uint64_t octets);
// A UIDL listing "<msg> <unique-id>".
std::string UniqueIdListing(uint32_t message, std::string_view unique_id);
// RFC 1939 section 7: a unique-id is 1 to 70 characters in 0x21..0x7E.
bool IsValidUniqueId(std::string_view unique_id);

// Turns message content into its wire form for RETR/TOP, fed in chunks split anywhere (even
// between CR and LF). Every line end (CRLF, bare LF, bare CR) is sent as CRLF; a bare CR is
// a line end so that no client that splits lines on CR can see a "." line in the middle of
// the message. A line starting with '.' gets one more '.'. Finish() ends the last line if the
// message did not, and appends ".\r\n". Keeps two flags of state; output is produced eagerly.
class DotStuffer {
 public:
  // Appends the wire form of `chunk` to `*out`.
  void Feed(std::string_view chunk, std::string* out);
  // Appends CRLF if the content so far ended inside a line, then ".\r\n". The stuffer is
  // then ready for a new message.
  void Finish(std::string* out);

 private:
  bool at_line_start_ = true;
  bool skip_lf_ = false;  // The previous byte was a CR, already sent as CRLF.
};

// The whole wire form of `message` (DotStuffer::Feed + Finish).
std::string DotStuff(std::string_view message);

// Octets of `message` with every line end counted as CRLF (bare LF and bare CR count 2),
// without dot-stuffing or an added final CRLF. This is the size for STAT and LIST.
uint64_t CrlfNormalizedSize(std::string_view message);

// Octets that RETR sends for `message` before the terminating ".\r\n": the normalized size
// plus one per line starting with '.', plus 2 when the message does not end with a line end.
uint64_t StuffedSize(std::string_view message);

// TOP: the header, the blank line after it, and the first `lines` body lines of `message`, as
// a prefix of `message` (feed it to a DotStuffer). Line ends are recognised as DotStuffer does.
// A message without a blank line is all header and comes back whole, as does one with fewer
// body lines than asked for.
std::string_view TopOf(std::string_view message, uint32_t lines);

}  // namespace cas::pop3
