// One IMAP connection from greeting to close: limits, implicit TLS, login, session.
#pragma once

#include <atomic>
#include <memory>

#include "cas/imap/session/folder_snapshots.h"
#include "cas/imap/session/message_cache.h"
#include "cas/server/change_router.h"
#include "common/connection_limits.h"
#include "common/protocol_log.h"
#include "common/protocol_settings.h"
#include "common/stream.h"
#include "mailboxstore/api/authenticator.h"
#include "cas/imap/session/folder_lists.h"
#include "mailboxstore/api/mail_store.h"

namespace cas::imap {

struct ImapServices {
  common::SettingsHolder* settings = nullptr;
  mailboxstore::Authenticator* auth = nullptr;
  mailboxstore::MailStore* store = nullptr;
  ChangeRouter* router = nullptr;
  std::shared_ptr<common::ConnectionLimits> limits;
  common::ProtocolLog* log = nullptr;
  std::atomic<uint64_t>* session_counter = nullptr;
  MessageCache* message_cache = nullptr;  // Shared by every session; may be null.
  FolderSnapshots* folder_snapshots = nullptr;  // Likewise.
  FolderLists* folder_lists = nullptr;          // Likewise.
};

asio::awaitable<void> ServeImap(std::unique_ptr<common::Stream> stream, bool implicit_tls,
                                ImapServices* services);

}  // namespace cas::imap
