// POP3 TRANSACTION and UPDATE states over the MailStore: a maildrop snapshot taken at login,
// deletions applied only at QUIT (durably, before +OK), the mailbox's retrieval action applied
// to retrieved messages at QUIT, nothing changed if the connection drops.
#pragma once

#include "cas/pop3/session/pop3_connection.h"
#include "directory.pb.h"
#include "mailboxstore/api/mail_store.h"

namespace cas::pop3 {

// Sends the login's +OK once the maildrop is loaded, then serves commands until QUIT or the end
// of the connection.
asio::awaitable<void> RunTransaction(Pop3Connection& conn, mailboxstore::MailStore& store,
                                     const mail::v1::Mailbox& mailbox);

}  // namespace cas::pop3
