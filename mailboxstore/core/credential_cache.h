// VerifiedCredentialCache: remembers, for a short time, that a password checked out against a
// mailbox's SCRAM verifier, so that a client that logs in again and again (phones polling POP3
// every minute, IMAP clients opening five connections at once) costs one PBKDF2 run (~1 ms of
// CPU at 4096 rounds) per TTL instead of one per login. Dovecot's auth cache does the same.
//
// What is kept is not the password: each entry is HMAC-SHA256 under a random per-process key
// of (mailbox id, the verifier's StoredKey, the password), plus an expiry time. Because the
// StoredKey is part of the entry, a password change makes every older entry unmatchable at
// once; Forget() also drops them. Only successes are cached: a wrong password always pays the
// full PBKDF2 price (and the brute-force throttle runs before the cache is consulted).
// Thread-safe; bounded (when full, expired entries go first, then the oldest ones).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mailboxstore {

struct CredentialCacheOptions {
  std::chrono::seconds ttl{300};  // Default: 5 minutes; 0 turns the cache off.
  size_t max_entries = 100000;    // Default: 100,000 (about 10 MB at most).
};

class VerifiedCredentialCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit VerifiedCredentialCache(CredentialCacheOptions options, Clock clock = nullptr);

  // True when this password was verified against this StoredKey within the TTL.
  bool Contains(uint64_t mailbox_id, std::string_view stored_key, std::string_view password);
  // Records a successful verification.
  void Remember(uint64_t mailbox_id, std::string_view stored_key, std::string_view password);
  // Drops every entry of the mailbox (password changed, mailbox removed or disabled).
  void Forget(uint64_t mailbox_id);

  size_t size() const;

 private:
  using Digest = std::array<uint8_t, 32>;
  struct DigestHash {
    size_t operator()(const Digest& d) const;
  };
  struct Entry {
    uint64_t mailbox_id;
    std::chrono::steady_clock::time_point expires;
    std::list<Digest>::iterator order;  // Position in `order_` (oldest first).
  };

  Digest Key(uint64_t mailbox_id, std::string_view stored_key, std::string_view password) const;
  void EraseLocked(std::unordered_map<Digest, Entry, DigestHash>::iterator it);
  std::chrono::steady_clock::time_point Now() const;

  CredentialCacheOptions options_;
  const Clock clock_;
  std::array<uint8_t, 32> secret_{};

  mutable std::mutex mu_;
  std::unordered_map<Digest, Entry, DigestHash> entries_;
  std::list<Digest> order_;  // Insertion order; the front expires first (one TTL for all).
};

}  // namespace mailboxstore
