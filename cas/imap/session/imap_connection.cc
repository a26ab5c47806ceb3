#include "cas/imap/session/imap_connection.h"

#include <algorithm>

#include "common/login_policy.h"

namespace cas::imap {
namespace {

ParserLimits LimitsFor(const mail::v1::ProtocolSettings& s) {
  ParserLimits l;
  l.max_line_bytes = s.max_command_size();
  l.max_append_literal_bytes = s.max_message_size();
  l.max_command_literal_bytes = s.max_message_size();
  return l;
}

}  // namespace

std::string CommandForLog(const Command& cmd) {
  std::string out = cmd.tag + " ";
  if (cmd.uid) out += "UID ";
  out += std::string(cmd.name());
  if (std::holds_alternative<LoginArgs>(cmd.args)) {
    out += " " + std::get<LoginArgs>(cmd.args).user + " <hidden>";
  } else if (std::holds_alternative<AuthenticateArgs>(cmd.args)) {
    out += " " + std::get<AuthenticateArgs>(cmd.args).mechanism;
    if (std::get<AuthenticateArgs>(cmd.args).initial_response) out += " <hidden>";
  } else if (std::holds_alternative<SelectArgs>(cmd.args)) {
    out += " " + std::get<SelectArgs>(cmd.args).mailbox;
  } else if (std::holds_alternative<FetchArgs>(cmd.args)) {
    out += " " + std::get<FetchArgs>(cmd.args).set.ToString();
  } else if (std::holds_alternative<StoreArgs>(cmd.args)) {
    out += " " + std::get<StoreArgs>(cmd.args).set.ToString();
  }
  return out;
}

std::string ParseErrorForLog(const ParseError& err) {
  std::string line = Tagged(err.tag ? "<tag>" : "*", err.status, err.code, err.text);
  return line.substr(0, line.size() - 2);  // Without its CRLF.
}

ImapConnection::ImapConnection(std::unique_ptr<common::Stream> stream,
                               std::shared_ptr<const mail::v1::ProtocolSettings> settings,
                               std::string session_id, common::ProtocolLog* log)
    : stream_(std::move(stream)),
      settings_(std::move(settings)),
      session_id_(std::move(session_id)),
      log_(log),
      parser_(LimitsFor(*settings_), ParserOptions{/*literal_plus=*/true, false}) {}

void ImapConnection::Close() {
  closed_ = true;
  stream_->Close();
}

std::chrono::steady_clock::duration ImapConnection::BoundedTimeout(
    std::chrono::steady_clock::duration timeout, bool* capped) const {
  if (capped != nullptr) *capped = false;
  if (!login_deadline_) return timeout;
  auto left = *login_deadline_ - std::chrono::steady_clock::now();
  if (left >= timeout) return timeout;
  if (capped != nullptr) *capped = true;
  return std::max(left, std::chrono::steady_clock::duration::zero());
}

asio::awaitable<std::optional<ParseResult>> ImapConnection::Next(std::chrono::seconds timeout) {
  ParseResult r = parser_.Next();
  // Lives in the coroutine frame, so every connection waiting here (IDLE, between commands)
  // holds it: kept small. TLS keeps the rest of a record buffered, so a large literal just
  // takes more reads.
  char buf[4096];
  while (!closed_) {
    if (auto* cont = std::get_if<ContinuationNeeded>(&r)) {
      (void)cont;
      if (!co_await Send(Continuation("Ready for literal data"))) break;
      r = parser_.Next();
      continue;
    }
    if (!std::holds_alternative<NeedMoreInput>(r)) co_return r;
    boost::system::error_code ec;
    bool capped = false;
    auto wait = BoundedTimeout(timeout, &capped);
    size_t n = 0;
    if (wait.count() > 0) {
      n = co_await stream_->ReadSome(buf, sizeof(buf), wait, ec);
    } else {
      ec = asio::error::timed_out;
    }
    if (ec || n == 0) {
      if (ec == asio::error::timed_out && capped) {
        co_await Send(UntaggedStatus("BYE", "", "Disconnected: no login within the time limit."));
        LogEvent("pre-authentication timeout");
      } else if (ec == asio::error::timed_out) {
        co_await Send(UntaggedStatus("BYE", "", "Disconnected for inactivity."));
        LogEvent("timeout");
      }
      closed_ = true;
      break;
    }
    r = parser_.Feed(std::string_view(buf, n));
  }
  co_return std::nullopt;
}

asio::awaitable<bool> ImapConnection::Send(std::string_view data, std::string_view log_text) {
  if (closed_) co_return false;
  if (log_ != nullptr && settings_->protocol_log_enabled()) {
    std::string_view line = log_text;
    if (line.empty()) {
      // The tagged or last line is the useful summary.
      std::string_view trimmed = data.substr(0, data.size() >= 2 ? data.size() - 2 : 0);
      size_t nl = trimmed.rfind("\r\n");
      line = nl == std::string_view::npos ? trimmed : trimmed.substr(nl + 2);
      if (line.size() > 200) line = line.substr(0, 200);
    }
    log_->Write(session_id_, stream_->remote_address(), user_, '>', line);
  }
  boost::system::error_code ec;
  co_await stream_->WriteAll(data, std::chrono::seconds(120), ec);
  if (ec) closed_ = true;
  co_return !ec;
}

void ImapConnection::LogClient(std::string_view redacted) {
  if (log_ != nullptr && settings_->protocol_log_enabled()) {
    log_->Write(session_id_, stream_->remote_address(), user_, '<', redacted);
  }
}

void ImapConnection::LogEvent(std::string_view text) {
  if (log_ != nullptr && settings_->protocol_log_enabled()) {
    log_->Write(session_id_, stream_->remote_address(), user_, '*', text);
  }
}

asio::awaitable<bool> ImapConnection::StartTls(const std::string& tag) {
  if (parser_.buffered_input_bytes() > 0) {
    // Plaintext pipelined behind STARTTLS would be read as if it came over TLS.
    co_await Send(Tagged(tag, "BAD", "", "Unexpected data after STARTTLS."));
    Close();
    co_return false;
  }
  if (!co_await Send(Tagged(tag, "OK", "", "Begin TLS negotiation now."))) co_return false;
  boost::system::error_code ec;
  co_await stream_->Handshake(BoundedTimeout(std::chrono::seconds(30)), ec);
  if (ec) {
    LogEvent("TLS handshake failed: " + ec.message());
    Close();
    co_return false;
  }
  LogEvent("TLS " + stream_->tls_version() + " " + stream_->tls_cipher());
  co_return true;
}

std::string ImapConnection::Capabilities(bool authenticated) const {
  // IMAP4rev2 (RFC 9051) for clients that ENABLE it; its base extensions (BINARY, SEARCHRES,
  // LIST-EXTENDED, ...) are listed too for IMAP4rev1 clients.
  std::string caps = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MOVE "
                     "UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH SEARCHRES "
                     "BINARY CONDSTORE QRESYNC STATUS=SIZE QUOTA QUOTA=RES-STORAGE UTF8=ACCEPT";
  caps += " APPENDLIMIT=" + std::to_string(settings_->max_message_size());
  if (!authenticated) {
    bool tls = stream_->tls_active();
    if (!tls && stream_->tls_available()) caps += " STARTTLS";
    if (!common::IsLoginAllowed(settings_->login_type(), tls, common::LoginMechanism::kCleartext)) {
      caps += " LOGINDISABLED";
    }
    for (const auto& m : common::AdvertisedMechanisms(settings_->login_type(), tls)) {
      caps += " AUTH=" + m;
    }
  }
  return caps;
}

}  // namespace cas::imap
