// The outbound SMTP client: hands one message to the next hop (an MX host or a smart host)
// and says what became of every recipient.
//
//   connect (resolve, then each address in turn) -> 220 greeting -> EHLO (HELO on 500/502)
//   -> STARTTLS when offered, EHLO again -> MAIL FROM -> RCPT TO each -> DATA when at least
//   one recipient was accepted -> the body, dot-stuffed -> QUIT
//
// MAIL FROM and the RCPT TOs go in one write when the server offers PIPELINING (RFC 2920);
// DATA always waits for their replies. If the TLS handshake after STARTTLS fails and neither
// require_tls nor verify_certificate is set, the message goes again over a new plain
// connection that skips STARTTLS (opportunistic TLS, as Postfix does).
//
// Run SendMessage on a single-threaded io_context or a strand: its deadline timers and the
// connection they cancel share no lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.h"
#include "transport/codec/reply.h"

namespace transport::client {

using transport::smtp::Reply;

struct ClientOptions {
  // The name sent with EHLO/HELO. Default: "" (the machine's host name).
  std::string helo_name;
  // Resolving the host and connecting, all addresses together. Default: 30 s.
  std::chrono::seconds connect_timeout{30};
  // Each command's reply, the greeting and the TLS handshake (RFC 5321 section 4.5.3.2 asks
  // for 5 minutes). Default: 300 s.
  std::chrono::seconds command_timeout{300};
  // Each write of the message body and the reply after the final ".". Default: 600 s.
  std::chrono::seconds data_timeout{600};
  // Fail (transiently) when the next hop offers no STARTTLS or the handshake fails.
  // Default: false.
  bool require_tls = false;
  // Verify the certificate against the system store (or ca_file) and the host name. Smart
  // hosts are often self-signed, hence off. Default: false.
  bool verify_certificate = false;
  // PEM file of trusted CAs used instead of the system store when verifying. Default: "".
  std::string ca_file;
};

struct Envelope {
  // The reverse path without angle brackets; "" for the null sender (bounces).
  std::string sender;
  std::vector<std::string> recipients;
  // The body has 8-bit content: BODY=8BITMIME when the server offers 8BITMIME.
  bool eight_bit = false;
  // Needs SMTPUTF8 (RFC 6531). Non-ASCII in an address implies it too.
  bool smtputf8 = false;
  // RFC 3461 envelope id as given by the original sender (not xtext-encoded); sent as ENVID
  // when the server offers DSN.
  std::string envid;
  // RFC 3461 RET: "FULL", "HDRS", or "" when the sender gave none. Sent when the server
  // offers DSN.
  std::string ret;
  // RFC 3461 NOTIFY and ORCPT per recipient, in the order of `recipients` (missing entries:
  // none given). Sent when the server offers DSN, which then reports to the sender itself.
  struct RecipientDsn {
    std::string notify;  // "SUCCESS,FAILURE", "NEVER", ...; "" = not given.
    std::string orcpt;   // "rfc822;bob@example.org", not xtext-encoded; "" = not given.
  };
  std::vector<RecipientDsn> recipient_dsn;
};

struct RecipientOutcome {
  std::string address;
  // The reply as the next hop gave it, or one made up here when it gave none.
  Reply reply;
};

struct SendOutcome {
  // Reached the MAIL stage.
  bool connected = false;
  // Set (code 4xx/5xx) when the whole transaction failed: connecting, the greeting, EHLO,
  // STARTTLS, a size or SMTPUTF8 refusal, MAIL FROM, DATA, or a connection lost or timed
  // out. Made-up replies have an enhanced code and a readable text, e.g.
  // "451 4.4.1 Connection refused by 127.0.0.1:2525"; replies from the next hop are kept as
  // they came. Code 0 otherwise (recipients refused at RCPT do not make it a session failure).
  Reply session_reply;
  // One per envelope recipient, in order: the RCPT reply for refused ones, the final DATA
  // reply for accepted ones, session_reply for those the transaction failure left open.
  std::vector<RecipientOutcome> recipients;
  // The next hop offers DSN and so got the DSN parameters: it sends any delivery report
  // from here on. Without it, a NOTIFY=SUCCESS recipient is owed a "relayed" report.
  bool dsn_offered = false;
  // "TLSv1.3" and the cipher when STARTTLS was done; "" otherwise.
  std::string tls_version;
  std::string tls_cipher;
};

// Sends `*body` (RFC 5322 header and body; line ends CRLF or bare LF) to host:port. Never
// throws; every failure becomes a reply in the outcome. `host`, `envelope`, `*body` and
// `*options` must stay alive until the returned awaitable completes.
asio::awaitable<SendOutcome> SendMessage(const std::string& host, uint16_t port,
                                         const Envelope& envelope, const std::string* body,
                                         const ClientOptions* options);

// The wire form of message content after DATA. Every line end (CRLF, bare LF, bare CR) goes
// out as CRLF, so no receiver can find a different end of data than ours (SMTP smuggling);
// a line starting with '.' gets another '.'. Finish() ends an unfinished last line and
// appends ".\r\n". Input may be split anywhere, even between CR and LF.
class DataEncoder {
 public:
  void Feed(std::string_view chunk, std::string* out);
  void Finish(std::string* out);

 private:
  bool at_line_start_ = true;
  bool skip_lf_ = false;  // The previous byte was a CR, already sent as CRLF.
};

// The octets of `body` with every line end counted as CRLF and a final CRLF added if missing,
// without dot-stuffing: the message size for SIZE (RFC 1870).
uint64_t MessageSize(std::string_view body);

}  // namespace transport::client
