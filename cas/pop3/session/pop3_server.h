// One POP3 connection from greeting to close: limits, implicit TLS, login, maildrop lock,
// transaction.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "cas/pop3/session/pop3_connection.h"
#include "common/connection_limits.h"
#include "common/protocol_log.h"
#include "common/protocol_settings.h"
#include "mailboxstore/api/authenticator.h"
#include "mailboxstore/api/mail_store.h"

namespace cas::pop3 {

struct Pop3Services {
  common::SettingsHolder* settings = nullptr;
  mailboxstore::Authenticator* auth = nullptr;
  mailboxstore::MailStore* store = nullptr;
  std::shared_ptr<common::ConnectionLimits> limits;
  MaildropLocks* locks = nullptr;
  common::ProtocolLog* log = nullptr;
  std::atomic<uint64_t>* session_counter = nullptr;
};

asio::awaitable<void> ServePop3(std::unique_ptr<common::Stream> stream, bool implicit_tls,
                                Pop3Services* services);

}  // namespace cas::pop3
