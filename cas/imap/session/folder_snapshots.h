// SELECT of a large folder without reading all its records again. The message list (UIDs,
// flags, MODSEQs) of recently selected large folders is kept here, shared by every session of
// this process. A SELECT shares the snapshot (its view copies it only when something changes)
// and brings it up to date with the store's change log (one GetChanges since the snapshot's
// MODSEQ, none when the folder's HIGHESTMODSEQ has not moved) instead of fetching every record;
// it reads
// the records only on a miss, when the log no longer reaches back, or when the result does not
// add up to the folder's message count. Entries never go stale by themselves: a snapshot is
// only ever used together with the changes made after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "cas/imap/session/mailbox_view.h"
#include "store.pb.h"

namespace cas::imap {

class FolderSnapshots {
 public:
  struct Snapshot {
    uint32_t uidvalidity = 0;
    uint64_t modseq = 0;  // The entries show at least every change up to this MODSEQ.
    std::shared_ptr<const MessageList> entries;  // Ascending UID. Never null.
  };

  // Keeps snapshots of folders with at least `min_messages` messages (smaller ones are as
  // cheap to fetch as to bring up to date), up to about `max_bytes` in all.
  FolderSnapshots(size_t max_bytes, size_t min_messages);
  FolderSnapshots(const FolderSnapshots&) = delete;
  FolderSnapshots& operator=(const FolderSnapshots&) = delete;

  std::optional<Snapshot> Get(uint64_t mailbox_id, uint32_t folder_id);
  // Replaces the folder's snapshot (ignored below min_messages or above max_bytes). The list
  // is shared, not copied: it must not change any more (MailboxView copies before changing a
  // shared list).
  void Put(uint64_t mailbox_id, uint32_t folder_id, uint32_t uidvalidity, uint64_t modseq,
           std::shared_ptr<const MessageList> entries);
  size_t min_messages() const { return min_messages_; }
  size_t bytes() const;

 private:
  using Key = std::pair<uint64_t, uint32_t>;
  struct Entry {
    Key key;
    Snapshot snapshot;
    size_t bytes = 0;
  };

  void EraseLocked(const Key& key);

  const size_t max_bytes_;
  const size_t min_messages_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // Most recently used first.
  std::map<Key, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

// Applies the change log of folder `folder_id` (GetChanges, in MODSEQ order) to `entries`
// (ascending UID): appends, flag changes newer than an entry's MODSEQ, expunges. Applying an
// event the entries already show changes nothing, so a snapshot that is newer than its MODSEQ
// in places still ends exactly at the log's end.
void ApplyChanges(const mail::v1::GetChangesResponse& changes, uint32_t folder_id,
                  std::vector<MessageEntry>* entries);

}  // namespace cas::imap
