// What both POP3 phases share on one connection: the stream, the parser, the settings snapshot
// taken at connect time, the protocol log, and reading events with the right timeout.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cas/pop3/codec/parser.h"
#include "cas/pop3/codec/response.h"
#include "common/connection_limits.h"
#include "common/protocol_log.h"
#include "common/stream.h"
#include "settings.pb.h"

namespace cas::pop3 {

// Maildrops locked by a POP3 session on this node (RFC 1939: one session per maildrop).
class MaildropLocks {
 public:
  bool TryLock(uint64_t mailbox_id) {
    std::lock_guard<std::mutex> lock(mu_);
    return locked_.insert(mailbox_id).second;
  }
  void Unlock(uint64_t mailbox_id) {
    std::lock_guard<std::mutex> lock(mu_);
    locked_.erase(mailbox_id);
  }

 private:
  std::mutex mu_;
  std::set<uint64_t> locked_;
};

class Pop3Connection {
 public:
  Pop3Connection(std::unique_ptr<common::Stream> stream,
                 std::shared_ptr<const mail::v1::ProtocolSettings> settings, std::string session_id,
                 common::ProtocolLog* log);

  // The next parser event, reading from the client as needed. nullopt when the client went
  // away or stayed silent past `timeout` (then a goodbye was already sent when possible).
  asio::awaitable<std::optional<ParseEvent>> NextEvent(std::chrono::seconds timeout);
  // Before login every read is also bounded by one absolute deadline (connect time plus
  // PreAuthenticatedConnectionTimeout): a per-read timeout alone would let a client trickling
  // one byte at a time stay unauthenticated forever. nullopt (after login): no cap.
  void set_login_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) {
    login_deadline_ = deadline;
  }
  // `timeout` shortened to what is left before the login deadline; `*capped` tells whether
  // the deadline is what bounds it.
  std::chrono::steady_clock::duration BoundedTimeout(std::chrono::steady_clock::duration timeout,
                                                     bool* capped = nullptr) const;
  // Sends bytes; false when the client is gone. `log_text` (already redacted) goes to the
  // protocol log when logging is on; empty = the first line of `data`.
  asio::awaitable<bool> Send(std::string_view data, std::string_view log_text = {});
  void LogClient(std::string_view redacted_command);
  void LogEvent(std::string_view text);

  // STLS: the handshake, after checking that no plaintext was pipelined behind STLS.
  asio::awaitable<bool> StartTls();

  common::Stream& stream() { return *stream_; }
  const common::Stream& stream() const { return *stream_; }
  CommandParser& parser() { return parser_; }
  const mail::v1::ProtocolSettings& settings() const { return *settings_; }
  const std::string& session_id() const { return session_id_; }
  void set_user(std::string user) { user_ = std::move(user); }
  const std::string& user() const { return user_; }
  bool closed() const { return closed_; }
  // Ends the connection now: nothing more is read or sent.
  void Close() {
    closed_ = true;
    stream_->Close();
  }

 private:
  std::unique_ptr<common::Stream> stream_;
  std::shared_ptr<const mail::v1::ProtocolSettings> settings_;
  std::string session_id_;
  common::ProtocolLog* log_;
  CommandParser parser_;
  std::string pending_;  // Read from the socket but not yet taken by the parser.
  std::string user_;
  bool closed_ = false;
  std::optional<std::chrono::steady_clock::time_point> login_deadline_;
};

}  // namespace cas::pop3
