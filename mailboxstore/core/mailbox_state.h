// The in-memory state of one mailbox (private to the engine's source files).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "mailboxstore/core/rocks_mailbox_store.h"
#include "store.pb.h"

namespace mailboxstore {

struct RocksMailboxStore::MailboxState {
  std::mutex mu;
  bool loaded = false;
  bool deleted = false;
  uint64_t generation = 0;
  uint64_t modseq = 0;
  // Change-log entries with a MODSEQ up to this were trimmed (0: none). Advanced by
  // PutCounters in the same write that deletes them, hence mutable.
  mutable uint64_t changelog_floor = 0;
  uint32_t next_folder_id = 1;
  uint64_t next_message_id = 1;
  uint32_t next_uidvalidity = 1;
  uint64_t quota = 0;  // ProhibitSendReceiveQuota; 0 = unlimited.
  std::map<uint32_t, mail::v1::Folder> folders;
  std::set<std::string> subscriptions;

  uint64_t TotalSize() const {
    uint64_t t = 0;
    for (const auto& [id, f] : folders) t += f.size();
    return t;
  }
  uint64_t TotalMessages() const {
    uint64_t t = 0;
    for (const auto& [id, f] : folders) t += f.messages();
    return t;
  }
};

}  // namespace mailboxstore
