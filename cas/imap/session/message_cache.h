// What FETCH renders of a message that never changes (size, INTERNALDATE, MIME structure and
// envelope), kept for recently fetched messages, shared by every session of this process. A
// client that fetches the same headers again (a second device, a re-sync after reconnecting, a
// phone opening the same folder) then costs no store call. A UID names the same bytes for as
// long as the folder keeps its UIDVALIDITY (RFC 9051 2.3.1.1), so entries never go stale; they
// only age out when the cache is full. Flags and MODSEQ change and are not kept here: sessions
// take them from their mailbox view.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "store.pb.h"

namespace cas::imap {

class MessageCache {
 public:
  struct Key {
    uint64_t mailbox_id = 0;
    uint32_t folder_id = 0;
    uint32_t uidvalidity = 0;
    uint32_t uid = 0;
    bool operator==(const Key&) const = default;
  };

  explicit MessageCache(size_t max_bytes);  // 0 = keeps nothing.
  MessageCache(const MessageCache&) = delete;
  MessageCache& operator=(const MessageCache&) = delete;

  // The record last put under `key`, or nullptr.
  std::shared_ptr<const mail::v1::MessageRecord> Get(const Key& key);
  // Keeps a record fetched with its structure (flags and MODSEQ are dropped).
  std::shared_ptr<const mail::v1::MessageRecord> Put(const Key& key,
                                                     mail::v1::MessageRecord record);

  size_t bytes() const;
  size_t entries() const;

 private:
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    Key key;
    std::shared_ptr<const mail::v1::MessageRecord> record;
    size_t bytes = 0;
  };
  void EvictLocked();

  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // Most recently used first.
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
  size_t bytes_ = 0;
};

}  // namespace cas::imap
