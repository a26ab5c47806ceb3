#include "cas/pop3/session/pop3_connection.h"

#include <algorithm>

namespace cas::pop3 {
namespace {

ParserLimits LimitsFor(const mail::v1::ProtocolSettings& s) {
  ParserLimits l;
  l.max_command_line = std::max<size_t>(40, s.max_command_size());
  return l;
}

}  // namespace

Pop3Connection::Pop3Connection(std::unique_ptr<common::Stream> stream,
                               std::shared_ptr<const mail::v1::ProtocolSettings> settings,
                               std::string session_id, common::ProtocolLog* log)
    : stream_(std::move(stream)),
      settings_(std::move(settings)),
      session_id_(std::move(session_id)),
      log_(log),
      parser_(LimitsFor(*settings_)) {}

std::chrono::steady_clock::duration Pop3Connection::BoundedTimeout(
    std::chrono::steady_clock::duration timeout, bool* capped) const {
  if (capped != nullptr) *capped = false;
  if (!login_deadline_) return timeout;
  auto left = *login_deadline_ - std::chrono::steady_clock::now();
  if (left >= timeout) return timeout;
  if (capped != nullptr) *capped = true;
  return std::max(left, std::chrono::steady_clock::duration::zero());
}

asio::awaitable<std::optional<ParseEvent>> Pop3Connection::NextEvent(
    std::chrono::seconds timeout) {
  char buf[16384];
  while (!closed_) {
    if (!pending_.empty()) {
      size_t took = parser_.Feed(pending_);
      pending_.erase(0, took);
    }
    ParseEvent e = parser_.Next();
    if (!std::holds_alternative<NeedMore>(e)) co_return e;
    if (!pending_.empty()) continue;  // Fed more after the parser made room.
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
        co_await Send(ErrResponse("Disconnected: no login within the time limit."));
        LogEvent("pre-authentication timeout");
      } else if (ec == asio::error::timed_out) {
        co_await Send(ErrResponse("Disconnected for inactivity."));
        LogEvent("timeout");
      }
      closed_ = true;
      break;
    }
    pending_.append(buf, n);
  }
  co_return std::nullopt;
}

asio::awaitable<bool> Pop3Connection::Send(std::string_view data, std::string_view log_text) {
  if (closed_) co_return false;
  if (log_ != nullptr && settings_->protocol_log_enabled()) {
    std::string_view line = log_text;
    if (line.empty()) line = data.substr(0, data.find("\r\n"));
    log_->Write(session_id_, stream_->remote_address(), user_, '>', line);
  }
  boost::system::error_code ec;
  co_await stream_->WriteAll(data, std::chrono::seconds(60), ec);
  if (ec) closed_ = true;
  co_return !ec;
}

void Pop3Connection::LogClient(std::string_view redacted_command) {
  if (log_ != nullptr && settings_->protocol_log_enabled()) {
    log_->Write(session_id_, stream_->remote_address(), user_, '<', redacted_command);
  }
}

void Pop3Connection::LogEvent(std::string_view text) {
  if (log_ != nullptr && settings_->protocol_log_enabled()) {
    log_->Write(session_id_, stream_->remote_address(), user_, '*', text);
  }
}

asio::awaitable<bool> Pop3Connection::StartTls() {
  if (parser_.HasBufferedInput() || !pending_.empty()) {
    // Plaintext pipelined behind STLS would be processed as if it came over TLS.
    co_await Send(ErrResponse("Unexpected data after STLS."));
    closed_ = true;
    co_return false;
  }
  if (!co_await Send(OkResponse("Begin TLS negotiation now."))) co_return false;
  boost::system::error_code ec;
  co_await stream_->Handshake(BoundedTimeout(std::chrono::seconds(30)), ec);
  if (ec) {
    LogEvent("TLS handshake failed: " + ec.message());
    closed_ = true;
    co_return false;
  }
  parser_.Reset();
  LogEvent("TLS " + stream_->tls_version() + " " + stream_->tls_cipher());
  co_return true;
}

}  // namespace cas::pop3
