// IMAP not-authenticated state: CAPABILITY, NOOP, LOGOUT, STARTTLS, ID, LOGIN, AUTHENTICATE
// (PLAIN, SCRAM-SHA-256, with SASL-IR). Sees only an Authenticator.
#pragma once

#include <optional>
#include <string>

#include "cas/imap/session/imap_connection.h"
#include "directory.pb.h"
#include "mailboxstore/api/authenticator.h"

namespace cas::imap {

struct ImapLoginOutcome {
  mail::v1::Mailbox mailbox;
  std::string tag;  // The login command's tag: the caller sends the tagged OK.
};

asio::awaitable<std::optional<ImapLoginOutcome>> RunImapLogin(ImapConnection& conn,
                                                              mailboxstore::Authenticator& auth);

}  // namespace cas::imap
