#include "cas/imap/session/message_cache.h"

namespace cas::imap {

namespace {
// Map node, list node and the shared_ptr control block, roughly.
constexpr size_t kEntryOverhead = 160;
}  // namespace

MessageCache::MessageCache(size_t max_bytes) : max_bytes_(max_bytes) {}

size_t MessageCache::KeyHash::operator()(const Key& k) const {
  uint64_t h = k.mailbox_id * 0x9E3779B97F4A7C15ull;
  h ^= (static_cast<uint64_t>(k.folder_id) << 32 | k.uid) + 0x632BE59BD9B4E019ull + (h << 6) +
       (h >> 2);
  h ^= k.uidvalidity + 0x85EBCA77C2B2AE63ull + (h << 6) + (h >> 2);
  return static_cast<size_t>(h);
}

std::shared_ptr<const mail::v1::MessageRecord> MessageCache::Get(const Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->record;
}

std::shared_ptr<const mail::v1::MessageRecord> MessageCache::Put(const Key& key,
                                                                 mail::v1::MessageRecord record) {
  record.clear_flags();
  record.clear_modseq();
  auto shared = std::make_shared<const mail::v1::MessageRecord>(std::move(record));
  const size_t size = shared->SpaceUsedLong() + kEntryOverhead;
  if (size > max_bytes_) return shared;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Entry{key, shared, size});
  index_.emplace(key, lru_.begin());
  bytes_ += size;
  EvictLocked();
  return shared;
}

void MessageCache::EvictLocked() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

size_t MessageCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t MessageCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.size();
}

}  // namespace cas::imap
