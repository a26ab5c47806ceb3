#include "mailboxstore/core/credential_cache.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

namespace mailboxstore {

VerifiedCredentialCache::VerifiedCredentialCache(CredentialCacheOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  // Without a random key the entries would be plain SHA-256-speed hashes of passwords; with
  // one that cannot be made, the cache stays off.
  if (RAND_bytes(secret_.data(), static_cast<int>(secret_.size())) != 1) {
    options_.ttl = std::chrono::seconds(0);
  }
}

size_t VerifiedCredentialCache::DigestHash::operator()(const Digest& d) const {
  size_t h;
  std::memcpy(&h, d.data(), sizeof(h));  // Already uniformly distributed.
  return h;
}

std::chrono::steady_clock::time_point VerifiedCredentialCache::Now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

VerifiedCredentialCache::Digest VerifiedCredentialCache::Key(uint64_t mailbox_id,
                                                             std::string_view stored_key,
                                                             std::string_view password) const {
  // Length-prefixed fields, so that no two different inputs give the same message.
  std::string message;
  message.reserve(24 + stored_key.size() + password.size());
  for (int shift = 56; shift >= 0; shift -= 8) message.push_back(char(mailbox_id >> shift));
  const auto put = [&](std::string_view field) {
    const uint32_t n = static_cast<uint32_t>(field.size());
    for (int shift = 24; shift >= 0; shift -= 8) message.push_back(char(n >> shift));
    message.append(field);
  };
  put(stored_key);
  put(password);
  Digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &len) == nullptr) {
    out.fill(0);
  }
  OPENSSL_cleanse(message.data(), message.size());
  return out;
}

bool VerifiedCredentialCache::Contains(uint64_t mailbox_id, std::string_view stored_key,
                                       std::string_view password) {
  if (options_.ttl.count() == 0) return false;
  const Digest key = Key(mailbox_id, stored_key, password);
  const auto now = Now();
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (it->second.expires <= now || it->second.mailbox_id != mailbox_id) {
    EraseLocked(it);
    return false;
  }
  return true;
}

void VerifiedCredentialCache::Remember(uint64_t mailbox_id, std::string_view stored_key,
                                       std::string_view password) {
  if (options_.ttl.count() == 0 || options_.max_entries == 0) return;
  const Digest key = Key(mailbox_id, stored_key, password);
  const auto now = Now();
  std::lock_guard lock(mu_);
  auto existing = entries_.find(key);
  if (existing != entries_.end()) EraseLocked(existing);
  // The front of `order_` is the oldest entry and so expires first.
  while (!order_.empty()) {
    auto oldest = entries_.find(order_.front());
    if (entries_.size() < options_.max_entries && oldest->second.expires > now) break;
    EraseLocked(oldest);
  }
  order_.push_back(key);
  entries_.emplace(key, Entry{mailbox_id, now + options_.ttl, std::prev(order_.end())});
}

void VerifiedCredentialCache::Forget(uint64_t mailbox_id) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (it->second.mailbox_id == mailbox_id) EraseLocked(it);
    it = next;
  }
}

size_t VerifiedCredentialCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void VerifiedCredentialCache::EraseLocked(
    std::unordered_map<Digest, Entry, DigestHash>::iterator it) {
  order_.erase(it->second.order);
  entries_.erase(it);
}

}  // namespace mailboxstore
