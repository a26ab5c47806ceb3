// POP3 AUTHORIZATION state (RFC 1939 4, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH). Sees
// only an Authenticator: it cannot reach mailbox data. Returns the authenticated mailbox.
#pragma once

#include <optional>
#include <string>

#include "cas/pop3/session/pop3_connection.h"
#include "directory.pb.h"
#include "mailboxstore/api/authenticator.h"

namespace cas::pop3 {

struct LoginOutcome {
  mail::v1::Mailbox mailbox;
};

// Runs until a successful login (the +OK is left to the caller, which must first take the
// maildrop lock), QUIT, or the connection ends.
asio::awaitable<std::optional<LoginOutcome>> RunLogin(Pop3Connection& conn,
                                                      mailboxstore::Authenticator& auth);

// CAPA lines for the current connection state.
std::vector<std::string> Capabilities(const Pop3Connection& conn, bool authenticated);

}  // namespace cas::pop3
