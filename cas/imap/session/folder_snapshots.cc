#include "cas/imap/session/folder_snapshots.h"

#include <algorithm>
#include <string>
#include <unordered_set>

namespace cas::imap {
namespace {

size_t BytesOf(const std::vector<MessageEntry>& entries) {
  size_t bytes = sizeof(entries) + entries.capacity() * sizeof(MessageEntry);
  for (const MessageEntry& e : entries) {
    bytes += e.flags.capacity() * sizeof(std::string);
    for (const std::string& f : e.flags) {
      if (f.capacity() > 15) bytes += f.capacity() + 1;  // Beyond the short-string buffer.
    }
  }
  return bytes;
}

std::vector<MessageEntry>::iterator Find(std::vector<MessageEntry>* entries, uint32_t uid) {
  return std::lower_bound(entries->begin(), entries->end(), uid,
                          [](const MessageEntry& e, uint32_t u) { return e.uid < u; });
}

}  // namespace

FolderSnapshots::FolderSnapshots(size_t max_bytes, size_t min_messages)
    : max_bytes_(max_bytes), min_messages_(min_messages) {}

std::optional<FolderSnapshots::Snapshot> FolderSnapshots::Get(uint64_t mailbox_id,
                                                              uint32_t folder_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find({mailbox_id, folder_id});
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->snapshot;
}

void FolderSnapshots::Put(uint64_t mailbox_id, uint32_t folder_id, uint32_t uidvalidity,
                          uint64_t modseq, std::shared_ptr<const MessageList> entries) {
  const Key key{mailbox_id, folder_id};
  if (entries == nullptr || entries->size() < min_messages_) {
    // Too small to keep; a folder that shrank drops its old snapshot.
    std::lock_guard<std::mutex> lock(mu_);
    EraseLocked(key);
    return;
  }
  Entry e;
  e.key = key;
  e.snapshot.uidvalidity = uidvalidity;
  e.snapshot.modseq = modseq;
  e.bytes = BytesOf(*entries);  // Outside the lock: it walks the list.
  e.snapshot.entries = std::move(entries);
  std::lock_guard<std::mutex> lock(mu_);
  EraseLocked(key);
  if (e.bytes > max_bytes_) return;
  bytes_ += e.bytes;
  lru_.push_front(std::move(e));
  index_[key] = lru_.begin();
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void FolderSnapshots::EraseLocked(const Key& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  bytes_ -= it->second->bytes;
  lru_.erase(it->second);
  index_.erase(it);
}

size_t FolderSnapshots::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

void ApplyChanges(const mail::v1::GetChangesResponse& changes, uint32_t folder_id,
                  std::vector<MessageEntry>* entries) {
  // UIDs are never reused, so expunges can all be removed at the end: no later event of the
  // log brings an expunged UID back.
  std::unordered_set<uint32_t> expunged;
  for (const mail::v1::ChangeEvent& e : changes.changes()) {
    if (e.folder_id() != folder_id) continue;
    switch (e.kind()) {
      case mail::v1::CHANGE_KIND_APPEND:
        for (uint32_t uid : e.uids()) {
          MessageEntry m;
          m.uid = uid;
          m.flags.assign(e.flags().begin(), e.flags().end());
          m.modseq = e.modseq();
          if (entries->empty() || entries->back().uid < uid) {
            entries->push_back(std::move(m));
            continue;
          }
          auto it = Find(entries, uid);
          if (it == entries->end() || it->uid != uid) entries->insert(it, std::move(m));
        }
        break;
      case mail::v1::CHANGE_KIND_FLAGS:
        for (uint32_t uid : e.uids()) {
          auto it = Find(entries, uid);
          if (it == entries->end() || it->uid != uid || it->modseq > e.modseq()) continue;
          it->flags.assign(e.flags().begin(), e.flags().end());
          it->modseq = e.modseq();
        }
        break;
      case mail::v1::CHANGE_KIND_EXPUNGE:
        expunged.insert(e.uids().begin(), e.uids().end());
        break;
      default:
        break;
    }
  }
  if (!expunged.empty()) {
    std::erase_if(*entries, [&](const MessageEntry& m) { return expunged.count(m.uid) > 0; });
  }
}

}  // namespace cas::imap
