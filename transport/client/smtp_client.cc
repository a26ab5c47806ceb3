#include "transport/client/smtp_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "common/tls.h"

namespace transport::client {
namespace {

using Clock = std::chrono::steady_clock;
using smtp::ReplyParser;
using tcp = asio::ip::tcp;

// MAIL FROM and RCPT TO commands sent in one write with PIPELINING. Bounded so that the
// replies never fill the socket buffers while we are still writing.
constexpr size_t kMaxPipelinedCommands = 100;
// Message content given to one write.
constexpr size_t kBodyChunk = 64 * 1024;
// QUIT is a courtesy: do not wait the whole command timeout for its reply.
constexpr std::chrono::seconds kQuitTimeout{30};

Reply MakeReply(int code, std::string_view enhanced, std::string_view text) {
  Reply r;
  r.code = code;
  std::string line(enhanced);
  line.push_back(' ');
  for (char c : text) {
    if (c != '\r' && c != '\n') line.push_back(c);
  }
  r.lines.push_back(std::move(line));
  return r;
}

bool HasNonAscii(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Addresses go into command lines: nothing that could end the line or the path.
bool IsSafeAddress(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == '<' || c == '>';
  });
}

// RFC 3461 section 4: xtext.
std::string Xtext(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '+' || c == '=') {
      out.push_back('+');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string HeloName(const std::string& configured) {
  std::string name = configured;
  if (name.empty()) {
    boost::system::error_code ec;
    name = asio::ip::host_name(ec);
    if (ec) name.clear();
  }
  std::string clean;
  for (char c : name) {
    if (static_cast<unsigned char>(c) > 0x20 && c != 0x7f) clean.push_back(c);
  }
  return clean.empty() ? "localhost" : clean;
}

// "the greeting" -> "greeting", for "Unexpected greeting from ...".
std::string_view WithoutArticle(std::string_view what) {
  if (what.starts_with("the ")) what.remove_prefix(4);
  return what;
}

std::string EndpointText(const tcp::endpoint& ep) {
  asio::ip::address addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  std::string a = addr.to_string();
  if (addr.is_v6()) a = "[" + a + "]";
  return a + ":" + std::to_string(ep.port());
}

struct Extensions {
  bool starttls = false;
  bool pipelining = false;
  bool eight_bit_mime = false;
  bool smtputf8 = false;
  bool dsn = false;
  bool size = false;
  uint64_t max_size = 0;  // 0: SIZE without a fixed limit.
};

Extensions ParseExtensions(const Reply& ehlo) {
  Extensions ext;
  for (size_t i = 1; i < ehlo.lines.size(); ++i) {
    std::string_view line = ehlo.lines[i];
    size_t space = line.find(' ');
    std::string keyword(line.substr(0, space));
    for (char& c : keyword) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string_view param = space == std::string_view::npos ? "" : line.substr(space + 1);
    if (keyword == "STARTTLS") {
      ext.starttls = true;
    } else if (keyword == "PIPELINING") {
      ext.pipelining = true;
    } else if (keyword == "8BITMIME") {
      ext.eight_bit_mime = true;
    } else if (keyword == "SMTPUTF8") {
      ext.smtputf8 = true;
    } else if (keyword == "DSN") {
      ext.dsn = true;
    } else if (keyword == "SIZE") {
      ext.size = true;
      uint64_t n = 0;
      bool ok = !param.empty();
      for (char c : param) {
        if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) {
          ok = false;
          break;
        }
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      ext.max_size = ok ? n : 0;
    }
  }
  return ext;
}

// A TCP connection that can turn into TLS, with one deadline for the operation in progress.
// Owned by shared_ptr: a deadline handler keeps it alive until it has run, so a timer that
// fires while the session is ending never touches a destroyed socket.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(asio::any_io_executor ex)
      : socket_(ex), resolver_(ex), timer_(ex), waiter_(ex) {}

  // Resolves `host` by the deadline. Resolution runs on Asio's resolver thread; at the deadline
  // it is abandoned (its late result is dropped).
  asio::awaitable<std::vector<tcp::endpoint>> Resolve(const std::string& host, uint16_t port,
                                                      Clock::time_point deadline,
                                                      boost::system::error_code& ec) {
    auto self = shared_from_this();
    resolve_done_ = false;
    waiter_.expires_at(deadline);
    // A callback, not use_awaitable: the query holds strings (see common/blocking_pool.h).
    resolver_.async_resolve(
        host, std::to_string(port),
        [self](const boost::system::error_code& e, const tcp::resolver::results_type& results) {
          if (self->resolve_done_) return;
          self->resolve_done_ = true;
          self->resolve_ec_ = e;
          for (const auto& entry : results) {
            self->resolved_.push_back(entry.endpoint());
          }
          self->waiter_.cancel();
        });
    boost::system::error_code wait_ec;
    co_await waiter_.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
    if (!resolve_done_) {
      resolve_done_ = true;  // The late callback must not touch resolved_ any more.
      resolver_.cancel();
      ec = asio::error::timed_out;
      co_return std::vector<tcp::endpoint>();
    }
    ec = resolve_ec_;
    if (!ec && resolved_.empty()) ec = asio::error::host_not_found;
    co_return std::move(resolved_);
  }

  asio::awaitable<void> Connect(const tcp::endpoint& ep, Clock::time_point deadline,
                                boost::system::error_code& ec) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    socket_.open(ep.protocol(), ec);
    if (ec) co_return;
    ArmAt(deadline);
    co_await socket_.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    Disarm();
    if (timed_out_) ec = asio::error::timed_out;
    if (!ec) socket_.set_option(tcp::no_delay(true), ignored);
  }

  asio::awaitable<size_t> ReadSome(char* data, size_t size, boost::system::error_code& ec) {
    size_t n;
    if (tls_) {
      n = co_await tls_->async_read_some(asio::buffer(data, size),
                                         asio::redirect_error(asio::use_awaitable, ec));
    } else {
      n = co_await socket_.async_read_some(asio::buffer(data, size),
                                           asio::redirect_error(asio::use_awaitable, ec));
    }
    if (timed_out_) ec = asio::error::timed_out;
    co_return ec ? 0 : n;
  }

  asio::awaitable<void> WriteAll(std::string_view data, Clock::duration timeout,
                                 boost::system::error_code& ec) {
    Arm(timeout);
    if (tls_) {
      co_await asio::async_write(*tls_, asio::buffer(data.data(), data.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    Disarm();
    if (timed_out_) ec = asio::error::timed_out;
  }

  // Client-side handshake with SNI `host` (unless it is an address); with `verify`, the
  // certificate must also match `host`. `*detail` explains a verification failure.
  asio::awaitable<void> Handshake(const std::shared_ptr<asio::ssl::context>& ctx,
                                  const std::string& host, bool verify, Clock::duration timeout,
                                  boost::system::error_code& ec, std::string* detail) {
    tls_context_ = ctx;
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *tls_context_);
    SSL* ssl = tls_->native_handle();
    boost::system::error_code addr_ec;
    asio::ip::make_address(host, addr_ec);
    bool is_address = !addr_ec;
    if (!is_address) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (verify) {
      if (is_address) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
      } else {
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(ssl, host.c_str());
      }
    }
    Arm(timeout);
    co_await tls_->async_handshake(asio::ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
    Disarm();
    if (timed_out_) ec = asio::error::timed_out;
    if (ec && verify) {
      long result = SSL_get_verify_result(ssl);
      if (result != X509_V_OK) *detail = X509_verify_cert_error_string(result);
    }
    if (ec) tls_.reset();  // The stream is unusable either way; stop using TLS framing.
  }

  bool tls_active() const { return tls_ != nullptr; }
  std::string tls_version() { return common::TlsVersion(tls_ ? tls_->native_handle() : nullptr); }
  std::string tls_cipher() { return common::TlsCipher(tls_ ? tls_->native_handle() : nullptr); }

  // The deadline for the next operations: at expiry the socket is cancelled and they end with
  // asio::error::timed_out.
  void Arm(Clock::duration timeout) { ArmAt(Clock::now() + timeout); }
  void ArmAt(Clock::time_point deadline) {
    ++generation_;
    timed_out_ = false;
    timer_.expires_at(deadline);
    timer_.async_wait(
        [self = shared_from_this(), gen = generation_](const boost::system::error_code& ec) {
          if (ec || gen != self->generation_) return;  // Cancelled, or an older deadline.
          self->timed_out_ = true;
          boost::system::error_code ignored;
          self->socket_.cancel(ignored);
        });
  }
  void Disarm() {
    ++generation_;
    timer_.cancel();
  }

  void Close() {
    Disarm();
    waiter_.cancel();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;   // The deadline.
  asio::steady_timer waiter_;  // Wakes Resolve() when the resolver calls back.
  uint64_t generation_ = 0;
  bool timed_out_ = false;
  bool resolve_done_ = false;
  boost::system::error_code resolve_ec_;
  std::vector<tcp::endpoint> resolved_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
};

// One SMTP transaction on one connection.
class Session {
 public:
  Session(const std::string& host, uint16_t port, const Envelope& envelope, const std::string& body,
          const ClientOptions& options, bool try_tls, SendOutcome* out)
      : host_(host),
        port_(port),
        envelope_(envelope),
        body_(body),
        options_(options),
        try_tls_(try_tls),
        out_(out) {}

  asio::awaitable<void> Run() {
    conn_ = std::make_shared<Connection>(co_await asio::this_coro::executor);
    co_await Transaction();
    conn_->Close();
  }

  // STARTTLS was accepted but the handshake failed: a plain retry may get the message through.
  bool tls_handshake_failed() const { return tls_handshake_failed_; }

 private:
  asio::awaitable<void> Transaction() {
    std::vector<size_t> to_send;  // Indexes of recipients with a usable address.
    if (!IsSafeAddress(envelope_.sender)) {
      Fail(MakeReply(553, "5.1.7", "Invalid sender address"));
      co_return;
    }
    for (size_t i = 0; i < envelope_.recipients.size(); ++i) {
      const std::string& rcpt = envelope_.recipients[i];
      if (rcpt.empty() || !IsSafeAddress(rcpt)) {
        out_->recipients[i].reply = MakeReply(553, "5.1.3", "Invalid recipient address");
      } else {
        to_send.push_back(i);
      }
    }
    if (to_send.empty()) co_return;

    if (!co_await Connect()) co_return;

    const Clock::duration command_timeout = options_.command_timeout;
    const std::string greeting_what = "the greeting";
    std::optional<Reply> greeting = co_await ReadReply(command_timeout, greeting_what);
    if (!greeting) {
      Fail(failure_);
      co_return;
    }
    if (greeting->code != 220) {
      Fail(Negative(*greeting, greeting_what));
      co_await Quit();
      co_return;
    }

    if (!co_await Hello()) co_return;
    if (ext_.starttls && try_tls_) {
      if (!co_await StartTls()) co_return;
    }
    if (options_.require_tls && !conn_->tls_active()) {
      Fail(MakeReply(451, "4.7.4", "TLS required but not offered by " + peer_));
      co_await Quit();
      co_return;
    }

    const uint64_t size = MessageSize(body_);
    if (ext_.max_size > 0 && size > ext_.max_size) {
      Fail(MakeReply(552, "5.3.4",
                     "Message size " + std::to_string(size) + " exceeds the limit of " +
                         std::to_string(ext_.max_size) + " octets of " + peer_));
      co_await Quit();
      co_return;
    }
    bool needs_utf8 = envelope_.smtputf8 || HasNonAscii(envelope_.sender);
    for (size_t i : to_send) needs_utf8 = needs_utf8 || HasNonAscii(envelope_.recipients[i]);
    if (needs_utf8 && !ext_.smtputf8) {
      Fail(MakeReply(553, "5.6.7",
                     "The message needs SMTPUTF8, which " + peer_ + " does not support"));
      co_await Quit();
      co_return;
    }

    // MAIL FROM and RCPT TO, in batches when pipelining.
    out_->connected = true;
    std::vector<std::string> commands;
    std::string mail = "MAIL FROM:<" + envelope_.sender + ">";
    if (ext_.size) mail += " SIZE=" + std::to_string(size);
    if ((envelope_.eight_bit || needs_utf8) && ext_.eight_bit_mime) mail += " BODY=8BITMIME";
    if (needs_utf8) mail += " SMTPUTF8";
    if (ext_.dsn && !envelope_.ret.empty()) mail += " RET=" + envelope_.ret;
    if (ext_.dsn && !envelope_.envid.empty()) mail += " ENVID=" + Xtext(envelope_.envid);
    out_->dsn_offered = ext_.dsn;
    commands.push_back(mail + "\r\n");
    for (size_t i : to_send) {
      std::string rcpt = "RCPT TO:<" + envelope_.recipients[i] + ">";
      if (ext_.dsn && i < envelope_.recipient_dsn.size()) {
        const Envelope::RecipientDsn& dsn = envelope_.recipient_dsn[i];
        if (!dsn.notify.empty()) rcpt += " NOTIFY=" + dsn.notify;
        // ORCPT=addr-type;xtext (RFC 3461 section 4.2).
        if (const size_t semi = dsn.orcpt.find(';'); semi != std::string::npos && semi > 0) {
          rcpt += " ORCPT=" + dsn.orcpt.substr(0, semi + 1) + Xtext(dsn.orcpt.substr(semi + 1));
        }
      }
      commands.push_back(rcpt + "\r\n");
    }

    std::vector<size_t> accepted;
    const size_t batch = ext_.pipelining ? kMaxPipelinedCommands : 1;
    for (size_t first = 0; first < commands.size(); first += batch) {
      const size_t end = std::min(commands.size(), first + batch);
      std::string wire;
      for (size_t c = first; c < end; ++c) wire += commands[c];
      const std::string send_what = first == 0 ? "MAIL FROM" : "RCPT TO";
      if (!co_await Send(wire, command_timeout, send_what)) {
        Fail(failure_);
        co_return;
      }
      for (size_t c = first; c < end; ++c) {
        const std::string what = c == 0 ? "the reply to MAIL FROM" : "the reply to RCPT TO";
        std::optional<Reply> r = co_await ReadReply(command_timeout, what);
        if (!r) {
          Fail(failure_);
          co_return;
        }
        if (r->code == 421) {  // The server is closing the connection.
          Fail(*r);
          co_return;
        }
        if (c == 0) {
          if (r->code / 100 != 2) {
            Fail(Negative(*r, what));
            co_await Quit();
            co_return;
          }
          continue;
        }
        size_t index = to_send[c - 1];
        if (r->code / 100 == 2) {
          accepted.push_back(index);
        } else {
          out_->recipients[index].reply = Negative(*r, what);
        }
      }
    }
    if (accepted.empty()) {
      co_await Quit();
      co_return;
    }

    const std::string data_what = "DATA";
    std::optional<Reply> data = co_await Command("DATA\r\n", data_what, command_timeout);
    if (!data) {
      Fail(failure_);
      co_return;
    }
    if (data->code != 354) {
      const std::string reply_what = "the reply to DATA";
      Fail(Negative(*data, reply_what));
      if (data->code != 421) co_await Quit();
      co_return;
    }

    // The content, converted chunk by chunk so that a large message is not copied whole.
    const Clock::duration data_timeout = options_.data_timeout;
    const std::string content_what = "the message";
    DataEncoder encoder;
    std::string chunk;
    std::string_view rest = body_;
    bool last = false;
    while (!last) {
      chunk.clear();
      encoder.Feed(rest.substr(0, kBodyChunk), &chunk);
      rest.remove_prefix(std::min(rest.size(), kBodyChunk));
      last = rest.empty();
      if (last) encoder.Finish(&chunk);
      if (!co_await Send(chunk, data_timeout, content_what)) {
        Fail(failure_);
        co_return;
      }
    }
    const std::string final_what = "the reply to the end of the message";
    std::optional<Reply> final_reply = co_await ReadReply(data_timeout, final_what);
    if (!final_reply) {
      Fail(failure_);
      co_return;
    }
    Reply verdict =
        final_reply->code / 100 == 2 ? *final_reply : Negative(*final_reply, final_what);
    for (size_t i : accepted) out_->recipients[i].reply = verdict;
    if (verdict.code / 100 != 2) Fail(verdict);
    if (final_reply->code != 421) co_await Quit();
  }

  // Resolves (unless `host_` is an address) and tries each address until one answers.
  asio::awaitable<bool> Connect() {
    const Clock::time_point deadline = Clock::now() + options_.connect_timeout;
    std::string name = host_;
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
      name = name.substr(1, name.size() - 2);  // An address literal as written in SMTP.
    }
    boost::system::error_code ec;
    asio::ip::address literal = asio::ip::make_address(name, ec);
    const bool is_address = !ec;
    std::vector<tcp::endpoint> endpoints;
    if (is_address) {
      endpoints.emplace_back(literal, port_);
    } else {
      endpoints = co_await conn_->Resolve(name, port_, deadline, ec);
      if (ec == asio::error::timed_out) {
        Fail(MakeReply(451, "4.4.3", "Timed out resolving " + name));
        co_return false;
      }
      if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again ||
          ec == asio::error::no_data) {
        Fail(MakeReply(451, "4.4.4", "Cannot find the address of " + name + ": " + ec.message()));
        co_return false;
      }
      if (ec) {
        Fail(MakeReply(451, "4.4.3", "Cannot resolve " + name + ": " + ec.message()));
        co_return false;
      }
    }
    std::string last_peer;
    for (const tcp::endpoint& ep : endpoints) {
      last_peer = is_address ? EndpointText(ep) : name + "[" + EndpointText(ep) + "]";
      co_await conn_->Connect(ep, deadline, ec);
      if (!ec) {
        peer_ = last_peer;
        co_return true;
      }
      if (ec == asio::error::timed_out) break;
    }
    if (ec == asio::error::timed_out) {
      Fail(MakeReply(451, "4.4.1", "Timed out connecting to " + last_peer));
    } else if (ec == asio::error::connection_refused) {
      Fail(MakeReply(451, "4.4.1", "Connection refused by " + last_peer));
    } else {
      Fail(MakeReply(451, "4.4.1", "Cannot connect to " + last_peer + ": " + ec.message()));
    }
    co_return false;
  }

  // EHLO, or HELO when the server does not know EHLO.
  asio::awaitable<bool> Hello() {
    const Clock::duration timeout = options_.command_timeout;
    const std::string name = HeloName(options_.helo_name);
    const std::string ehlo = "EHLO " + name + "\r\n";
    const std::string ehlo_what = "EHLO";
    std::optional<Reply> r = co_await Command(ehlo, ehlo_what, timeout);
    if (!r) {
      Fail(failure_);
      co_return false;
    }
    if (r->code / 100 == 2) {
      ext_ = ParseExtensions(*r);
      co_return true;
    }
    if ((r->code != 500 && r->code != 502) || conn_->tls_active()) {
      const std::string what = "the reply to EHLO";
      Fail(Negative(*r, what));
      if (r->code != 421) co_await Quit();
      co_return false;
    }
    ext_ = Extensions();
    const std::string helo = "HELO " + name + "\r\n";
    const std::string helo_what = "HELO";
    r = co_await Command(helo, helo_what, timeout);
    if (!r) {
      Fail(failure_);
      co_return false;
    }
    if (r->code / 100 != 2) {
      const std::string what = "the reply to HELO";
      Fail(Negative(*r, what));
      if (r->code != 421) co_await Quit();
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> StartTls() {
    const Clock::duration timeout = options_.command_timeout;
    const std::string what = "STARTTLS";
    std::optional<Reply> r = co_await Command("STARTTLS\r\n", what, timeout);
    if (!r) {
      Fail(failure_);
      co_return false;
    }
    if (r->code != 220) {
      if (r->code == 421) {
        Fail(*r);
        co_return false;
      }
      if (!options_.require_tls) co_return true;  // Go on in the clear.
      Fail(MakeReply(451, "4.7.4",
                     "TLS required but " + peer_ + " refused STARTTLS: " + std::to_string(r->code) +
                         " " + r->Text()));
      co_await Quit();
      co_return false;
    }
    // Anything the server sent after its 220 came in the clear and is not a TLS record:
    // drop it rather than read it later as if it had come through TLS.
    parser_ = ReplyParser();

    std::shared_ptr<asio::ssl::context> ctx =
        common::MakeClientTlsContext(options_.verify_certificate);
    if (options_.verify_certificate && !options_.ca_file.empty()) {
      boost::system::error_code ec;
      ctx->load_verify_file(options_.ca_file, ec);
      if (ec) {
        Fail(MakeReply(451, "4.7.5",
                       "Cannot load the CA file " + options_.ca_file + ": " + ec.message()));
        broken_ = true;
        co_return false;
      }
    }
    std::string sni = host_;
    if (!sni.empty() && sni.back() == '.') sni.pop_back();
    if (sni.size() > 2 && sni.front() == '[' && sni.back() == ']') {
      sni = sni.substr(1, sni.size() - 2);
    }
    boost::system::error_code ec;
    std::string detail;
    co_await conn_->Handshake(ctx, sni, options_.verify_certificate, timeout, ec, &detail);
    if (ec) {
      tls_handshake_failed_ = true;
      broken_ = true;
      std::string why;
      if (ec == asio::error::timed_out) {
        why = "timed out";
      } else if (!detail.empty()) {
        why = detail;
      } else {
        why = ec.message();
      }
      Fail(MakeReply(451, "4.7.5", "TLS handshake with " + peer_ + " failed: " + why));
      co_return false;
    }
    out_->tls_version = conn_->tls_version();
    out_->tls_cipher = conn_->tls_cipher();
    co_return co_await Hello();
  }

  // Writes `line` and reads its reply. nullopt on a transport failure (then in failure_).
  asio::awaitable<std::optional<Reply>> Command(std::string_view line, std::string_view name,
                                                Clock::duration timeout) {
    if (!co_await Send(line, timeout, name)) co_return std::nullopt;
    const std::string what = "the reply to " + std::string(name);
    co_return co_await ReadReply(timeout, what);
  }

  asio::awaitable<bool> Send(std::string_view data, Clock::duration timeout,
                             std::string_view what) {
    if (broken_) co_return false;
    boost::system::error_code ec;
    co_await conn_->WriteAll(data, timeout, ec);
    if (!ec) co_return true;
    broken_ = true;
    if (ec == asio::error::timed_out) {
      failure_ = MakeReply(451, "4.4.2", "Timed out sending " + std::string(what) + " to " + peer_);
    } else {
      failure_ = MakeReply(451, "4.4.2",
                           "Connection lost sending " + std::string(what) + " to " + peer_ + " (" +
                               ec.message() + ")");
    }
    co_return false;
  }

  // One reply within `timeout` (for all of it, not per read). nullopt on failure (then in
  // failure_).
  asio::awaitable<std::optional<Reply>> ReadReply(Clock::duration timeout, std::string_view what) {
    std::optional<Reply> r = parser_.Next();
    if (!r && !parser_.failed() && !broken_) {
      conn_->Arm(timeout);
      boost::system::error_code ec;
      while (!r && !parser_.failed()) {
        size_t n = co_await conn_->ReadSome(buffer_.data(), buffer_.size(), ec);
        if (ec) break;
        parser_.Feed(std::string_view(buffer_.data(), n));
        r = parser_.Next();
      }
      conn_->Disarm();
      if (ec) {
        broken_ = true;
        if (ec == asio::error::timed_out) {
          failure_ = MakeReply(451, "4.4.2",
                               "Timed out waiting for " + std::string(what) + " from " + peer_);
        } else {
          failure_ = MakeReply(451, "4.4.2",
                               "Connection lost waiting for " + std::string(what) + " from " +
                                   peer_ + " (" + ec.message() + ")");
        }
        co_return std::nullopt;
      }
    }
    if (r) co_return r;
    broken_ = true;
    if (parser_.failed()) {
      failure_ = MakeReply(451, "4.5.0",
                           "Malformed " + std::string(WithoutArticle(what)) + " from " + peer_ +
                               ": " + parser_.error());
    }
    co_return std::nullopt;
  }

  // QUIT, ignoring how it goes.
  asio::awaitable<void> Quit() {
    if (broken_) co_return;
    const Clock::duration timeout =
        std::min<Clock::duration>(options_.command_timeout, kQuitTimeout);
    const std::string what = "QUIT";
    co_await Command("QUIT\r\n", what, timeout);
  }

  // A negative reply as it came; any other code where this one was not expected becomes a
  // transient protocol failure.
  Reply Negative(const Reply& r, std::string_view what) const {
    if (r.transient() || r.permanent()) return r;
    return MakeReply(451, "4.5.0",
                     "Unexpected " + std::string(WithoutArticle(what)) + " from " + peer_ + ": " +
                         std::to_string(r.code) + " " + r.Text());
  }

  // The transaction failed: every recipient without a final reply gets this one.
  void Fail(const Reply& reply) {
    out_->session_reply = reply;
    for (RecipientOutcome& r : out_->recipients) {
      if (r.reply.code == 0) r.reply = reply;
    }
  }

  const std::string& host_;
  const uint16_t port_;
  const Envelope& envelope_;
  const std::string& body_;
  const ClientOptions& options_;
  const bool try_tls_;
  SendOutcome* const out_;

  std::shared_ptr<Connection> conn_;
  std::string peer_;  // "mx.example.test[192.0.2.1]:25", or "192.0.2.1:25" for an address.
  ReplyParser parser_;
  std::array<char, 4096> buffer_;
  Extensions ext_;
  Reply failure_;        // What the last failed Send or ReadReply found.
  bool broken_ = false;  // The connection cannot carry another command.
  bool tls_handshake_failed_ = false;
};

void StartOutcome(const Envelope& envelope, SendOutcome* out) {
  *out = SendOutcome();
  for (const std::string& address : envelope.recipients) {
    out->recipients.push_back(RecipientOutcome{address, Reply()});
  }
}

// Every recipient leaves with a reply, whatever happened.
void FinishOutcome(SendOutcome* out) {
  for (RecipientOutcome& r : out->recipients) {
    if (r.reply.code != 0) continue;
    if (out->session_reply.code == 0) {
      out->session_reply = MakeReply(451, "4.3.0", "Delivery ended without a reply");
    }
    r.reply = out->session_reply;
  }
}

}  // namespace

void DataEncoder::Feed(std::string_view chunk, std::string* out) {
  out->reserve(out->size() + chunk.size() + chunk.size() / 32 + 8);
  for (char c : chunk) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      out->append("\r\n");
      at_line_start_ = true;
      skip_lf_ = (c == '\r');
      continue;
    }
    if (at_line_start_ && c == '.') out->push_back('.');
    out->push_back(c);
    at_line_start_ = false;
  }
}

void DataEncoder::Finish(std::string* out) {
  if (!at_line_start_) out->append("\r\n");
  out->append(".\r\n");
  at_line_start_ = true;
  skip_lf_ = false;
}

uint64_t MessageSize(std::string_view body) {
  uint64_t size = 0;
  bool after_cr = false;
  bool at_line_start = true;
  for (char c : body) {
    if (c == '\n' && after_cr) {
      after_cr = false;
      continue;
    }
    after_cr = (c == '\r');
    if (c == '\r' || c == '\n') {
      size += 2;
      at_line_start = true;
    } else {
      size += 1;
      at_line_start = false;
    }
  }
  if (!at_line_start) size += 2;
  return size;
}

asio::awaitable<SendOutcome> SendMessage(const std::string& host, uint16_t port,
                                         const Envelope& envelope, const std::string* body,
                                         const ClientOptions* options) {
  SendOutcome out;
  try {
    StartOutcome(envelope, &out);
    bool retry_plain = false;
    {
      Session session(host, port, envelope, *body, *options, /*try_tls=*/true, &out);
      co_await session.Run();
      retry_plain =
          session.tls_handshake_failed() && !options->require_tls && !options->verify_certificate;
    }
    if (retry_plain) {
      StartOutcome(envelope, &out);
      Session session(host, port, envelope, *body, *options, /*try_tls=*/false, &out);
      co_await session.Run();
    }
  } catch (const std::exception& e) {
    out.session_reply =
        MakeReply(451, "4.3.0", std::string("Local error while sending: ") + e.what());
  } catch (...) {
    out.session_reply = MakeReply(451, "4.3.0", "Local error while sending");
  }
  FinishOutcome(&out);
  co_return out;
}

}  // namespace transport::client
