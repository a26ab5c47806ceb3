// LoginThrottle with a fake clock: thresholds, doubling, the cap, lifting, trust, the memory
// bound, exempt networks, clearing, and the owner's notice.
#include "mailboxstore/core/login_throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace mailboxstore {
namespace {

using std::chrono::seconds;
using TimePoint = std::chrono::system_clock::time_point;

constexpr auto kPop3 = mail::v1::PROTOCOL_POP3;
constexpr auto kImap = mail::v1::PROTOCOL_IMAP4;
constexpr auto kSmtp = mail::v1::PROTOCOL_SMTP;

// 2026-11-26 10:00:00 UTC.
const TimePoint kStart = TimePoint(seconds(1795687200));

class FakeClock {
 public:
  TimePoint now = kStart;
  void Advance(std::chrono::system_clock::duration d) { now += d; }
  LoginThrottle::Clock Fn() {
    return [this] { return now; };
  }
};

class LoginThrottleTest : public ::testing::Test {
 protected:
  LoginThrottle& Make(LoginThrottleOptions o = {}) {
    throttle_ = std::make_unique<LoginThrottle>(std::move(o), clock_.Fn());
    return *throttle_;
  }
  FakeClock clock_;
  std::unique_ptr<LoginThrottle> throttle_;
};

// ---- The address rule ---------------------------------------------------------------------

TEST_F(LoginThrottleTest, AddressThresholdDoublingAndCap) {
  // Failures in quick succession from one address, each for another user (so that the
  // mailbox rule never applies): what Check says right after the n-th.
  struct Case {
    int failures;
    bool refused;
    uint32_t retry_after;
  };
  const Case cases[] = {
      {1, false, 0},  {4, false, 0},  {5, true, 60},   {6, true, 120},  {7, true, 240},
      {8, true, 480}, {9, true, 900}, {10, true, 900}, {16, true, 900}, {40, true, 900},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("failures=" + std::to_string(c.failures));
    LoginThrottle& t = Make();
    for (int i = 0; i < c.failures; ++i) {
      FailureOutcome out = t.RecordFailure("192.0.2.1", "user" + std::to_string(i), kPop3);
      EXPECT_TRUE(out.counted);
      EXPECT_EQ(out.address.refused(), i + 1 >= 5);
    }
    ThrottleDecision d = t.Check("192.0.2.1", "someone");
    EXPECT_EQ(d.refused(), c.refused);
    EXPECT_EQ(d.retry_after_seconds, c.retry_after);
    if (c.refused) {
      EXPECT_EQ(d.rule, ThrottleRule::kClientAddress);
      EXPECT_EQ(d.until, clock_.now + seconds(c.retry_after));
    }
    // Another address is not affected.
    EXPECT_FALSE(t.Check("192.0.2.2", "someone").refused());
  }
}

TEST_F(LoginThrottleTest, BlocksLiftBySelfAndFurtherFailuresDouble) {
  LoginThrottle& t = Make();
  for (int i = 0; i < 5; ++i) (void)t.RecordFailure("192.0.2.1", "alice", kImap);
  struct Step {
    int advance_seconds;  // Before the check.
    bool fail_after;      // Then a failure is recorded (the attacker retries and fails).
    bool refused;
    uint32_t retry_after;
  };
  const Step steps[] = {
      {0, false, true, 60},   {30, false, true, 30}, {29, false, true, 1},
      {1, true, true, 120},  // Lifted after 60 s; the 6th failure doubles the delay.
      {119, false, true, 1},  {1, true, true, 240},  // Lifted; the 7th: 240 s.
      {240, false, false, 0},
  };
  int n = 0;
  for (const Step& s : steps) {
    SCOPED_TRACE("step " + std::to_string(n++));
    clock_.Advance(seconds(s.advance_seconds));
    if (s.fail_after) {
      ASSERT_FALSE(t.Check("192.0.2.1", "alice").refused());
      (void)t.RecordFailure("192.0.2.1", "alice", kImap);
    }
    ThrottleDecision d = t.Check("192.0.2.1", "alice");
    EXPECT_EQ(d.refused(), s.refused);
    EXPECT_EQ(d.retry_after_seconds, s.retry_after);
  }
}

TEST_F(LoginThrottleTest, OnlyFailuresWithinTheWindowCount) {
  LoginThrottle& t = Make();
  for (int i = 0; i < 4; ++i) (void)t.RecordFailure("192.0.2.1", "alice", kSmtp);
  clock_.Advance(seconds(15 * 60));  // The first four are now older than 15 minutes.
  FailureOutcome out = t.RecordFailure("192.0.2.1", "alice", kSmtp);
  EXPECT_FALSE(out.address.refused());
  EXPECT_FALSE(t.Check("192.0.2.1", "alice").refused());
  // Four more within the window make five.
  for (int i = 0; i < 3; ++i) (void)t.RecordFailure("192.0.2.1", "alice", kSmtp);
  EXPECT_FALSE(t.Check("192.0.2.1", "alice").refused());
  (void)t.RecordFailure("192.0.2.1", "alice", kSmtp);
  EXPECT_EQ(t.Check("192.0.2.1", "alice").retry_after_seconds, 60u);
}

TEST_F(LoginThrottleTest, SharedAcrossProtocolsAndAddressForms) {
  LoginThrottle& t = Make();
  (void)t.RecordFailure("192.0.2.1", "alice", kPop3);
  (void)t.RecordFailure("::ffff:192.0.2.1", "alice", kImap);
  (void)t.RecordFailure("192.0.2.1", "bob", kSmtp);
  (void)t.RecordFailure("2001:DB8::1", "alice", kPop3);
  (void)t.RecordFailure("192.0.2.1", "carol", kImap);
  (void)t.RecordFailure("192.0.2.1", "dave", kPop3);
  EXPECT_TRUE(t.Check("192.0.2.1", "erin").refused());
  EXPECT_TRUE(t.Check("::ffff:192.0.2.1", "").refused());
  EXPECT_FALSE(t.Check("2001:db8::1", "erin").refused());
}

TEST_F(LoginThrottleTest, SuccessForgetsThatMailboxsFailuresOnly) {
  LoginThrottle& t = Make();
  for (int i = 0; i < 3; ++i) (void)t.RecordFailure("192.0.2.1", "alice", kImap);
  (void)t.RecordFailure("192.0.2.1", "bob", kImap);
  t.RecordSuccess("192.0.2.1", "Alice");  // Mailbox keys ignore case.
  // alice's three typos are forgotten; bob's failure still counts.
  for (int i = 0; i < 3; ++i) (void)t.RecordFailure("192.0.2.1", "carol", kImap);
  EXPECT_FALSE(t.Check("192.0.2.1", "alice").refused());
  (void)t.RecordFailure("192.0.2.1", "carol", kImap);
  EXPECT_TRUE(t.Check("192.0.2.1", "alice").refused());
}

// ---- The mailbox rule and trust -----------------------------------------------------------

TEST_F(LoginThrottleTest, MailboxRuleRefusesUntrustedAddressesOnly) {
  LoginThrottle& t = Make();
  clock_.Advance(seconds(-86400));
  t.RecordSuccess("198.51.100.7", "alice");  // The owner, yesterday.
  clock_.Advance(seconds(86400));
  // Ten failures from ten addresses (none reaches the address rule).
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE(i);
    FailureOutcome out = t.RecordFailure("203.0.113." + std::to_string(i), "alice", kImap);
    EXPECT_FALSE(out.address.refused());
    EXPECT_EQ(out.mailbox_block_started, i == 9);
    EXPECT_EQ(out.notice.has_value(), i == 9);
  }
  struct Case {
    const char* address;
    bool refused;
  };
  const Case cases[] = {
      {"203.0.113.0", true},    // A source of the attack.
      {"192.0.2.99", true},     // Any other untrusted address.
      {"", true},               // No address given: untrusted.
      {"198.51.100.7", false},  // The owner.
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.address);
    ThrottleDecision d = t.Check(c.address, "alice");
    EXPECT_EQ(d.refused(), c.refused);
    if (c.refused) {
      EXPECT_EQ(d.rule, ThrottleRule::kMailbox);
      EXPECT_EQ(d.retry_after_seconds, 60u);
    }
    EXPECT_FALSE(t.Check(c.address, "bob").refused());
  }
  // Failures of the trusted address do not count for the mailbox rule, and one more
  // untrusted failure doubles the block.
  (void)t.RecordFailure("198.51.100.7", "alice", kPop3);
  EXPECT_EQ(t.Check("192.0.2.99", "alice").retry_after_seconds, 60u);
  (void)t.RecordFailure("203.0.113.50", "alice", kPop3);
  EXPECT_EQ(t.Check("192.0.2.99", "alice").retry_after_seconds, 120u);
  EXPECT_FALSE(t.Check("198.51.100.7", "alice").refused());
  clock_.Advance(seconds(120));
  EXPECT_FALSE(t.Check("192.0.2.99", "alice").refused());
}

TEST_F(LoginThrottleTest, TrustLastsThirtyDays) {
  LoginThrottle& t = Make();
  t.RecordSuccess("198.51.100.7", "alice");
  struct Case {
    int days;
    bool trusted;
  };
  const Case cases[] = {{0, true}, {29, true}, {30, false}};
  for (const Case& c : cases) {
    clock_.now = kStart + seconds(c.days * 86400);
    EXPECT_EQ(t.IsTrusted("198.51.100.7", "alice"), c.trusted) << c.days;
  }
  clock_.now = kStart;
  t.RecordSuccess("198.51.100.7", "alice");
  EXPECT_TRUE(t.IsTrusted("198.51.100.7", "ALICE"));
  EXPECT_FALSE(t.IsTrusted("198.51.100.7", "bob"));
  EXPECT_FALSE(t.IsTrusted("198.51.100.8", "alice"));
}

TEST_F(LoginThrottleTest, NoticeAtMostOncePerHourWithTheDetails) {
  LoginThrottle& t = Make();
  auto attack = [&](int first_octet) {
    std::optional<BlockNotice> notice;
    int started = 0;
    for (int i = 0; i < 10; ++i) {
      FailureOutcome out =
          t.RecordFailure(std::to_string(first_octet) + ".0.0." + std::to_string(i % 3), "alice",
                          i % 2 == 0 ? kImap : kSmtp);
      started += out.mailbox_block_started ? 1 : 0;
      if (out.notice) notice = out.notice;
      clock_.Advance(seconds(1));
    }
    EXPECT_EQ(started, 1);
    return notice;
  };
  std::optional<BlockNotice> first = attack(10);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->mailbox, "alice");
  EXPECT_EQ(first->attempts, 10u);
  EXPECT_EQ(first->addresses, (std::vector<std::string>{"10.0.0.0", "10.0.0.2", "10.0.0.1"}));
  EXPECT_EQ(first->protocols, (std::vector<mail::v1::Protocol>{kImap, kSmtp}));
  EXPECT_EQ(first->first, kStart);
  EXPECT_EQ(first->last, kStart + seconds(9));
  EXPECT_EQ(first->blocked_until, kStart + seconds(9 + 60));

  // The block lifts and the attack comes back within the hour: no second notice.
  clock_.Advance(seconds(16 * 60));
  EXPECT_FALSE(attack(11).has_value());
  // After the hour, a new block brings a new notice.
  clock_.Advance(seconds(45 * 60));
  EXPECT_TRUE(attack(12).has_value());
  // Clearing keeps when the owner was last told.
  t.Clear("", "", /*all=*/true);
  EXPECT_FALSE(attack(13).has_value());
}

// ---- Exempt networks ----------------------------------------------------------------------

TEST_F(LoginThrottleTest, ParseIpNetwork) {
  struct Case {
    const char* text;
    bool ok;
    int prefix_bits;
  };
  const Case cases[] = {
      {"10.0.0.0/8", true, 104},
      {"192.0.2.7", true, 128},
      {"192.0.2.0/24", true, 120},
      {"0.0.0.0/0", true, 96},
      {"2001:db8::/32", true, 32},
      {"::1", true, 128},
      {"::/0", true, 0},
      {"10.0.0.0/33", false, 0},
      {"2001:db8::/129", false, 0},
      {"10.0.0.0/", false, 0},
      {"10.0.0/8", false, 0},
      {"example.test", false, 0},
      {"", false, 0},
      {"10.0.0.0/8x", false, 0},
      {"/8", false, 0},
  };
  for (const Case& c : cases) {
    IpNetwork n;
    EXPECT_EQ(ParseIpNetwork(c.text, &n), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(n.prefix_bits, c.prefix_bits) << c.text;
    }
  }
  EXPECT_TRUE(ValidateIpNetworks({"10.0.0.0/8", "::1"}).ok());
  common::Status bad = ValidateIpNetworks({"10.0.0.0/8", "nonsense"});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("nonsense"), std::string::npos);
}

TEST_F(LoginThrottleTest, ExemptNetworksAreNeitherCountedNorRefused) {
  LoginThrottleOptions o;
  o.exempt_networks = {"10.0.0.0/8", "2001:db8::/32", "192.0.2.7", "not a network"};
  LoginThrottle& t = Make(o);
  struct Case {
    const char* address;
    bool exempt;
  };
  const Case cases[] = {
      {"10.1.2.3", true},     {"::ffff:10.200.0.1", true}, {"2001:db8:1::5", true},
      {"192.0.2.7", true},    {"192.0.2.8", false},        {"11.0.0.1", false},
      {"2001:db9::1", false}, {"127.0.0.1", false},        {"::1", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.address);
    EXPECT_EQ(t.IsExempt(c.address), c.exempt);
    for (int i = 0; i < 12; ++i) {
      EXPECT_EQ(t.RecordFailure(c.address, std::string("user-") + c.address, kPop3).counted,
                !c.exempt);
    }
    EXPECT_EQ(t.Check(c.address, "anyone").refused(), !c.exempt);
  }
}

TEST_F(LoginThrottleTest, DefaultExemptsNothingNotEvenLoopback) {
  LoginThrottle& t = Make();
  for (int i = 0; i < 5; ++i) (void)t.RecordFailure("127.0.0.1", "alice", kPop3);
  EXPECT_TRUE(t.Check("127.0.0.1", "alice").refused());
}

// ---- Memory bound -------------------------------------------------------------------------

TEST_F(LoginThrottleTest, TablesAreCappedAndForgetTheOldestFirst) {
  LoginThrottleOptions o;
  o.max_addresses = 100;
  o.max_mailboxes = 50;
  o.max_trusted = 20;
  o.max_events = 8;
  LoginThrottle& t = Make(o);
  for (int i = 0; i < 1000; ++i) {
    std::string addr = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    for (int k = 0; k < 5; ++k) {
      (void)t.RecordFailure(addr, "user" + std::to_string(i), kImap);
    }
    t.RecordSuccess("192.0.2.1", "user" + std::to_string(i));
    EXPECT_LE(t.address_entries(), 100u);
    EXPECT_LE(t.mailbox_entries(), 50u);
    EXPECT_LE(t.trusted_entries(), 20u);
  }
  // The newest entries are kept, the oldest forgotten.
  EXPECT_TRUE(t.Check("10.0.3.249", "x").refused());
  EXPECT_FALSE(t.Check("10.0.0.0", "x").refused());
  EXPECT_TRUE(t.IsTrusted("192.0.2.1", "user999"));
  EXPECT_FALSE(t.IsTrusted("192.0.2.1", "user0"));
  // One address keeps at most max_events failures (enough for every rule).
  for (int i = 0; i < 100; ++i) (void)t.RecordFailure("10.9.9.9", "alice", kImap);
  std::vector<FailureSummary> rows = t.Failures("10.9.9.9", "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 10u);  // max_events is raised to the mailbox threshold (10).
}

// ---- Persistence --------------------------------------------------------------------------

// What the store keeps: TakeChanges() applied to a key-value map.
void Apply(LoginThrottle& t, std::map<std::string, std::string>* kv) {
  for (ThrottleChange& c : t.TakeChanges()) {
    if (c.value) {
      (*kv)[c.key] = *c.value;
    } else {
      kv->erase(c.key);
    }
  }
}

TEST_F(LoginThrottleTest, ChangesRestoreIntoANewInstance) {
  std::map<std::string, std::string> kv;
  LoginThrottle& t = Make();
  t.TrackChanges();
  t.RecordSuccess("198.51.100.7", "alice");
  for (int i = 0; i < 5; ++i) (void)t.RecordFailure("192.0.2.1", "bob", kImap);
  for (int i = 0; i < 10; ++i) (void)t.RecordFailure("203.0.113." + std::to_string(i), "alice", kPop3);
  Apply(t, &kv);
  EXPECT_FALSE(t.HasChanges());
  // A trusted address logging in again writes nothing; a first login from elsewhere does.
  t.RecordSuccess("198.51.100.7", "alice");
  EXPECT_FALSE(t.HasChanges());
  t.RecordSuccess("198.51.100.9", "carol");
  EXPECT_TRUE(t.HasChanges());
  Apply(t, &kv);
  EXPECT_EQ(kv.count("t:carol\n198.51.100.9"), 1u);

  clock_.Advance(seconds(20));
  LoginThrottle restored(LoginThrottleOptions{}, clock_.Fn());
  for (const auto& [key, value] : kv) EXPECT_TRUE(restored.Restore(key, value)) << key;
  ThrottleDecision d = restored.Check("192.0.2.1", "anyone");
  EXPECT_EQ(d.rule, ThrottleRule::kClientAddress);
  EXPECT_EQ(d.retry_after_seconds, 40u);
  EXPECT_EQ(restored.Check("192.0.2.50", "alice").rule, ThrottleRule::kMailbox);
  EXPECT_FALSE(restored.Check("198.51.100.7", "alice").refused());
  EXPECT_TRUE(restored.IsTrusted("198.51.100.9", "carol"));
  EXPECT_EQ(restored.Blocks().size(), 2u);
  EXPECT_EQ(restored.Failures("", "alice").size(), 10u);
  // The owner's notice was sent before the restart: none again within the hour.
  clock_.Advance(seconds(61));
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(restored.RecordFailure("203.0.114." + std::to_string(i), "alice", kImap).notice);
  }

  // Clearing is a change as well: deletions.
  t.Clear("", "", /*all=*/true);
  Apply(t, &kv);
  // The mailbox record stays for when its owner was last told.
  for (const auto& [key, value] : kv) EXPECT_TRUE(key.starts_with("t:") || key == "m:alice") << key;

  // Expired entries and unreadable values are refused, for the store to delete.
  clock_.Advance(seconds(31 * 24 * 3600));
  LoginThrottle later(LoginThrottleOptions{}, clock_.Fn());
  for (const auto& [key, value] : kv) EXPECT_FALSE(later.Restore(key, value)) << key;
  EXPECT_FALSE(later.Restore("a:192.0.2.1", "short"));
  EXPECT_FALSE(later.Restore("x:what", std::string(8, '\0')));
  EXPECT_FALSE(later.Restore("t:no-newline", std::string(8, '\0')));
}

TEST_F(LoginThrottleTest, EvictedEntriesBecomeDeletions) {
  std::map<std::string, std::string> kv;
  LoginThrottleOptions o;
  o.max_addresses = 3;
  LoginThrottle& t = Make(o);
  t.TrackChanges();
  for (int i = 0; i < 10; ++i) {
    (void)t.RecordFailure("10.0.0." + std::to_string(i), "", kSmtp);
    Apply(t, &kv);
  }
  size_t addresses = 0;
  for (const auto& [key, value] : kv) addresses += key.starts_with("a:") ? 1 : 0;
  EXPECT_EQ(addresses, 3u);
  EXPECT_EQ(kv.count("a:10.0.0.9"), 1u);
}

TEST_F(LoginThrottleTest, ConcurrentUseIsSafe) {
  LoginThrottle& t = Make();
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int n = 0; n < 8; ++n) {
    threads.emplace_back([&t, &refused, n] {
      for (int i = 0; i < 2000; ++i) {
        std::string addr = "10." + std::to_string(n) + "." + std::to_string(i % 50) + ".1";
        if (t.Check(addr, "alice").refused()) ++refused;
        (void)t.RecordFailure(addr, "user" + std::to_string(i % 7), kPop3);
        if (i % 100 == 0) t.RecordSuccess(addr, "alice");
        if (i % 500 == 0) (void)t.Blocks();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(refused.load(), 0);
  EXPECT_EQ(t.address_entries(), 400u);
}

// ---- Admin views --------------------------------------------------------------------------

TEST_F(LoginThrottleTest, FailuresAreGroupedAndFiltered) {
  LoginThrottle& t = Make();
  (void)t.RecordFailure("192.0.2.1", "alice", kPop3);
  clock_.Advance(seconds(10));
  (void)t.RecordFailure("192.0.2.1", "alice", kPop3);
  clock_.Advance(seconds(10));
  (void)t.RecordFailure("192.0.2.1", "alice", kImap);
  (void)t.RecordFailure("192.0.2.2", "Bob", kSmtp);
  (void)t.RecordFailure("", "carol", kSmtp);  // No address given.

  std::vector<FailureSummary> all = t.Failures("", "");
  ASSERT_EQ(all.size(), 4u);
  const FailureSummary& pop = all.back();  // Newest first: the POP3 row ended earliest.
  EXPECT_EQ(pop.client_address, "192.0.2.1");
  EXPECT_EQ(pop.user, "alice");
  EXPECT_EQ(pop.protocol, kPop3);
  EXPECT_EQ(pop.count, 2u);
  EXPECT_EQ(pop.first, kStart);
  EXPECT_EQ(pop.last, kStart + seconds(10));

  struct Filter {
    const char* address;
    const char* mailbox;
    size_t rows;
  };
  const Filter filters[] = {
      {"192.0.2.1", "", 2}, {"", "ALICE", 2},          {"", "bob", 1},
      {"", "carol", 1},     {"192.0.2.2", "alice", 0}, {"::ffff:192.0.2.2", "", 1},
      {"192.0.2.9", "", 0},
  };
  for (const Filter& f : filters) {
    EXPECT_EQ(t.Failures(f.address, f.mailbox).size(), f.rows) << f.address << " " << f.mailbox;
  }
  clock_.Advance(seconds(15 * 60));
  EXPECT_TRUE(t.Failures("", "").empty());
}

TEST_F(LoginThrottleTest, BlocksAndClear) {
  LoginThrottle& t = Make();
  t.RecordSuccess("198.51.100.7", "alice");
  for (int i = 0; i < 5; ++i) (void)t.RecordFailure("192.0.2.1", "bob", kPop3);
  for (int i = 0; i < 10; ++i) {
    (void)t.RecordFailure("203.0.113." + std::to_string(i % 4), "alice", kImap);
  }
  std::vector<Block> blocks = t.Blocks();
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].rule, ThrottleRule::kClientAddress);
  EXPECT_EQ(blocks[0].key, "192.0.2.1");
  EXPECT_EQ(blocks[0].failures, 5u);
  EXPECT_EQ(blocks[0].retry_after_seconds, 60u);
  EXPECT_EQ(blocks[1].rule, ThrottleRule::kMailbox);
  EXPECT_EQ(blocks[1].key, "alice");
  EXPECT_EQ(blocks[1].failures, 10u);
  EXPECT_EQ(blocks[1].addresses.size(), 4u);

  struct Step {
    const char* address;
    const char* mailbox;
    bool all;
    uint32_t cleared;
    size_t lifted;
    size_t blocks_after;
  };
  const Step steps[] = {
      {"192.0.2.99", "", false, 0, 0, 2},  // Nothing recorded for it.
      {"192.0.2.1", "", false, 5, 1, 1},
      {"", "alice", false, 10, 1, 0},
      {"", "", true, 0, 0, 0},
  };
  for (const Step& s : steps) {
    SCOPED_TRACE(std::string(s.address) + "/" + s.mailbox);
    ClearOutcome out = t.Clear(s.address, s.mailbox, s.all);
    EXPECT_EQ(out.failures_cleared, s.cleared);
    EXPECT_EQ(out.lifted.size(), s.lifted);
    EXPECT_EQ(t.Blocks().size(), s.blocks_after);
  }
  EXPECT_FALSE(t.Check("192.0.2.1", "bob").refused());
  EXPECT_FALSE(t.Check("203.0.113.1", "alice").refused());
  EXPECT_TRUE(t.IsTrusted("198.51.100.7", "alice"));  // Trust is kept.
}

TEST_F(LoginThrottleTest, ClearingAnAddressAlsoTakesItsFailuresOutOfMailboxCounts) {
  LoginThrottle& t = Make();
  for (int i = 0; i < 4; ++i) (void)t.RecordFailure("192.0.2.1", "alice", kPop3);
  for (int i = 0; i < 6; ++i) {
    (void)t.RecordFailure("203.0.113." + std::to_string(i), "alice", kPop3);
  }
  EXPECT_TRUE(t.Check("198.51.100.1", "alice").refused());
  ClearOutcome out = t.Clear("192.0.2.1", "", false);
  EXPECT_EQ(out.failures_cleared, 4u);
  ASSERT_EQ(out.lifted.size(), 1u);
  EXPECT_EQ(out.lifted[0].rule, ThrottleRule::kMailbox);
  EXPECT_FALSE(t.Check("198.51.100.1", "alice").refused());
}

// ---- The notice ---------------------------------------------------------------------------

TEST_F(LoginThrottleTest, NoticeMessageIsAPlainRfc5322Message) {
  BlockNotice n;
  n.mailbox = "alice";
  n.addresses = {"203.0.113.5", "2001:db8::7"};
  n.protocols = {kPop3, kImap};
  n.attempts = 12;
  n.first = kStart;
  n.last = kStart + seconds(300);
  n.blocked_until = n.last + seconds(120);
  std::string m =
      BlockNoticeMessage(n, "alice@example.test", LoginThrottleOptions(), kStart + seconds(301));
  size_t body = m.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  std::string headers = m.substr(0, body + 2);
  for (const char* h :
       {"From: Postmaster <postmaster@example.test>\r\n", "To: <alice@example.test>\r\n",
        "Subject: Blocked sign-in attempts to your mailbox\r\n",
        "Date: Thu, 26 Nov 2026 10:05:01 +0000\r\n", "MIME-Version: 1.0\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n", "Auto-Submitted: auto-generated\r\n"}) {
    EXPECT_NE(headers.find(h), std::string::npos) << h;
  }
  EXPECT_NE(headers.find("Message-ID: <"), std::string::npos);
  for (const char* text :
       {"12 times", "within 15 minutes", "26 Nov 2026 10:00:00 UTC", "26 Nov 2026 10:05:00 UTC",
        "Protocols: POP3 and IMAP4", "  203.0.113.5\r\n", "  2001:db8::7\r\n", "nothing",
        "signed in from before", "change your password"}) {
    EXPECT_NE(m.find(text), std::string::npos) << text;
  }
  // Every line ends in CRLF; no bare LF, nothing longer than 998 octets.
  size_t start = 0;
  while (start < m.size()) {
    size_t end = m.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_EQ(m.substr(start, end - start).find('\n'), std::string::npos);
    EXPECT_LE(end - start, 998u);
    start = end + 2;
  }
}

}  // namespace
}  // namespace mailboxstore
