// LoginThrottle: brute-force protection for every login of every protocol (POP3, IMAP4, SMTP),
// kept by the mailbox store so that all frontend nodes share it. Pure logic over an injected
// clock: no I/O, no RocksDB; thread-safe; memory-bounded (each table has a cap and forgets its
// least recently updated entries first). The owner persists it: TakeChanges() hands over the
// entries changed since the last call, Restore() puts stored ones back at start, so a restart
// of the store neither lifts a block nor forgets a trusted address.
//
// Two rules, both lifting by themselves:
// - Address rule: an address with `address_failures` failed logins within `window` is refused
//   for `first_delay` after its last failure; each further failure doubles that, up to
//   `max_delay`.
// - Mailbox rule: a mailbox with `mailbox_failures` failed logins from untrusted addresses
//   within `window` refuses untrusted addresses for it the same way. An address that logged
//   in to the mailbox within `trust_period` is trusted for it and never refused by this rule,
//   so an attack from elsewhere does not lock the owner out.
// Refused attempts are not password checks and are not counted. Addresses in
// `exempt_networks` are neither counted nor refused. A successful login forgets the failures
// of that address for that mailbox (typos before the right password).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "directory.pb.h"

namespace mailboxstore {

struct LoginThrottleOptions {
  uint32_t address_failures = 5;   // Default: 5 failures from one address...
  uint32_t mailbox_failures = 10;  // Default: 10 failures for one mailbox (untrusted sources)...
  std::chrono::seconds window{15 * 60};  // Default: ...within 15 minutes.
  // Refused for this long after the failure that reached the limit; doubled per further
  // failure, up to max_delay (which should not exceed `window`).
  std::chrono::seconds first_delay{60};     // Default: 60 s.
  std::chrono::seconds max_delay{15 * 60};  // Default: 15 minutes.
  // How long a successful login makes its address trusted for the mailbox.
  std::chrono::seconds trust_period{30 * 24 * 3600};  // Default: 30 days.
  // The owner is told at most this often that the mailbox rule refused sign-ins.
  std::chrono::seconds notice_interval{3600};  // Default: 1 hour.
  size_t max_addresses = 100000;               // Default: 100,000 addresses with recent failures.
  size_t max_mailboxes = 100000;  // Default: 100,000 mailboxes (or typed names) with failures.
  size_t max_trusted = 200000;    // Default: 200,000 trusted (mailbox, address) pairs.
  size_t max_events = 16;         // Default: the last 16 failures per address and per mailbox.
  // CIDR networks ("10.0.0.0/8", "2001:db8::/32") or single addresses. Default: none.
  std::vector<std::string> exempt_networks;
};

// An IPv4 or IPv6 network. IPv4 is kept as ::ffff:a.b.c.d so both families compare alike.
struct IpNetwork {
  uint8_t bytes[16] = {};
  int prefix_bits = 128;
};

// Parses "192.0.2.0/24", "2001:db8::/32", "192.0.2.7" or "::1"; false when it is not one.
bool ParseIpNetwork(std::string_view text, IpNetwork* out);
// Checks every entry of `networks`; the error names the first that is not a network.
common::Status ValidateIpNetworks(const std::vector<std::string>& networks);
// The canonical text of an address ("::ffff:192.0.2.1" -> "192.0.2.1", "2001:DB8::1" ->
// "2001:db8::1"); other text is returned lower-cased and cut to 64 characters.
std::string CanonicalAddress(std::string_view address);

enum class ThrottleRule { kNone, kClientAddress, kMailbox };

struct ThrottleDecision {
  ThrottleRule rule = ThrottleRule::kNone;  // kNone: go ahead.
  std::chrono::system_clock::time_point until;
  uint32_t retry_after_seconds = 0;  // Rounded up; at least 1 when refused.
  bool refused() const { return rule != ThrottleRule::kNone; }
};

// What the owner of a mailbox is told when the mailbox rule starts refusing.
struct BlockNotice {
  std::string mailbox;
  std::vector<std::string> addresses;         // Distinct, most recent first.
  std::vector<mail::v1::Protocol> protocols;  // Distinct, in enum order.
  uint32_t attempts = 0;
  std::chrono::system_clock::time_point first, last;
  std::chrono::system_clock::time_point blocked_until;
};

struct FailureOutcome {
  bool counted = false;                // False for exempt addresses.
  ThrottleDecision address;            // The address's state after this failure.
  bool mailbox_block_started = false;  // This failure made the mailbox rule refuse.
  std::optional<BlockNotice> notice;   // Set when the owner should be told (rate-limited).
};

struct FailureSummary {
  std::string client_address;
  std::string user;
  mail::v1::Protocol protocol = mail::v1::PROTOCOL_UNSPECIFIED;
  uint32_t count = 0;
  std::chrono::system_clock::time_point first, last;
};

struct Block {
  ThrottleRule rule = ThrottleRule::kNone;
  std::string key;  // The address (kClientAddress) or the mailbox (kMailbox).
  uint32_t failures = 0;
  std::chrono::system_clock::time_point until;
  uint32_t retry_after_seconds = 0;
  std::vector<std::string> addresses;  // kMailbox: where the failures came from.
};

// One changed entry of the tables, for the owner to store under `key` (its own prefix added);
// no value: the entry is gone, delete it. Keys: "a:" address, "m:" mailbox, "t:" mailbox '\n'
// address.
struct ThrottleChange {
  std::string key;
  std::optional<std::string> value;
};

struct ClearOutcome {
  uint32_t failures_cleared = 0;
  std::vector<Block> lifted;
};

class LoginThrottle {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `clock` defaults to the system clock. Entries of options.exempt_networks that are not
  // networks are ignored (check them first with ValidateIpNetworks).
  explicit LoginThrottle(LoginThrottleOptions options, Clock clock = {});

  const LoginThrottleOptions& options() const { return options_; }

  // Before any password work: may `address` try to log in to `mailbox`? `mailbox` is the
  // resolved mailbox name, or the name as typed when no mailbox has it; "" skips the mailbox
  // rule, and an empty address skips the address rule.
  ThrottleDecision Check(std::string_view address, std::string_view mailbox);
  // A wrong password (or SCRAM proof).
  FailureOutcome RecordFailure(std::string_view address, std::string_view mailbox,
                               mail::v1::Protocol protocol);
  // A right password: the address becomes trusted for the mailbox, and its failures for the
  // mailbox are forgotten.
  void RecordSuccess(std::string_view address, std::string_view mailbox);

  bool IsExempt(std::string_view address) const;
  bool IsTrusted(std::string_view address, std::string_view mailbox);

  // Failures within the window, one row per (address, user, protocol), newest first. Empty
  // filters match everything; `mailbox` is compared without regard to case.
  std::vector<FailureSummary> Failures(std::string_view address, std::string_view mailbox);
  // Every block in force now (address rule first, then mailbox rule, each by key).
  std::vector<Block> Blocks();
  // Forgets the failures of `address` (everywhere), or for `mailbox`, or every failure. Trust
  // is kept, and so is when each owner was last told (no second notice within the hour).
  ClearOutcome Clear(std::string_view address, std::string_view mailbox, bool all);

  // Persistence. After TrackChanges(), every change to a failure record or a trust is
  // remembered until TakeChanges() returns it (the value as it is then, or a deletion).
  // Failures, blocks, cleared records and new trusts are changes; a successful login from an
  // address that is already trusted is not (its trust time is refreshed in memory only, and
  // stored again once it is a day old), so that successful logins cost no write.
  void TrackChanges();
  std::vector<ThrottleChange> TakeChanges();
  bool HasChanges();
  // Puts back one entry that TakeChanges() returned earlier. False when it has expired (or is
  // unreadable): the caller deletes it.
  bool Restore(std::string_view key, std::string_view value);

  // Table sizes, for tests of the memory bound.
  size_t address_entries();
  size_t mailbox_entries();
  size_t trusted_entries();

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  struct Event {
    TimePoint time;
    std::string other;  // The mailbox (in address records) or the address (mailbox records).
    mail::v1::Protocol protocol;
  };
  struct Record {
    std::vector<Event> events;  // Oldest first, at most max_events, all within the window.
    TimePoint last_notice{};    // Mailbox records: when the owner was last told.
    std::list<std::string>::iterator lru;
  };
  // A table whose least recently touched entry goes first when it is full.
  struct Table {
    std::unordered_map<std::string, Record> map;
    std::list<std::string> order;  // Most recently touched first.
    std::set<std::string>* dirty = nullptr;  // Evicted keys go here when changes are tracked.
    Record* Find(const std::string& key);
    Record& Touch(const std::string& key, size_t cap);
    void Erase(const std::string& key);
  };

  void Prune(Record* r, TimePoint now) const;
  bool TrustedLocked(const std::string& address, const std::string& mailbox, TimePoint now);
  // The events of a mailbox record that count for the mailbox rule (untrusted sources).
  std::vector<const Event*> CountingLocked(const std::string& mailbox, const Record& r,
                                           TimePoint now);
  ThrottleDecision Until(size_t count, uint32_t threshold, TimePoint last, TimePoint now) const;
  ThrottleDecision AddressStateLocked(const std::string& address, TimePoint now);
  ThrottleDecision MailboxStateLocked(const std::string& mailbox, TimePoint now);
  std::vector<Block> BlocksLocked(TimePoint now);
  std::string Key(std::string_view mailbox) const;
  void MarkLocked(std::set<std::string>& dirty, const std::string& key);
  std::string EncodeRecord(const Record& r) const;
  bool DecodeRecord(std::string_view value, Record* r) const;

  const LoginThrottleOptions options_;
  const Clock clock_;
  std::vector<IpNetwork> exempt_;

  std::mutex mu_;
  Table addresses_;
  Table mailboxes_;
  // Key: mailbox '\n' address; value: the last successful login.
  std::unordered_map<std::string, std::pair<TimePoint, std::list<std::string>::iterator>> trusted_;
  std::list<std::string> trusted_order_;  // Most recently used first.
  bool tracking_ = false;
  std::set<std::string> dirty_addresses_, dirty_mailboxes_, dirty_trusted_;
};

// The notice put in the mailbox's Inbox when the mailbox rule starts refusing sign-ins: a
// plain RFC 5322 message (CRLF lines) from postmaster at the mailbox's domain.
std::string BlockNoticeMessage(const BlockNotice& notice, const std::string& to_address,
                               const LoginThrottleOptions& options,
                               std::chrono::system_clock::time_point now);

}  // namespace mailboxstore
