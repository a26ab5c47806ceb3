// One SMTP connection on a receive connector (RFC 5321 with PIPELINING, SIZE, 8BITMIME,
// SMTPUTF8, ENHANCEDSTATUSCODES, STARTTLS, AUTH, CHUNKING, DSN). The session checks the
// connector's policy (AUTH before MAIL, AUTH only after TLS, relay, sender ownership at MAIL
// FROM) and hands each complete message to a MessageAcceptor, whose reply it sends.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/connection_limits.h"
#include "common/protocol_log.h"
#include "common/stream.h"
#include "directory.pb.h"
#include "mailboxstore/api/authenticator.h"
#include "mailboxstore/api/mail_store.h"
#include "settings.pb.h"
#include "transport.pb.h"

namespace transport {

// One accepted recipient of a transaction.
struct Recipient {
  std::string address;    // As the client wrote it (lower-cased domain).
  bool local = false;     // A mailbox of ours (mailbox_id), else relayed through the queue.
  uint64_t mailbox_id = 0;
  mail::v1::DsnNotify notify;
  std::string orcpt;
};

// What the client sent between MAIL FROM and the end of DATA/BDAT.
struct Transaction {
  std::string sender;  // Empty for the null reverse-path <>.
  std::vector<Recipient> recipients;
  bool eight_bit = false;
  bool smtputf8 = false;
  std::string envid;
  bool ret_headers_only = false;
  // The authenticated mailbox (0 on anonymous connectors): DSNs for relayed mail go there.
  uint64_t sender_mailbox_id = 0;
  std::string auth_user;
  std::string session_id;
};

// The outcome the client sees after the message data: "250 2.0.0 ...", "451 4.3.0 ...".
struct AcceptReply {
  int code = 250;
  std::string enhanced = "2.0.0";
  std::string text;
};

// Makes a message durable (local mailboxes in the store, remote recipients in the queue)
// before answering 250.
class MessageAcceptor {
 public:
  virtual ~MessageAcceptor() = default;
  // `message` already carries the Received header. Called on the session's executor.
  virtual asio::awaitable<AcceptReply> Accept(const Transaction* transaction,
                                              const std::string* message) = 0;
};

// A connector's settings as one snapshot; Set-ReceiveConnector swaps it for new connections.
class ConnectorState {
 public:
  explicit ConnectorState(mail::v1::ReceiveConnector c)
      : current_(std::make_shared<const mail::v1::ReceiveConnector>(std::move(c))),
        limits_(common::ConnectionLimits::Create()) {}
  std::shared_ptr<const mail::v1::ReceiveConnector> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  void Set(mail::v1::ReceiveConnector c) {
    auto next = std::make_shared<const mail::v1::ReceiveConnector>(std::move(c));
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(next);
  }
  common::ConnectionLimits& limits() { return *limits_; }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const mail::v1::ReceiveConnector> current_;
  std::shared_ptr<common::ConnectionLimits> limits_;
};

struct SmtpServices {
  std::string host_name;  // Greeting, EHLO reply, Received header.
  mailboxstore::Authenticator* auth = nullptr;
  mailboxstore::MailStore* store = nullptr;  // ResolveAddress.
  MessageAcceptor* acceptor = nullptr;
  common::ProtocolLog* log = nullptr;  // Written only when the connector logs.
  std::atomic<uint64_t>* session_counter = nullptr;
};

// Runs one connection to its end. `implicit_tls`: the connector is 465-style (handshake first).
asio::awaitable<void> ServeSmtp(std::unique_ptr<common::Stream> stream,
                                std::shared_ptr<ConnectorState> connector,
                                SmtpServices* services);

// "Received:" header field (folded, CRLF-terminated) for a message accepted on `connector`.
std::string ReceivedHeader(const std::string& helo, const std::string& client_address,
                           const std::string& host_name, const std::string& connector,
                           const std::string& tls_version, const std::string& tls_cipher,
                           const std::string& auth_user, const std::string& id,
                           const std::string& single_recipient, bool esmtp, int64_t now_unix);

// True when `address` is one the authenticated mailbox may use as sender: its primary
// address, an alias, or an address (or a mailbox name) it was given Send-As on.
bool OwnsAddress(const mail::v1::Mailbox& mailbox, const std::string& address,
                 const mail::v1::Mailbox* address_owner);

// RFC 5322 date-time, "Thu, 26 Nov 2026 08:26:48 +0000".
std::string Rfc5322Date(int64_t unix_seconds);

}  // namespace transport
