// What both IMAP phases share on one connection: stream, parser, settings snapshot, protocol
// log, and reading the next parser result (answering literal continuations on the way).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "cas/imap/codec/parser.h"
#include "cas/imap/codec/response.h"
#include "common/protocol_log.h"
#include "common/stream.h"
#include "settings.pb.h"

namespace cas::imap {

class ImapConnection {
 public:
  ImapConnection(std::unique_ptr<common::Stream> stream,
                 std::shared_ptr<const mail::v1::ProtocolSettings> settings, std::string session_id,
                 common::ProtocolLog* log);

  // The next complete parser result (never NeedMoreInput or ContinuationNeeded: literal
  // continuations are answered here). nullopt when the client went away or stayed silent past
  // `timeout` (a BYE was sent when possible).
  asio::awaitable<std::optional<ParseResult>> Next(std::chrono::seconds timeout);
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
  asio::awaitable<bool> Send(std::string_view data, std::string_view log_text = {});
  void LogClient(std::string_view redacted);
  void LogEvent(std::string_view text);
  asio::awaitable<bool> StartTls(const std::string& tag);

  // CAPABILITY for the current state.
  std::string Capabilities(bool authenticated) const;

  common::Stream& stream() { return *stream_; }
  const common::Stream& stream() const { return *stream_; }
  CommandParser& parser() { return parser_; }
  const mail::v1::ProtocolSettings& settings() const { return *settings_; }
  const std::string& session_id() const { return session_id_; }
  void set_user(std::string user) { user_ = std::move(user); }
  const std::string& user() const { return user_; }
  bool closed() const { return closed_; }
  void Close();

 private:
  std::unique_ptr<common::Stream> stream_;
  std::shared_ptr<const mail::v1::ProtocolSettings> settings_;
  std::string session_id_;
  common::ProtocolLog* log_;
  CommandParser parser_;
  std::string user_;
  bool closed_ = false;
  std::optional<std::chrono::steady_clock::time_point> login_deadline_;
};

// A command for the protocol log: tag and name, with LOGIN/AUTHENTICATE arguments hidden.
std::string CommandForLog(const Command& cmd);

// The reply to a line that did not parse, for the protocol log: the line is logged as
// "<unparsable command>", so its tag (whatever came first on the line, a password sent out of
// turn included) is not logged either.
std::string ParseErrorForLog(const ParseError& err);

}  // namespace cas::imap
