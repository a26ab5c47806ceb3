#include "mailboxstore/core/login_throttle.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <tuple>

namespace mailboxstore {

using TimePoint = std::chrono::system_clock::time_point;

namespace {

constexpr size_t kMaxAddressText = 64;
constexpr size_t kMaxMailboxText = 254;
constexpr size_t kMaxNoticeAddresses = 20;
// A trusted address's time is stored again when it is this old (see TakeChanges).
constexpr std::chrono::hours kTrustRewriteAfter{24};

int64_t UnixMillisSigned(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

uint64_t UnixMillis(std::chrono::system_clock::time_point t) {
  return static_cast<uint64_t>(std::max<int64_t>(0, UnixMillisSigned(t)));
}

std::chrono::system_clock::time_point FromUnixMillis(uint64_t ms) {
  return std::chrono::system_clock::time_point(
      std::chrono::milliseconds(static_cast<int64_t>(ms)));
}

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

bool GetU64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) *v = (*v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(8);
  return true;
}

bool GetU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(4);
  return true;
}

std::string LowerCut(std::string_view s, size_t max) {
  std::string out(s.substr(0, max));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Parses an address into 16 bytes (IPv4 as ::ffff:a.b.c.d); `v4` tells which it was.
bool ParseAddress(std::string_view text, uint8_t out[16], bool* v4) {
  if (text.empty() || text.size() > 45) return false;
  std::string s(text);
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    std::fill(out, out + 10, 0);
    out[10] = out[11] = 0xff;
    std::memcpy(out + 12, &a4, 4);
    *v4 = true;
    return true;
  }
  in6_addr a6;
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    std::memcpy(out, &a6, 16);
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    *v4 = std::memcmp(out, kMapped, 12) == 0;
    return true;
  }
  return false;
}

bool PrefixMatches(const uint8_t a[16], const uint8_t b[16], int bits) {
  int full = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(full)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

uint32_t CeilSeconds(std::chrono::system_clock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms <= 0) return 1;
  return static_cast<uint32_t>(std::max<int64_t>(1, (ms + 999) / 1000));
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::tm UtcTm(TimePoint t) {
  std::time_t tt = static_cast<std::time_t>(UnixSeconds(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// RFC 5322 section 3.3, independent of the locale: "Thu, 26 Nov 2026 10:00:00 +0000".
std::string Rfc5322Date(TimePoint t) {
  std::tm tm = UtcTm(t);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

// "26 Nov 2026 09:45:10 UTC".
std::string ReadableTime(TimePoint t) {
  std::tm tm = UtcTm(t);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%02d %s %04d %02d:%02d:%02d UTC", tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string ProtocolName(mail::v1::Protocol p) {
  switch (p) {
    case mail::v1::PROTOCOL_POP3:
      return "POP3";
    case mail::v1::PROTOCOL_IMAP4:
      return "IMAP4";
    case mail::v1::PROTOCOL_SMTP:
      return "SMTP";
    case mail::v1::PROTOCOL_ADMIN:
      return "admin";
    default:
      return "unknown";
  }
}

// "a", "a and b", "a, b and c".
std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
    out += words[i];
  }
  return out;
}

// Keeps header fields to printable ASCII on one line.
std::string HeaderSafe(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

LoginThrottleOptions Clamped(LoginThrottleOptions o) {
  // A rule whose threshold exceeds what is kept could never apply.
  o.max_events = std::max<size_t>({o.max_events, o.address_failures, o.mailbox_failures, 1});
  o.address_failures = std::max<uint32_t>(o.address_failures, 1);
  o.mailbox_failures = std::max<uint32_t>(o.mailbox_failures, 1);
  o.max_addresses = std::max<size_t>(o.max_addresses, 1);
  o.max_mailboxes = std::max<size_t>(o.max_mailboxes, 1);
  o.max_trusted = std::max<size_t>(o.max_trusted, 1);
  return o;
}

}  // namespace

bool ParseIpNetwork(std::string_view text, IpNetwork* out) {
  std::string_view addr = text;
  int bits = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3) return false;
    bits = 0;
    for (char c : len) {
      if (c < '0' || c > '9') return false;
      bits = bits * 10 + (c - '0');
    }
  }
  bool v4 = false;
  IpNetwork n;
  if (!ParseAddress(addr, n.bytes, &v4)) return false;
  // "::ffff:0:0/96" style IPv6 prefixes of mapped addresses count as IPv6 prefixes.
  bool v4_text = addr.find(':') == std::string_view::npos;
  if (bits < 0) {
    n.prefix_bits = 128;
  } else if (v4_text) {
    if (bits > 32) return false;
    n.prefix_bits = 96 + bits;
  } else {
    if (bits > 128) return false;
    n.prefix_bits = bits;
  }
  *out = n;
  return true;
}

common::Status ValidateIpNetworks(const std::vector<std::string>& networks) {
  for (const std::string& n : networks) {
    IpNetwork parsed;
    if (!ParseIpNetwork(n, &parsed)) {
      return common::InvalidArgumentError("login_throttle_exempt: '" + n +
                                          "' is not an address or a CIDR network");
    }
  }
  return common::Status::Ok();
}

std::string CanonicalAddress(std::string_view address) {
  uint8_t bytes[16];
  bool v4 = false;
  if (!ParseAddress(address, bytes, &v4)) return LowerCut(address, kMaxAddressText);
  char buf[INET6_ADDRSTRLEN];
  if (v4) {
    if (inet_ntop(AF_INET, bytes + 12, buf, sizeof(buf)) == nullptr) return "";
  } else if (inet_ntop(AF_INET6, bytes, buf, sizeof(buf)) == nullptr) {
    return "";
  }
  return buf;
}

// ---- Table --------------------------------------------------------------------------------

LoginThrottle::Record* LoginThrottle::Table::Find(const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

LoginThrottle::Record& LoginThrottle::Table::Touch(const std::string& key, size_t cap) {
  auto it = map.find(key);
  if (it != map.end()) {
    order.splice(order.begin(), order, it->second.lru);
    return it->second;
  }
  order.push_front(key);
  Record& r = map[key];
  r.lru = order.begin();
  // The new entry is at the front: the oldest ones go, never it.
  while (map.size() > cap && order.size() > 1) {
    if (dirty != nullptr) dirty->insert(order.back());
    map.erase(order.back());
    order.pop_back();
  }
  return r;
}

void LoginThrottle::Table::Erase(const std::string& key) {
  auto it = map.find(key);
  if (it == map.end()) return;
  order.erase(it->second.lru);
  map.erase(it);
}

// ---- LoginThrottle ------------------------------------------------------------------------

LoginThrottle::LoginThrottle(LoginThrottleOptions options, Clock clock)
    : options_(Clamped(std::move(options))),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {
  for (const std::string& n : options_.exempt_networks) {
    IpNetwork parsed;
    if (ParseIpNetwork(n, &parsed)) exempt_.push_back(parsed);
  }
}

std::string LoginThrottle::Key(std::string_view mailbox) const {
  return LowerCut(mailbox, kMaxMailboxText);
}

bool LoginThrottle::IsExempt(std::string_view address) const {
  if (exempt_.empty()) return false;
  uint8_t bytes[16];
  bool v4 = false;
  if (!ParseAddress(address, bytes, &v4)) return false;
  for (const IpNetwork& n : exempt_) {
    if (PrefixMatches(bytes, n.bytes, n.prefix_bits)) return true;
  }
  return false;
}

void LoginThrottle::Prune(Record* r, TimePoint now) const {
  auto keep_from = std::find_if(r->events.begin(), r->events.end(),
                                [&](const Event& e) { return now - e.time < options_.window; });
  r->events.erase(r->events.begin(), keep_from);
}

bool LoginThrottle::TrustedLocked(const std::string& address, const std::string& mailbox,
                                  TimePoint now) {
  if (address.empty() || mailbox.empty()) return false;
  auto it = trusted_.find(mailbox + '\n' + address);
  if (it == trusted_.end()) return false;
  if (now - it->second.first < options_.trust_period) return true;
  MarkLocked(dirty_trusted_, it->first);
  trusted_order_.erase(it->second.second);
  trusted_.erase(it);
  return false;
}

bool LoginThrottle::IsTrusted(std::string_view address, std::string_view mailbox) {
  std::lock_guard<std::mutex> lock(mu_);
  return TrustedLocked(CanonicalAddress(address), Key(mailbox), clock_());
}

std::vector<const LoginThrottle::Event*> LoginThrottle::CountingLocked(const std::string& mailbox,
                                                                       const Record& r,
                                                                       TimePoint now) {
  std::vector<const Event*> out;
  for (const Event& e : r.events) {
    if (!TrustedLocked(e.other, mailbox, now)) out.push_back(&e);
  }
  return out;
}

ThrottleDecision LoginThrottle::Until(size_t count, uint32_t threshold, TimePoint last,
                                      TimePoint now) const {
  ThrottleDecision d;
  if (count < threshold) return d;
  size_t doublings = std::min<size_t>(count - threshold, 30);
  auto delay = options_.first_delay * (int64_t{1} << doublings);
  if (delay > options_.max_delay) delay = options_.max_delay;
  TimePoint until = last + delay;
  if (now >= until) return d;
  d.rule = ThrottleRule::kClientAddress;  // The caller sets the rule that applied.
  d.until = until;
  d.retry_after_seconds = CeilSeconds(until - now);
  return d;
}

ThrottleDecision LoginThrottle::AddressStateLocked(const std::string& address, TimePoint now) {
  Record* r = addresses_.Find(address);
  if (r == nullptr) return {};
  Prune(r, now);
  if (r->events.empty()) return {};
  ThrottleDecision d =
      Until(r->events.size(), options_.address_failures, r->events.back().time, now);
  if (d.refused()) d.rule = ThrottleRule::kClientAddress;
  return d;
}

ThrottleDecision LoginThrottle::MailboxStateLocked(const std::string& mailbox, TimePoint now) {
  Record* r = mailboxes_.Find(mailbox);
  if (r == nullptr) return {};
  Prune(r, now);
  std::vector<const Event*> counting = CountingLocked(mailbox, *r, now);
  if (counting.empty()) return {};
  ThrottleDecision d =
      Until(counting.size(), options_.mailbox_failures, counting.back()->time, now);
  if (d.refused()) d.rule = ThrottleRule::kMailbox;
  return d;
}

ThrottleDecision LoginThrottle::Check(std::string_view address, std::string_view mailbox) {
  TimePoint now = clock_();
  std::string addr = CanonicalAddress(address), mb = Key(mailbox);
  if (!addr.empty() && IsExempt(addr)) return {};
  std::lock_guard<std::mutex> lock(mu_);
  if (!addr.empty()) {
    ThrottleDecision d = AddressStateLocked(addr, now);
    if (d.refused()) return d;
  }
  if (!mb.empty() && !TrustedLocked(addr, mb, now)) {
    ThrottleDecision d = MailboxStateLocked(mb, now);
    if (d.refused()) return d;
  }
  return {};
}

FailureOutcome LoginThrottle::RecordFailure(std::string_view address, std::string_view mailbox,
                                            mail::v1::Protocol protocol) {
  TimePoint now = clock_();
  std::string addr = CanonicalAddress(address), mb = Key(mailbox);
  FailureOutcome out;
  if (!addr.empty() && IsExempt(addr)) return out;
  if (addr.empty() && mb.empty()) return out;
  out.counted = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (!addr.empty()) {
    MarkLocked(dirty_addresses_, addr);
    Record& r = addresses_.Touch(addr, options_.max_addresses);
    Prune(&r, now);
    r.events.push_back(Event{now, mb, protocol});
    if (r.events.size() > options_.max_events) {
      r.events.erase(r.events.begin(),
                     r.events.begin() + static_cast<long>(r.events.size() - options_.max_events));
    }
    out.address = AddressStateLocked(addr, now);
  }
  if (!mb.empty()) {
    bool refused_before = MailboxStateLocked(mb, now).refused();
    MarkLocked(dirty_mailboxes_, mb);
    Record& r = mailboxes_.Touch(mb, options_.max_mailboxes);
    Prune(&r, now);
    r.events.push_back(Event{now, addr, protocol});
    if (r.events.size() > options_.max_events) {
      r.events.erase(r.events.begin(),
                     r.events.begin() + static_cast<long>(r.events.size() - options_.max_events));
    }
    ThrottleDecision after = MailboxStateLocked(mb, now);
    if (!refused_before && after.refused() && !TrustedLocked(addr, mb, now)) {
      out.mailbox_block_started = true;
      if (r.last_notice == TimePoint{} || now - r.last_notice >= options_.notice_interval) {
        r.last_notice = now;
        BlockNotice n;
        n.mailbox = mb;
        std::vector<const Event*> counting = CountingLocked(mb, r, now);
        std::set<int> protocols;
        for (auto it = counting.rbegin(); it != counting.rend(); ++it) {
          const std::string& a = (*it)->other.empty() ? std::string("(unknown)") : (*it)->other;
          if (std::find(n.addresses.begin(), n.addresses.end(), a) == n.addresses.end()) {
            n.addresses.push_back(a);
          }
          protocols.insert((*it)->protocol);
        }
        for (int p : protocols) n.protocols.push_back(static_cast<mail::v1::Protocol>(p));
        n.attempts = static_cast<uint32_t>(counting.size());
        n.first = counting.front()->time;
        n.last = counting.back()->time;
        n.blocked_until = after.until;
        out.notice = std::move(n);
      }
    }
  }
  return out;
}

void LoginThrottle::RecordSuccess(std::string_view address, std::string_view mailbox) {
  TimePoint now = clock_();
  std::string addr = CanonicalAddress(address), mb = Key(mailbox);
  if (addr.empty() || mb.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = mb + '\n' + addr;
  auto it = trusted_.find(key);
  if (it != trusted_.end()) {
    // Stored again only once a day: an owner's every login must not cost a write.
    if (now - it->second.first >= kTrustRewriteAfter) MarkLocked(dirty_trusted_, key);
    it->second.first = now;
    trusted_order_.splice(trusted_order_.begin(), trusted_order_, it->second.second);
  } else {
    MarkLocked(dirty_trusted_, key);
    trusted_order_.push_front(key);
    trusted_.emplace(key, std::make_pair(now, trusted_order_.begin()));
    while (trusted_.size() > options_.max_trusted && trusted_order_.size() > 1) {
      MarkLocked(dirty_trusted_, trusted_order_.back());
      trusted_.erase(trusted_order_.back());
      trusted_order_.pop_back();
    }
  }
  if (Record* r = addresses_.Find(addr)) {
    if (std::erase_if(r->events, [&](const Event& e) { return e.other == mb; }) > 0) {
      MarkLocked(dirty_addresses_, addr);
    }
    if (r->events.empty()) addresses_.Erase(addr);
  }
  if (Record* r = mailboxes_.Find(mb)) {
    if (std::erase_if(r->events, [&](const Event& e) { return e.other == addr; }) > 0) {
      MarkLocked(dirty_mailboxes_, mb);
    }
  }
}

std::vector<FailureSummary> LoginThrottle::Failures(std::string_view address,
                                                    std::string_view mailbox) {
  TimePoint now = clock_();
  std::string want_addr = address.empty() ? "" : CanonicalAddress(address);
  std::string want_mb = mailbox.empty() ? "" : Key(mailbox);
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::tuple<std::string, std::string, int>, FailureSummary> rows;
  auto add = [&](const std::string& addr, const std::string& mb, const Event& e) {
    if (!want_addr.empty() && addr != want_addr) return;
    if (!want_mb.empty() && mb != want_mb) return;
    FailureSummary& s = rows[{addr, mb, e.protocol}];
    if (s.count == 0) {
      s.client_address = addr;
      s.user = mb;
      s.protocol = e.protocol;
      s.first = e.time;
    }
    ++s.count;
    s.first = std::min(s.first, e.time);
    s.last = std::max(s.last, e.time);
  };
  // Failures with an address are listed from the address records, the others (no address
  // given) from the mailbox records, so none is listed twice.
  for (auto& [addr, r] : addresses_.map) {
    Prune(&r, now);
    for (const Event& e : r.events) add(addr, e.other, e);
  }
  for (auto& [mb, r] : mailboxes_.map) {
    Prune(&r, now);
    for (const Event& e : r.events) {
      if (e.other.empty()) add("", mb, e);
    }
  }
  std::vector<FailureSummary> out;
  for (auto& [key, s] : rows) out.push_back(std::move(s));
  std::stable_sort(out.begin(), out.end(), [](const FailureSummary& a, const FailureSummary& b) {
    return a.last > b.last;
  });
  return out;
}

std::vector<Block> LoginThrottle::BlocksLocked(TimePoint now) {
  std::vector<Block> out;
  std::vector<std::string> keys;
  for (const auto& [addr, r] : addresses_.map) keys.push_back(addr);
  std::sort(keys.begin(), keys.end());
  for (const std::string& addr : keys) {
    ThrottleDecision d = AddressStateLocked(addr, now);
    if (!d.refused()) continue;
    Block b;
    b.rule = ThrottleRule::kClientAddress;
    b.key = addr;
    b.failures = static_cast<uint32_t>(addresses_.Find(addr)->events.size());
    b.until = d.until;
    b.retry_after_seconds = d.retry_after_seconds;
    out.push_back(std::move(b));
  }
  keys.clear();
  for (const auto& [mb, r] : mailboxes_.map) keys.push_back(mb);
  std::sort(keys.begin(), keys.end());
  for (const std::string& mb : keys) {
    ThrottleDecision d = MailboxStateLocked(mb, now);
    if (!d.refused()) continue;
    Block b;
    b.rule = ThrottleRule::kMailbox;
    b.key = mb;
    std::vector<const Event*> counting = CountingLocked(mb, *mailboxes_.Find(mb), now);
    b.failures = static_cast<uint32_t>(counting.size());
    for (auto it = counting.rbegin(); it != counting.rend(); ++it) {
      if (std::find(b.addresses.begin(), b.addresses.end(), (*it)->other) == b.addresses.end()) {
        b.addresses.push_back((*it)->other);
      }
    }
    b.until = d.until;
    b.retry_after_seconds = d.retry_after_seconds;
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<Block> LoginThrottle::Blocks() {
  std::lock_guard<std::mutex> lock(mu_);
  return BlocksLocked(clock_());
}

ClearOutcome LoginThrottle::Clear(std::string_view address, std::string_view mailbox, bool all) {
  TimePoint now = clock_();
  std::string addr = address.empty() ? "" : CanonicalAddress(address);
  std::string mb = mailbox.empty() ? "" : Key(mailbox);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Block> before = BlocksLocked(now);
  ClearOutcome out;
  // Mailbox records keep when their owner was last told; empty ones without that go.
  auto tidy_mailbox = [&](const std::string& key) {
    MarkLocked(dirty_mailboxes_, key);
    Record* r = mailboxes_.Find(key);
    if (r != nullptr && r->events.empty() && r->last_notice == TimePoint{}) mailboxes_.Erase(key);
  };
  if (all) {
    for (auto& [key, r] : addresses_.map) {
      out.failures_cleared += r.events.size();
      MarkLocked(dirty_addresses_, key);
    }
    addresses_.map.clear();
    addresses_.order.clear();
    std::vector<std::string> keys;
    for (auto& [key, r] : mailboxes_.map) {
      for (const Event& e : r.events) out.failures_cleared += e.other.empty() ? 1 : 0;
      r.events.clear();
      keys.push_back(key);
    }
    for (const std::string& key : keys) tidy_mailbox(key);
  } else {
    if (!addr.empty()) {
      if (Record* r = addresses_.Find(addr)) {
        out.failures_cleared += r->events.size();
        addresses_.Erase(addr);
        MarkLocked(dirty_addresses_, addr);
      }
      std::vector<std::string> keys;
      for (auto& [key, r] : mailboxes_.map) {
        if (std::erase_if(r.events, [&](const Event& e) { return e.other == addr; }) > 0) {
          keys.push_back(key);
        }
      }
      for (const std::string& key : keys) tidy_mailbox(key);
    }
    if (!mb.empty()) {
      if (Record* r = mailboxes_.Find(mb)) {
        out.failures_cleared += r->events.size();
        r->events.clear();
        tidy_mailbox(mb);
      }
      std::vector<std::string> empty;
      for (auto& [key, r] : addresses_.map) {
        if (std::erase_if(r.events, [&](const Event& e) { return e.other == mb; }) > 0) {
          MarkLocked(dirty_addresses_, key);
        }
        if (r.events.empty()) empty.push_back(key);
      }
      for (const std::string& key : empty) addresses_.Erase(key);
    }
  }
  std::vector<Block> after = BlocksLocked(now);
  for (Block& b : before) {
    bool still = std::any_of(after.begin(), after.end(),
                             [&](const Block& a) { return a.rule == b.rule && a.key == b.key; });
    if (!still) out.lifted.push_back(std::move(b));
  }
  return out;
}

// ---- Persistence --------------------------------------------------------------------------

void LoginThrottle::MarkLocked(std::set<std::string>& dirty, const std::string& key) {
  if (tracking_) dirty.insert(key);
}

// A record: u64 last notice (ms since the epoch), then per event u64 time (ms), u32 protocol,
// u32 length and the other key's bytes; all big-endian.
std::string LoginThrottle::EncodeRecord(const Record& r) const {
  std::string out;
  PutU64(&out, UnixMillis(r.last_notice));
  for (const Event& e : r.events) {
    PutU64(&out, UnixMillis(e.time));
    PutU32(&out, static_cast<uint32_t>(e.protocol));
    PutU32(&out, static_cast<uint32_t>(e.other.size()));
    out += e.other;
  }
  return out;
}

bool LoginThrottle::DecodeRecord(std::string_view v, Record* r) const {
  uint64_t notice = 0;
  if (!GetU64(&v, &notice)) return false;
  r->last_notice = notice == 0 ? TimePoint{} : FromUnixMillis(notice);
  while (!v.empty()) {
    uint64_t t = 0;
    uint32_t protocol = 0, len = 0;
    if (!GetU64(&v, &t) || !GetU32(&v, &protocol) || !GetU32(&v, &len) || v.size() < len) {
      return false;
    }
    if (!mail::v1::Protocol_IsValid(static_cast<int>(protocol))) return false;
    r->events.push_back(Event{FromUnixMillis(t), std::string(v.substr(0, len)),
                              static_cast<mail::v1::Protocol>(protocol)});
    v.remove_prefix(len);
  }
  if (r->events.size() > options_.max_events) {
    r->events.erase(r->events.begin(),
                    r->events.begin() + static_cast<long>(r->events.size() - options_.max_events));
  }
  return true;
}

void LoginThrottle::TrackChanges() {
  std::lock_guard<std::mutex> lock(mu_);
  tracking_ = true;
  addresses_.dirty = &dirty_addresses_;
  mailboxes_.dirty = &dirty_mailboxes_;
}

bool LoginThrottle::HasChanges() {
  std::lock_guard<std::mutex> lock(mu_);
  return !dirty_addresses_.empty() || !dirty_mailboxes_.empty() || !dirty_trusted_.empty();
}

std::vector<ThrottleChange> LoginThrottle::TakeChanges() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ThrottleChange> out;
  for (const std::string& key : dirty_addresses_) {
    Record* r = addresses_.Find(key);
    ThrottleChange c{"a:" + key, std::nullopt};
    if (r != nullptr && !r->events.empty()) c.value = EncodeRecord(*r);
    out.push_back(std::move(c));
  }
  for (const std::string& key : dirty_mailboxes_) {
    Record* r = mailboxes_.Find(key);
    ThrottleChange c{"m:" + key, std::nullopt};
    if (r != nullptr && (!r->events.empty() || r->last_notice != TimePoint{})) {
      c.value = EncodeRecord(*r);
    }
    out.push_back(std::move(c));
  }
  for (const std::string& key : dirty_trusted_) {
    auto it = trusted_.find(key);
    ThrottleChange c{"t:" + key, std::nullopt};
    if (it != trusted_.end()) {
      c.value.emplace();
      PutU64(&*c.value, UnixMillis(it->second.first));
    }
    out.push_back(std::move(c));
  }
  dirty_addresses_.clear();
  dirty_mailboxes_.clear();
  dirty_trusted_.clear();
  return out;
}

bool LoginThrottle::Restore(std::string_view key, std::string_view value) {
  TimePoint now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  if (key.starts_with("t:")) {
    std::string k(key.substr(2));
    uint64_t t = 0;
    if (k.find('\n') == std::string::npos || !GetU64(&value, &t) || !value.empty()) return false;
    TimePoint when = FromUnixMillis(t);
    if (now - when >= options_.trust_period) return false;
    auto it = trusted_.find(k);
    if (it != trusted_.end()) {
      it->second.first = std::max(it->second.first, when);
      return true;
    }
    trusted_order_.push_front(k);
    trusted_.emplace(k, std::make_pair(when, trusted_order_.begin()));
    while (trusted_.size() > options_.max_trusted && trusted_order_.size() > 1) {
      trusted_.erase(trusted_order_.back());
      trusted_order_.pop_back();
    }
    return true;
  }
  bool address = key.starts_with("a:");
  if (!address && !key.starts_with("m:")) return false;
  Record decoded;
  if (!DecodeRecord(value, &decoded)) return false;
  Prune(&decoded, now);
  bool notice_matters = !address && decoded.last_notice != TimePoint{} &&
                        now - decoded.last_notice < options_.notice_interval;
  if (decoded.events.empty() && !notice_matters) return false;
  Table& table = address ? addresses_ : mailboxes_;
  Record& r = table.Touch(std::string(key.substr(2)),
                          address ? options_.max_addresses : options_.max_mailboxes);
  r.events = std::move(decoded.events);
  r.last_notice = decoded.last_notice;
  return true;
}

size_t LoginThrottle::address_entries() {
  std::lock_guard<std::mutex> lock(mu_);
  return addresses_.map.size();
}

size_t LoginThrottle::mailbox_entries() {
  std::lock_guard<std::mutex> lock(mu_);
  return mailboxes_.map.size();
}

size_t LoginThrottle::trusted_entries() {
  std::lock_guard<std::mutex> lock(mu_);
  return trusted_.size();
}

// ---- The owner's notice -------------------------------------------------------------------

std::string BlockNoticeMessage(const BlockNotice& notice, const std::string& to_address,
                               const LoginThrottleOptions& options, TimePoint now) {
  std::string domain = "localhost";
  if (size_t at = to_address.rfind('@'); at != std::string::npos && at + 1 < to_address.size()) {
    domain = to_address.substr(at + 1);
  }
  std::string to = HeaderSafe(to_address.empty() ? notice.mailbox : to_address);
  domain = HeaderSafe(domain);
  std::vector<std::string> protocols;
  for (mail::v1::Protocol p : notice.protocols) protocols.push_back(ProtocolName(p));
  const int64_t window_minutes = options.window.count() / 60;
  const int64_t max_minutes = std::max<int64_t>(1, options.max_delay.count() / 60);

  std::string m;
  m += "From: Postmaster <postmaster@" + domain + ">\r\n";
  m += "To: <" + to + ">\r\n";
  m += "Subject: Blocked sign-in attempts to your mailbox\r\n";
  m += "Date: " + Rfc5322Date(now) + "\r\n";
  m += "Message-ID: <signin-blocked." + std::to_string(UnixSeconds(now)) + "." +
       HeaderSafe(notice.mailbox) + "@" + domain + ">\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "\r\n";
  const std::string first = ReadableTime(notice.first), last = ReadableTime(notice.last);
  m += "Someone tried to sign in to your mailbox (" + to + ") with a wrong password " +
       std::to_string(notice.attempts) + (notice.attempts == 1 ? " time" : " times") + " within " +
       std::to_string(window_minutes) + " minutes, " +
       (first == last ? "at " + last : "from " + first + " to " + last) + ".\r\n";
  m += "\r\n";
  m += "Protocol" + std::string(protocols.size() == 1 ? ": " : "s: ") + JoinWords(protocols) +
       "\r\n";
  m += "From " + std::string(notice.addresses.size() == 1 ? "this address" : "these addresses") +
       ":\r\n";
  for (size_t i = 0; i < notice.addresses.size() && i < kMaxNoticeAddresses; ++i) {
    m += "  " + HeaderSafe(notice.addresses[i]) + "\r\n";
  }
  if (notice.addresses.size() > kMaxNoticeAddresses) {
    m += "  and " + std::to_string(notice.addresses.size() - kMaxNoticeAddresses) + " more\r\n";
  }
  m += "\r\n";
  m += "To protect your mailbox, sign-ins from places you have not signed in from before are "
       "refused for a while (until " +
       ReadableTime(notice.blocked_until + std::chrono::milliseconds(999)) + ", and at most " +
       std::to_string(max_minutes) +
       " minutes after the last failed attempt). This lifts by itself.\r\n";
  m += "\r\n";
  m += "What to do:\r\n";
  m += "- If it was not you: nothing. You stay able to sign in from the devices and places "
       "you signed in from before.\r\n";
  m += "- If it was you (for example a device with an old password): enter the right password "
       "on that device, and it will work again once the pause has passed.\r\n";
  m += "- If in doubt, change your password.\r\n";
  m += "\r\n";
  m += "This message was sent automatically by the mail server; there is no need to reply.\r\n";
  return m;
}

}  // namespace mailboxstore
