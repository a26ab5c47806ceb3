#include "transport/server/smtp_session.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <optional>
#include <variant>

#include "common/base64.h"
#include "common/logging.h"
#include "common/sasl_plain.h"
#include "common/metrics.h"
#include "common/login_metrics.h"
#include "common/scram.h"
#include "common/transport_settings.h"
#include "transport/codec/parser.h"
#include "transport/codec/reply.h"
#include "transport/server/message_headers.h"

namespace transport {

namespace {

using smtp::FormatReply;

constexpr size_t kReadChunk = 8192;
constexpr int kMaxProtocolErrors = 10;
constexpr int kMaxAuthFailures = 3;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Local part kept as written, domain lower-cased.
std::string NormalizeAddress(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return std::string(address);
  return std::string(address.substr(0, at + 1)) + Lower(address.substr(at + 1));
}

bool AllAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

enum class Next { kContinue, kClose };

class SmtpSession {
 public:
  SmtpSession(std::unique_ptr<common::Stream> stream, std::shared_ptr<ConnectorState> state,
              SmtpServices* services)
      : stream_(std::move(stream)),
        state_(std::move(state)),
        c_(state_->Get()),
        s_(services) {
    uint64_t n = s_->session_counter != nullptr ? s_->session_counter->fetch_add(1) + 1 : 1;
    char id[32];
    std::snprintf(id, sizeof(id), "S%08llX%04llX", static_cast<unsigned long long>(NowUnix()),
                  static_cast<unsigned long long>(n & 0xffff));
    session_id_ = id;
    smtp::ParserLimits limits;
    limits.max_message_size = c_->max_message_size();
    parser_.set_limits(limits);
    timeout_ = std::chrono::seconds(c_->connection_timeout_seconds());
    // ConnectionTimeout is the connection's lifetime (as Exchange defines it), counted from
    // connect and not reset by each read: a client trickling one byte at a time is cut off
    // too.
    deadline_ = std::chrono::steady_clock::now() + timeout_;
  }

  asio::awaitable<void> Run();

 private:
  // ---- I/O --------------------------------------------------------------------------------
  void Reply(int code, std::string_view enhanced, std::string_view text) {
    std::string line = FormatReply(code, enhanced, text);
    Log('>', std::string_view(line).substr(0, line.size() - 2));
    out_ += line;
  }
  // The per-operation timeout, shortened to what is left of the connection's lifetime.
  std::chrono::steady_clock::duration Remaining() const {
    auto left = deadline_ - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      return std::chrono::steady_clock::duration::zero();
    }
    return std::min(left, timeout_);
  }
  asio::awaitable<bool> Flush() {
    if (out_.empty()) co_return true;
    boost::system::error_code ec;
    std::string data;
    data.swap(out_);
    // The final 421 still gets a moment to go out after the lifetime is over.
    auto wait = Remaining();
    co_await stream_->WriteAll(data, wait.count() > 0 ? wait : std::chrono::seconds(5), ec);
    co_return !ec;
  }
  // The next parser event, reading from the client when needed. nullopt: connection over.
  asio::awaitable<std::optional<smtp::ParseEvent>> NextEvent() {
    for (;;) {
      smtp::ParseEvent e = parser_.Next();
      if (!std::holds_alternative<smtp::NeedMore>(e)) co_return e;
      if (!inbuf_.empty()) {
        size_t taken = parser_.Feed(inbuf_);
        inbuf_.erase(0, taken);
        if (taken > 0) continue;
      }
      // Everything pipelined so far is answered: send the replies in one write (RFC 2920).
      bool flushed1 = co_await Flush();
      if (!flushed1) co_return std::nullopt;
      char buf[kReadChunk];
      boost::system::error_code ec;
      auto wait = Remaining();
      size_t n = 0;
      if (wait.count() > 0) {
        n = co_await stream_->ReadSome(buf, sizeof(buf), wait, ec);
      } else {
        ec = asio::error::timed_out;
      }
      if (ec || n == 0) {
        if (ec == asio::error::timed_out) {
          Reply(421, "4.4.2", s_->host_name + " Error: timeout exceeded");
          co_await Flush();
          LogEvent("timeout");
        }
        co_return std::nullopt;
      }
      inbuf_.append(buf, n);
    }
  }
  void Log(char direction, std::string_view text) {
    if (s_->log != nullptr && c_->protocol_log_enabled()) {
      s_->log->Write(session_id_, stream_->remote_address(), auth_user_, direction, text);
    }
  }
  void LogEvent(std::string_view text) { Log('*', text); }

  // ---- Commands ---------------------------------------------------------------------------
  asio::awaitable<Next> Handle(const smtp::Command& cmd);
  asio::awaitable<Next> Ehlo(const smtp::Command& cmd);
  asio::awaitable<Next> Mail(const smtp::Command& cmd);
  asio::awaitable<Next> Rcpt(const smtp::Command& cmd);
  asio::awaitable<Next> Data();
  asio::awaitable<Next> Bdat(const smtp::Command& cmd);
  asio::awaitable<Next> StartTls(const smtp::Command& cmd);
  asio::awaitable<Next> Auth(const smtp::Command& cmd);
  asio::awaitable<Next> AuthScram(const std::string* initial);
  asio::awaitable<std::optional<std::string>> SaslStep(std::string_view challenge);
  // One SASL client response, base64-decoded into `decoded`: `initial` when the client gave
  // one with AUTH, else read after a 334 with `challenge`. Errors are answered here.
  enum class Sasl { kOk, kCancelled, kFailed, kClosed };
  asio::awaitable<Sasl> SaslData(std::string_view challenge, const std::string* initial,
                                 std::string* decoded);
  asio::awaitable<Next> FinishAuth(common::StatusOr<mail::v1::AuthenticateResponse> r,
                                   const std::string& user);
  asio::awaitable<Next> FinishMessage(std::string content);
  Next ProtocolError() { return ++errors_ > kMaxProtocolErrors ? TooManyErrors() : Next::kContinue; }
  // Before AUTH, a line over the limit ends the session: the rest of it is not read (a client
  // could otherwise keep the server reading an endless line). The error was answered.
  Next CloseForLongLine() {
    Reply(421, "4.7.0", s_->host_name + " Error: line too long, closing connection");
    LogEvent("closing: line too long");
    return Next::kClose;
  }
  Next TooManyErrors() {
    Reply(421, "4.7.0", s_->host_name + " Error: too many errors");
    LogEvent("closing: too many errors");
    return Next::kClose;
  }
  void ResetTransaction() {
    txn_.reset();
    bdat_.clear();
    bdat_active_ = false;
    bdat_failed_ = false;
  }
  bool AuthOffered() const {
    return common::OffersAuth(*c_) &&
           (stream_->tls_active() || common::AuthAllowedWithoutTls(*c_));
  }

  std::unique_ptr<common::Stream> stream_;
  std::shared_ptr<ConnectorState> state_;
  std::shared_ptr<const mail::v1::ReceiveConnector> c_;
  SmtpServices* s_;
  std::string session_id_;
  std::chrono::steady_clock::duration timeout_;
  std::chrono::steady_clock::time_point deadline_;
  smtp::Parser parser_;
  std::string inbuf_;
  std::string out_;
  std::string helo_;
  bool esmtp_ = false;
  std::optional<mail::v1::Mailbox> mailbox_;  // After AUTH.
  std::string auth_user_;
  int auth_failures_ = 0;
  int errors_ = 0;
  std::optional<Transaction> txn_;
  uint64_t declared_size_ = 0;
  bool bdat_active_ = false;  // BDAT chunks are being collected: DATA is refused.
  bool bdat_failed_ = false;  // A chunk was refused: the rest are discarded until LAST.
  std::string bdat_;
  int messages_ = 0;
};

asio::awaitable<void> SmtpSession::Run() {
  common::metrics::GaugeHold open_gauge(&common::metrics::Connections("smtp", "open"));
  std::optional<common::metrics::GaugeHold> authenticated_gauge;  // From a successful AUTH.
  if (c_->implicit_tls()) {
    boost::system::error_code ec;
    co_await stream_->Handshake(Remaining(), ec);
    if (ec) {
      MAIL_LOG(kInfo, "smtp") << session_id_ << " " << stream_->remote_address()
                              << " TLS handshake failed on " << c_->name() << ": " << ec.message();
      co_return;
    }
  }
  auto ticket = state_->limits().AdmitConnection(stream_->remote_address(),
                                                 c_->max_inbound_connection(),
                                                 c_->max_inbound_connection_per_source());
  if (ticket == nullptr) {
    Reply(421, "4.3.2", s_->host_name + " Too many connections, try again later");
    co_await Flush();
    LogEvent("refused: connection limit");
    co_return;
  }
  LogEvent("connect on " + c_->name() + (stream_->tls_active() ? " (TLS " + stream_->tls_version() + ")" : ""));
  Reply(220, "", s_->host_name + " " + c_->banner());
  for (;;) {
    auto event = co_await NextEvent();
    if (!event) break;
    Next next = Next::kContinue;
    if (auto* cmd = std::get_if<smtp::Command>(&*event)) {
      if (cmd->verb == smtp::Verb::kAuth) {
        size_t space = cmd->argument.find(' ');
        Log('<', "AUTH " + cmd->argument.substr(0, space) + (space == std::string::npos ? "" : " ***"));
      } else {
        std::string line(smtp::VerbName(cmd->verb));
        if (cmd->verb == smtp::Verb::kMail) line += " FROM:<" + cmd->path + ">";
        if (cmd->verb == smtp::Verb::kRcpt) line += " TO:<" + cmd->path + ">";
        if (!cmd->argument.empty()) line += " " + cmd->argument;
        if (cmd->verb == smtp::Verb::kBdat) line += " " + std::to_string(cmd->bdat_size) + (cmd->bdat_last ? " LAST" : "");
        Log('<', line);
      }
      const auto started = std::chrono::steady_clock::now();
      next = co_await Handle(*cmd);
      common::metrics::ObserveCommand("smtp", smtp::VerbName(cmd->verb),
                                      common::metrics::SecondsSince(started));
      if (mailbox_ && !authenticated_gauge) {
        authenticated_gauge.emplace(&common::metrics::Connections("smtp", "authenticated"));
      }
    } else if (auto* err = std::get_if<smtp::ParseError>(&*event)) {
      Log('<', "(unparsable command)");
      Reply(err->code, err->enhanced, err->text);
      next = !mailbox_ && smtp::IsLineTooLong(*err) ? CloseForLongLine() : ProtocolError();
    } else if (auto* chunk = std::get_if<smtp::ChunkDone>(&*event)) {
      // The reply to BDAT comes after its chunk (RFC 3030).
      if (!bdat_active_ || bdat_failed_) {
        if (!bdat_active_) {
          Reply(503, "5.5.1", "Error: send MAIL and RCPT before BDAT");
          next = ProtocolError();
        } else {
          Reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        }
        if (chunk->last) ResetTransaction();
      } else if (chunk->too_big || bdat_.size() + chunk->bytes.size() > c_->max_message_size()) {
        Reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        bdat_failed_ = true;
        bdat_.clear();
        if (chunk->last) ResetTransaction();
      } else {
        bdat_ += chunk->bytes;
        if (chunk->last && smtp::HasBareLineEnding(bdat_)) {
          // As for DATA: BINARYMIME is not offered, so the content is CRLF text, and a bare CR
          // or LF could end the data early at a lenient next hop (SMTP smuggling).
          Reply(550, "5.6.11", "Message contains bare CR or LF line endings (RFC 5321 2.3.8)");
          LogEvent("message refused: bare CR or LF");
          ResetTransaction();
        } else if (chunk->last) {
          std::string content;
          content.swap(bdat_);
          next = co_await FinishMessage(std::move(content));
        } else {
          Reply(250, "2.0.0", std::to_string(chunk->size) + " octets received");
        }
      }
    } else if (auto* data = std::get_if<smtp::DataDone>(&*event)) {
      if (data->too_big) {
        Reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
        ResetTransaction();
      } else if (data->bare_line_ending) {
        // A bare CR or LF could make another server see a different end of data (SMTP
        // smuggling): refuse the whole message.
        Reply(550, "5.6.11", "Message contains bare CR or LF line endings (RFC 5321 2.3.8)");
        LogEvent("message refused: bare CR or LF");
        ResetTransaction();
      } else {
        next = co_await FinishMessage(std::move(data->message));
      }
    } else if (std::holds_alternative<smtp::SaslResponse>(*event)) {
      // Only AUTH asks for these, inside Auth().
      Reply(502, "5.5.2", "Error: command not recognized");
    }
    if (next == Next::kClose) break;
  }
  co_await Flush();
  stream_->Close();
  LogEvent("disconnect");
}

asio::awaitable<Next> SmtpSession::Handle(const smtp::Command& cmd) {
  switch (cmd.verb) {
    case smtp::Verb::kEhlo:
    case smtp::Verb::kHelo:
      {
        Next result = co_await Ehlo(cmd);
        co_return result;
      }
    case smtp::Verb::kMail:
      {
        Next result = co_await Mail(cmd);
        co_return result;
      }
    case smtp::Verb::kRcpt:
      {
        Next result = co_await Rcpt(cmd);
        co_return result;
      }
    case smtp::Verb::kData:
      {
        Next result = co_await Data();
        co_return result;
      }
    case smtp::Verb::kBdat:
      {
        Next result = co_await Bdat(cmd);
        co_return result;
      }
    case smtp::Verb::kRset:
      ResetTransaction();
      Reply(250, "2.0.0", "OK");
      co_return Next::kContinue;
    case smtp::Verb::kNoop:
      Reply(250, "2.0.0", "OK");
      co_return Next::kContinue;
    case smtp::Verb::kVrfy:
      Reply(252, "2.5.2", "Cannot VRFY user, but will accept message and attempt delivery");
      co_return Next::kContinue;
    case smtp::Verb::kExpn:
      Reply(502, "5.5.1", "EXPN is not available");
      co_return Next::kContinue;
    case smtp::Verb::kHelp:
      Reply(214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT STARTTLS AUTH");
      co_return Next::kContinue;
    case smtp::Verb::kQuit:
      Reply(221, "2.0.0", s_->host_name + " closing connection");
      co_return Next::kClose;
    case smtp::Verb::kStartTls:
      {
        Next result = co_await StartTls(cmd);
        co_return result;
      }
    case smtp::Verb::kAuth:
      {
        Next result = co_await Auth(cmd);
        co_return result;
      }
  }
  Reply(502, "5.5.2", "Error: command not recognized");
  co_return ProtocolError();
}

asio::awaitable<Next> SmtpSession::Ehlo(const smtp::Command& cmd) {
  if (cmd.argument.empty()) {
    Reply(501, "5.5.4", cmd.verb == smtp::Verb::kEhlo ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
    co_return ProtocolError();
  }
  ResetTransaction();
  helo_ = cmd.argument.substr(0, 255);
  esmtp_ = cmd.verb == smtp::Verb::kEhlo;
  if (!esmtp_) {
    Reply(250, "", s_->host_name);
    co_return Next::kContinue;
  }
  std::vector<std::string> lines = {s_->host_name + " Hello [" + stream_->remote_address() + "]",
                                    "SIZE " + std::to_string(c_->max_message_size()),
                                    "PIPELINING", "DSN", "ENHANCEDSTATUSCODES"};
  if (!stream_->tls_active() && stream_->tls_available()) lines.push_back("STARTTLS");
  if (AuthOffered() && !mailbox_) lines.push_back("AUTH SCRAM-SHA-256 PLAIN LOGIN");
  lines.push_back("8BITMIME");
  lines.push_back("CHUNKING");
  lines.push_back("SMTPUTF8");
  std::string text = smtp::FormatMultiline(250, "", lines);
  Log('>', "250 EHLO reply (" + std::to_string(lines.size()) + " lines)");
  out_ += text;
  co_return Next::kContinue;
}

asio::awaitable<Next> SmtpSession::Mail(const smtp::Command& cmd) {
  if (helo_.empty()) {
    Reply(503, "5.5.1", "Error: send HELO/EHLO first");
    co_return ProtocolError();
  }
  if (txn_) {
    Reply(503, "5.5.1", "Error: nested MAIL command");
    co_return ProtocolError();
  }
  if (c_->require_tls() && !stream_->tls_active()) {
    Reply(530, "5.7.0", "Must issue a STARTTLS command first");
    co_return Next::kContinue;
  }
  if (c_->require_auth() && !mailbox_) {
    if (!stream_->tls_active() && !common::AuthAllowedWithoutTls(*c_)) {
      Reply(530, "5.7.0", "Must issue a STARTTLS command first");
    } else {
      Reply(530, "5.7.0", "Authentication required");
    }
    co_return Next::kContinue;
  }
  if (cmd.mail.size && *cmd.mail.size > c_->max_message_size()) {
    Reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
    co_return Next::kContinue;
  }
  if (cmd.mail.body == smtp::MailParams::Body::kBinaryMime) {
    // Not offered in EHLO: content must be CRLF text (DATA and BDAT both check it).
    Reply(555, "5.5.4", "BODY=BINARYMIME is not supported");
    co_return Next::kContinue;
  }
  if (cmd.path_has_utf8 && !cmd.mail.smtputf8) {
    Reply(553, "5.6.7", "Non-ASCII sender address requires SMTPUTF8");
    co_return Next::kContinue;
  }
  std::string sender = NormalizeAddress(cmd.path);
  // Logged in, a user sends as the mailbox's own addresses, or as one it was given Send-As
  // on (which may name the mailbox rather than the address: hence the lookup). Without a
  // login nobody may use an address of our own domains (Postfix's reject_sender_login_mismatch;
  // Exchange keeps Accept-Authoritative-Domain-Sender from anonymous senders): that is how a
  // forged "internal" message would get in on port 25. Bounces use the null sender.
  if (!sender.empty() && !(mailbox_ && OwnsAddress(*mailbox_, sender, nullptr))) {
    mail::v1::ResolveAddressRequest req;
    req.set_address(sender);
    auto r = co_await s_->store->ResolveAddress(req);
    if (!r.ok()) {
      Reply(451, "4.3.0", "Temporary lookup failure; try again later");
      co_return Next::kContinue;
    }
    if (mailbox_) {
      const mail::v1::Mailbox* owner = r->found() ? &r->mailbox() : nullptr;
      if (!OwnsAddress(*mailbox_, sender, owner)) {
        Reply(553, "5.7.1",
              "<" + sender + ">: Sender address rejected: not owned by authenticated user " +
                  auth_user_);
        LogEvent("sender refused: " + sender + " not owned by " + auth_user_);
        co_return Next::kContinue;
      }
    } else if (r->found() || r->domain_accepted()) {
      Reply(550, "5.7.1", "<" + sender + ">: Sender address rejected: not logged in");
      LogEvent("sender refused: " + sender + " is ours and the client did not log in");
      co_return Next::kContinue;
    }
  }
  Transaction t;
  t.sender = sender;
  t.eight_bit = cmd.mail.body == smtp::MailParams::Body::k8BitMime;
  t.smtputf8 = cmd.mail.smtputf8;
  t.envid = cmd.mail.envid;
  t.ret_headers_only = cmd.mail.ret == smtp::MailParams::Ret::kHeaders;
  t.sender_mailbox_id = mailbox_ ? mailbox_->id() : 0;
  t.auth_user = auth_user_;
  t.session_id = session_id_;
  txn_ = std::move(t);
  declared_size_ = cmd.mail.size.value_or(0);
  Reply(250, "2.1.0", "Sender OK");
  co_return Next::kContinue;
}

asio::awaitable<Next> SmtpSession::Rcpt(const smtp::Command& cmd) {
  if (!txn_) {
    Reply(503, "5.5.1", "Error: need MAIL command");
    co_return ProtocolError();
  }
  if (txn_->recipients.size() >= c_->max_recipients_per_message()) {
    Reply(452, "4.5.3", "Too many recipients");
    co_return Next::kContinue;
  }
  if (cmd.path_has_utf8 && !txn_->smtputf8) {
    Reply(553, "5.6.7", "Non-ASCII recipient address requires SMTPUTF8");
    co_return Next::kContinue;
  }
  std::string address = NormalizeAddress(cmd.path);
  mail::v1::ResolveAddressRequest req;
  req.set_address(address);
  auto r = co_await s_->store->ResolveAddress(req);
  if (!r.ok()) {
    Reply(451, "4.3.0", "<" + address + ">: Temporary lookup failure; try again later");
    co_return Next::kContinue;
  }
  Recipient rcpt;
  rcpt.address = address;
  rcpt.orcpt = cmd.rcpt.orcpt;
  if (cmd.rcpt.notify_set) {
    rcpt.notify.set_never(cmd.rcpt.notify_never);
    rcpt.notify.set_success(cmd.rcpt.notify_success);
    rcpt.notify.set_failure(cmd.rcpt.notify_failure);
    rcpt.notify.set_delay(cmd.rcpt.notify_delay);
  }
  if (r->found()) {
    const auto& q = r->mailbox().quota();
    if (q.prohibit_send_receive_quota() != 0 &&
        r->mailbox().total_size() + declared_size_ > q.prohibit_send_receive_quota()) {
      Reply(552, "5.2.2", "<" + address + ">: Mailbox full");
      co_return Next::kContinue;
    }
    rcpt.local = true;
    rcpt.mailbox_id = r->mailbox().id();
  } else if (r->domain_accepted()) {
    Reply(550, "5.1.1", "<" + address + ">: Recipient address rejected: User unknown");
    LogEvent("recipient refused: unknown " + address);
    co_return Next::kContinue;
  } else if (!(mailbox_ && c_->allow_relay_authenticated())) {
    Reply(554, "5.7.1", "<" + address + ">: Relay access denied");
    LogEvent("relay refused: " + address);
    co_return Next::kContinue;
  }
  for (const auto& existing : txn_->recipients) {
    if (Lower(existing.address) == Lower(address)) {
      // A duplicate recipient gets one copy.
      Reply(250, "2.1.5", "Recipient OK");
      co_return Next::kContinue;
    }
  }
  txn_->recipients.push_back(std::move(rcpt));
  Reply(250, "2.1.5", "Recipient OK");
  co_return Next::kContinue;
}

asio::awaitable<Next> SmtpSession::Data() {
  if (!txn_) {
    Reply(503, "5.5.1", "Error: need MAIL command");
    co_return ProtocolError();
  }
  if (bdat_active_) {
    Reply(503, "5.5.1", "Error: DATA after BDAT");
    co_return ProtocolError();
  }
  if (txn_->recipients.empty()) {
    Reply(554, "5.5.1", "Error: no valid recipients");
    co_return Next::kContinue;
  }
  Reply(354, "", "End data with <CR><LF>.<CR><LF>");
  bool flushed2 = co_await Flush();
  if (!flushed2) co_return Next::kClose;
  parser_.BeginData();
  co_return Next::kContinue;
}

asio::awaitable<Next> SmtpSession::Bdat(const smtp::Command& cmd) {
  // The chunk follows at once; the reply is sent when it is in (ChunkDone).
  if (!txn_ || txn_->recipients.empty()) {
    bdat_active_ = false;
    co_return Next::kContinue;
  }
  if (!bdat_active_) {
    bdat_active_ = true;
    bdat_.clear();
    bdat_failed_ = false;
  }
  (void)cmd;
  co_return Next::kContinue;
}

asio::awaitable<Next> SmtpSession::StartTls(const smtp::Command& cmd) {
  if (stream_->tls_active()) {
    Reply(503, "5.5.1", "Error: TLS already active");
    co_return ProtocolError();
  }
  if (!stream_->tls_available()) {
    Reply(454, "4.7.0", "TLS not available");
    co_return Next::kContinue;
  }
  if (!cmd.argument.empty()) {
    Reply(501, "5.5.4", "Syntax: STARTTLS");
    co_return ProtocolError();
  }
  Reply(220, "2.0.0", "Ready to start TLS");
  bool flushed3 = co_await Flush();
  if (!flushed3) co_return Next::kClose;
  // RFC 3207: anything the client sent after STARTTLS in the clear is thrown away, so that no
  // command can be injected into the protected session.
  if (!inbuf_.empty() || parser_.buffered() > 0) {
    LogEvent("discarded " + std::to_string(inbuf_.size() + parser_.buffered()) +
             " octets pipelined after STARTTLS");
  }
  inbuf_.clear();
  parser_.Reset();
  boost::system::error_code ec;
  co_await stream_->Handshake(Remaining(), ec);
  if (ec) {
    LogEvent("TLS handshake failed: " + ec.message());
    co_return Next::kClose;
  }
  LogEvent("TLS " + stream_->tls_version() + " " + stream_->tls_cipher());
  // The session starts over (RFC 3207 4.2): EHLO again, no transaction, no login.
  helo_.clear();
  esmtp_ = false;
  ResetTransaction();
  co_return Next::kContinue;
}

asio::awaitable<std::optional<std::string>> SmtpSession::SaslStep(std::string_view challenge) {
  Log('>', "334 (challenge)");
  out_ += FormatReply(334, "", common::Base64Encode(challenge));
  parser_.ExpectSaslResponse();
  auto event = co_await NextEvent();
  if (!event) co_return std::nullopt;
  auto* response = std::get_if<smtp::SaslResponse>(&*event);
  if (auto* err = std::get_if<smtp::ParseError>(&*event);
      err != nullptr && smtp::IsLineTooLong(*err)) {
    Log('<', "(SASL response)");
    Reply(err->code, err->enhanced, err->text);
    (void)CloseForLongLine();
    co_return std::nullopt;  // Ends the session.
  }
  if (response == nullptr) {
    Reply(501, "5.5.2", "Cannot decode response");
    co_return std::string("\x01");
  }
  Log('<', "(SASL response)");
  co_return response->line;
}

asio::awaitable<SmtpSession::Sasl> SmtpSession::SaslData(std::string_view challenge,
                                                         const std::string* initial,
                                                         std::string* decoded) {
  std::string line;
  if (initial != nullptr) {
    line = *initial;
  } else {
    auto step = co_await SaslStep(challenge);
    if (!step) co_return Sasl::kClosed;
    if (*step == "\x01") co_return Sasl::kFailed;  // Not a SASL line; already answered.
    line = std::move(*step);
  }
  if (line == "*") {
    Reply(501, "5.7.0", "Authentication aborted");
    co_return Sasl::kCancelled;
  }
  // "=" is an empty response (RFC 4954).
  std::optional<std::string> bytes = line == "=" ? std::optional<std::string>(std::string())
                                                 : common::Base64Decode(line);
  if (!bytes) {
    Reply(501, "5.5.2", "Cannot decode response");
    co_return Sasl::kFailed;
  }
  *decoded = std::move(*bytes);
  co_return Sasl::kOk;
}

asio::awaitable<Next> SmtpSession::Auth(const smtp::Command& cmd) {
  if (!common::OffersAuth(*c_)) {
    Reply(503, "5.5.1", "Error: authentication not enabled");
    co_return ProtocolError();
  }
  if (mailbox_) {
    Reply(503, "5.5.1", "Error: already authenticated");
    co_return ProtocolError();
  }
  if (txn_) {
    Reply(503, "5.5.1", "Error: MAIL transaction in progress");
    co_return ProtocolError();
  }
  if (!stream_->tls_active() && !common::AuthAllowedWithoutTls(*c_)) {
    Reply(530, "5.7.0", "Must issue a STARTTLS command first");
    co_return Next::kContinue;
  }
  std::string mech = cmd.argument, initial;
  bool has_initial = false;
  if (size_t sp = mech.find(' '); sp != std::string::npos) {
    initial = mech.substr(sp + 1);
    mech = mech.substr(0, sp);
    has_initial = true;
  }
  for (char& ch : mech) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string* first = has_initial ? &initial : nullptr;
  // What a step that did not give data means for the session.
  auto after = [this](Sasl r) { return r == Sasl::kClosed ? Next::kClose
                                       : r == Sasl::kFailed ? ProtocolError()
                                                            : Next::kContinue; };
  std::string user, password, data;
  if (mech == "PLAIN") {
    Sasl r = co_await SaslData("", first, &data);
    if (r != Sasl::kOk) co_return after(r);
    std::optional<common::SaslPlain> plain = common::ParseSaslPlain(data);
    if (!plain) {
      Reply(501, "5.5.2", "Cannot decode response");
      co_return ProtocolError();
    }
    std::string authzid = plain->authzid;
    user = plain->authcid;
    password = plain->password;
    if (!authzid.empty() && authzid != user) {
      // Logging in as someone else is not offered.
      Next n = co_await FinishAuth(mail::v1::AuthenticateResponse(), user);
      co_return n;
    }
  } else if (mech == "LOGIN") {
    Sasl r = co_await SaslData("Username:", first, &user);
    if (r != Sasl::kOk) co_return after(r);
    r = co_await SaslData("Password:", nullptr, &password);
    if (r != Sasl::kOk) co_return after(r);
  } else if (mech == "SCRAM-SHA-256") {
    Next n = co_await AuthScram(first);
    co_return n;
  } else {
    Reply(504, "5.5.4", "Unrecognized authentication type");
    co_return ProtocolError();
  }
  mail::v1::AuthenticatePlainRequest req;
  req.set_protocol(mail::v1::PROTOCOL_SMTP);
  req.set_client_address(stream_->remote_address());
  req.set_user(user);
  req.set_password(password);
  auto result = co_await s_->auth->AuthenticatePlain(req);
  Next n = co_await FinishAuth(std::move(result), user);
  co_return n;
}

asio::awaitable<Next> SmtpSession::AuthScram(const std::string* initial) {
  auto after = [this](Sasl r) { return r == Sasl::kClosed ? Next::kClose
                                       : r == Sasl::kFailed ? ProtocolError()
                                                            : Next::kContinue; };
  std::string first;
  Sasl r = co_await SaslData("", initial, &first);
  if (r != Sasl::kOk) co_return after(r);
  common::ScramServer scram;
  auto user = scram.HandleClientFirst(first);
  if (!user.ok()) {
    Next n = co_await FinishAuth(mail::v1::AuthenticateResponse(), std::string());
    co_return n;
  }
  mail::v1::GetScramVerifierRequest vreq;
  vreq.set_user(*user);
  vreq.set_mechanism("SCRAM-SHA-256");
  vreq.set_protocol(mail::v1::PROTOCOL_SMTP);
  vreq.set_client_address(stream_->remote_address());
  auto verifier = co_await s_->auth->GetScramVerifier(vreq);
  if (!verifier.ok()) {
    Reply(454, "4.7.0", "Temporary authentication failure");
    co_return Next::kContinue;
  }
  if (verifier->throttled()) {
    mail::v1::AuthenticateResponse throttled;
    throttled.set_result(mail::v1::AUTH_RESULT_THROTTLED);
    throttled.set_retry_after_seconds(verifier->retry_after_seconds());
    common::StatusOr<mail::v1::AuthenticateResponse> result(std::move(throttled));
    Next n = co_await FinishAuth(std::move(result), *user);
    co_return n;
  }
  const auto& v = verifier->verifier();
  common::ScramCredentials creds{v.iterations(), v.salt(), v.stored_key(), v.server_key()};
  auto server_first = scram.StartWithCredentials(creds);
  std::string final_msg;
  if (server_first.ok()) {
    r = co_await SaslData(*server_first, nullptr, &final_msg);
    if (r != Sasl::kOk) co_return after(r);
  }
  auto server_final = server_first.ok() ? scram.HandleClientFinal(final_msg)
                                        : common::StatusOr<std::string>(server_first.status());
  if (!server_final.ok()) {
    if (server_first.ok()) {
      // A wrong proof: the store counts it as it counts a wrong password.
      mail::v1::ReportLoginFailureRequest report;
      report.set_user(*user);
      report.set_protocol(mail::v1::PROTOCOL_SMTP);
      report.set_client_address(stream_->remote_address());
      auto reported = co_await s_->auth->ReportLoginFailure(report);
      if (!reported.ok()) {
        MAIL_LOG(kWarning, "smtp") << session_id_ << " cannot report the failed login: "
                                   << reported.status().ToString();
      }
    }
    Next n = co_await FinishAuth(mail::v1::AuthenticateResponse(), *user);
    co_return n;
  }
  // RFC 4954: the server's final message goes as a 334 challenge; the client answers empty.
  std::string ack;
  r = co_await SaslData(*server_final, nullptr, &ack);
  if (r != Sasl::kOk) co_return after(r);
  mail::v1::CompleteLoginRequest creq;
  creq.set_user(*user);
  creq.set_protocol(mail::v1::PROTOCOL_SMTP);
  creq.set_client_address(stream_->remote_address());
  auto result = co_await s_->auth->CompleteLogin(creq);
  Next n = co_await FinishAuth(std::move(result), *user);
  co_return n;
}

asio::awaitable<Next> SmtpSession::FinishAuth(common::StatusOr<mail::v1::AuthenticateResponse> r,
                                              const std::string& user) {
  common::CountLoginResult("smtp", r);
  if (!r.ok()) {
    MAIL_LOG(kWarning, "smtp") << session_id_ << " store unavailable during AUTH: "
                               << r.status().ToString();
    Reply(454, "4.7.0", "Temporary authentication failure; try again later");
    co_return Next::kContinue;
  }
  switch (r->result()) {
    case mail::v1::AUTH_RESULT_OK:
      mailbox_ = r->mailbox();
      auth_user_ = user;
      LogEvent("authenticated as " + user + " (mailbox " + r->mailbox().name() + ")");
      Reply(235, "2.7.0", "Authentication successful");
      co_return Next::kContinue;
    case mail::v1::AUTH_RESULT_PROTOCOL_DISABLED:
      LogEvent("login refused for " + user + ": SMTP client authentication disabled");
      MAIL_LOG(kInfo, "smtp") << session_id_ << " " << stream_->remote_address() << " login of "
                              << user << " refused: SMTP client authentication disabled";
      Reply(535, "5.7.8", "SMTP client authentication is disabled for this mailbox");
      break;
    case mail::v1::AUTH_RESULT_THROTTLED:
      // Refused by the store's brute-force protection before any password check.
      LogEvent("login refused for " + user + ": too many failed logins");
      MAIL_LOG(kInfo, "smtp") << session_id_ << " " << stream_->remote_address() << " login of "
                              << user << " refused: too many failed logins";
      Reply(421, "4.7.0",
            "Too many failed logins; try again in " + std::to_string(r->retry_after_seconds()) +
                " seconds");
      co_return Next::kClose;
    default:
      LogEvent("login failed for " + user + ": bad credentials");
      MAIL_LOG(kInfo, "smtp") << session_id_ << " " << stream_->remote_address()
                              << " login failed for " << user << ": bad credentials";
      Reply(535, "5.7.8", "Authentication credentials invalid");
      break;
  }
  if (++auth_failures_ >= kMaxAuthFailures) {
    Reply(421, "4.7.0", s_->host_name + " Error: too many failed authentication attempts");
    co_return Next::kClose;
  }
  co_return Next::kContinue;
}

asio::awaitable<Next> SmtpSession::FinishMessage(std::string content) {
  Transaction txn = std::move(*txn_);
  ResetTransaction();
  if (mailbox_) {
    // The From header is held to the same rule as MAIL FROM.
    for (const std::string& from : FromAddresses(content)) {
      std::string addr = NormalizeAddress(from);
      if (OwnsAddress(*mailbox_, addr, nullptr)) continue;
      mail::v1::ResolveAddressRequest req;
      req.set_address(addr);
      auto r = co_await s_->store->ResolveAddress(req);
      if (!r.ok()) {
        Reply(451, "4.3.0", "Temporary lookup failure; try again later");
        co_return Next::kContinue;
      }
      if (!OwnsAddress(*mailbox_, addr, r->found() ? &r->mailbox() : nullptr)) {
        Reply(553, "5.7.1",
              "<" + addr + ">: Sender address rejected: not owned by authenticated user " +
                  auth_user_);
        LogEvent("From header refused: " + addr + " not owned by " + auth_user_);
        co_return Next::kContinue;
      }
    }
  }
  ++messages_;
  std::string id = session_id_ + "-" + std::to_string(messages_);
  std::string message = ReceivedHeader(
      helo_, stream_->remote_address(), s_->host_name, c_->name(),
      stream_->tls_active() ? stream_->tls_version() : "", stream_->tls_active() ? stream_->tls_cipher() : "",
      auth_user_, id, txn.recipients.size() == 1 ? txn.recipients[0].address : "", esmtp_, NowUnix());
  message += content;
  content.clear();
  content.shrink_to_fit();
  AcceptReply reply = co_await s_->acceptor->Accept(&txn, &message);
  LogEvent("message " + id + " from <" + txn.sender + "> to " +
           std::to_string(txn.recipients.size()) + " recipients, " +
           std::to_string(message.size()) + " octets: " + std::to_string(reply.code));
  Reply(reply.code, reply.enhanced, reply.text);
  co_return Next::kContinue;
}

}  // namespace

asio::awaitable<void> ServeSmtp(std::unique_ptr<common::Stream> stream,
                                std::shared_ptr<ConnectorState> connector,
                                SmtpServices* services) {
  try {
    SmtpSession session(std::move(stream), std::move(connector), services);
    co_await session.Run();
  } catch (const std::exception& e) {
    MAIL_LOG(kError, "smtp") << "session ended by exception: " << e.what();
  }
}

std::string Rfc5322Date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string ReceivedHeader(const std::string& helo, const std::string& client_address,
                           const std::string& host_name, const std::string& connector,
                           const std::string& tls_version, const std::string& tls_cipher,
                           const std::string& auth_user, const std::string& id,
                           const std::string& single_recipient, bool esmtp, int64_t now_unix) {
  // RFC 3848 protocol names: ESMTP + S (TLS) + A (authenticated).
  std::string with = esmtp ? "ESMTP" : "SMTP";
  if (!tls_version.empty()) with += "S";
  if (!auth_user.empty()) with += "A";
  auto clean = [](std::string s) {
    for (char& c : s) {
      if (c == '\r' || c == '\n' || c == '(' || c == ')' || static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return s;
  };
  std::string h = "Received: from " + clean(helo) + " ([" + client_address + "])\r\n\tby " +
                  host_name + " with " + with + " id " + id + "\r\n\t(connector \"" +
                  clean(connector) + "\")";
  if (!tls_version.empty()) {
    h += "\r\n\t(version=" + tls_version + " cipher=" + tls_cipher + ")";
  }
  if (!auth_user.empty()) h += "\r\n\t(authenticated user " + clean(auth_user) + ")";
  if (!single_recipient.empty() && AllAscii(single_recipient)) {
    h += "\r\n\tfor <" + single_recipient + ">";
  }
  h += "; " + Rfc5322Date(now_unix) + "\r\n";
  return h;
}

bool OwnsAddress(const mail::v1::Mailbox& mailbox, const std::string& address,
                 const mail::v1::Mailbox* address_owner) {
  std::string a = Lower(address);
  if (Lower(mailbox.primary_smtp_address()) == a) return true;
  for (const auto& alias : mailbox.email_addresses()) {
    if (Lower(alias) == a) return true;
  }
  for (const auto& granted : mailbox.send_as()) {
    std::string g = Lower(granted);
    if (g == a) return true;
    if (address_owner != nullptr &&
        (g == Lower(address_owner->name()) || g == Lower(address_owner->primary_smtp_address()))) {
      return true;
    }
  }
  return false;
}

}  // namespace transport
