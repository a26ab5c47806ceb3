// IMAP authenticated and selected states over the MailStore. One session per connection, on
// its own strand; changes from other sessions arrive through the ChangeRouter and are told
// where RFC 3501 allows (never EXPUNGE during FETCH, STORE or SEARCH by sequence number).
#pragma once

#include <memory>

#include "cas/imap/session/folder_snapshots.h"
#include "cas/imap/session/imap_connection.h"
#include "cas/imap/session/folder_lists.h"
#include "cas/imap/session/message_cache.h"
#include "cas/server/change_router.h"
#include "directory.pb.h"
#include "mailboxstore/api/mail_store.h"

namespace cas::imap {

// `login_tag` is taken by value: the session outlives a caller that co_spawns it.
asio::awaitable<void> RunImapSession(ImapConnection& conn, mailboxstore::MailStore& store,
                                     ChangeRouter& router, const mail::v1::Mailbox& mailbox,
                                     std::string login_tag,
                                     MessageCache* cache = nullptr,
                                     FolderSnapshots* snapshots = nullptr,
                                     FolderLists* lists = nullptr);

}  // namespace cas::imap
