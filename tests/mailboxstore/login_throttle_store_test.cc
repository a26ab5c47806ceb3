// The brute-force protection as the frontends and adminctl see it, over real gRPC: the Access
// calls (AuthenticatePlain, GetScramVerifier, ReportLoginFailure, CompleteLogin), the owner's
// notice in the Inbox, and the admin calls with their audit entries. A fake clock drives it.
#include <atomic>
#include <chrono>

#include "control.grpc.pb.h"
#include "store_fixture.h"

namespace mailboxstore::testing {
namespace {

using mail::v1::AuthResult;

class LoginThrottleStoreTest : public StoreFixture {
 protected:
  void Customize(StoreServerOptions* o) override {
    o->store.login_throttle_clock = [this] {
      return std::chrono::system_clock::time_point(std::chrono::seconds(now_.load()));
    };
  }
  void Advance(int64_t seconds) { now_ += seconds; }

  mail::v1::AuthenticateResponse Login(const std::string& user, const std::string& password,
                                       const std::string& address,
                                       mail::v1::Protocol protocol = mail::v1::PROTOCOL_IMAP4) {
    grpc::ClientContext ctx;
    mail::v1::AuthenticatePlainRequest req;
    req.set_user(user);
    req.set_password(password);
    req.set_protocol(protocol);
    req.set_client_address(address);
    mail::v1::AuthenticateResponse resp;
    grpc::Status s = access_->AuthenticatePlain(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  mail::v1::GetScramVerifierResponse Verifier(const std::string& user, const std::string& address) {
    grpc::ClientContext ctx;
    mail::v1::GetScramVerifierRequest req;
    req.set_user(user);
    req.set_mechanism("SCRAM-SHA-256");
    req.set_protocol(mail::v1::PROTOCOL_SMTP);
    req.set_client_address(address);
    mail::v1::GetScramVerifierResponse resp;
    grpc::Status s = access_->GetScramVerifier(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  void ReportFailure(const std::string& user, const std::string& address) {
    grpc::ClientContext ctx;
    mail::v1::ReportLoginFailureRequest req;
    req.set_user(user);
    req.set_protocol(mail::v1::PROTOCOL_SMTP);
    req.set_client_address(address);
    mail::v1::ReportLoginFailureResponse resp;
    grpc::Status s = access_->ReportLoginFailure(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  AuthResult Complete(const std::string& user, const std::string& address) {
    grpc::ClientContext ctx;
    mail::v1::CompleteLoginRequest req;
    req.set_user(user);
    req.set_protocol(mail::v1::PROTOCOL_POP3);
    req.set_client_address(address);
    mail::v1::AuthenticateResponse resp;
    grpc::Status s = access_->CompleteLogin(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.result();
  }

  // 2026-11-26 10:00:00 UTC.
  std::atomic<int64_t> now_{1795687200};
};

TEST_F(LoginThrottleStoreTest, AddressIsRefusedBeforeThePasswordIsChecked) {
  NewMailbox("alice", "Right-Password");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Login("alice", "wrong", "192.0.2.1").result(), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  }
  // The fifth failure is an unknown user: counted all the same.
  EXPECT_EQ(Login("nobody", "wrong", "192.0.2.1").result(), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  struct Case {
    const char* user;
    const char* password;
    const char* address;
    AuthResult result;
  };
  const Case cases[] = {
      // Right password, wrong password and unknown user get the same answer.
      {"alice", "Right-Password", "192.0.2.1", mail::v1::AUTH_RESULT_THROTTLED},
      {"alice", "wrong", "192.0.2.1", mail::v1::AUTH_RESULT_THROTTLED},
      {"ghost", "wrong", "192.0.2.1", mail::v1::AUTH_RESULT_THROTTLED},
      {"alice", "Right-Password", "::ffff:192.0.2.1", mail::v1::AUTH_RESULT_THROTTLED},
      {"alice", "Right-Password", "192.0.2.2", mail::v1::AUTH_RESULT_OK},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.user) + " " + c.password + " " + c.address);
    mail::v1::AuthenticateResponse r = Login(c.user, c.password, c.address);
    EXPECT_EQ(r.result(), c.result);
    if (c.result == mail::v1::AUTH_RESULT_THROTTLED) {
      EXPECT_EQ(r.retry_after_seconds(), 60u);
      EXPECT_FALSE(r.has_mailbox());
    }
  }
  // The SCRAM path is refused before the exchange, without a verifier.
  mail::v1::GetScramVerifierResponse v = Verifier("alice", "192.0.2.1");
  EXPECT_TRUE(v.throttled());
  EXPECT_EQ(v.retry_after_seconds(), 60u);
  EXPECT_FALSE(v.has_verifier());
  EXPECT_FALSE(Verifier("alice", "192.0.2.2").throttled());
  EXPECT_TRUE(Verifier("alice", "192.0.2.2").has_verifier());

  Advance(30);
  EXPECT_EQ(Login("alice", "Right-Password", "192.0.2.1").retry_after_seconds(), 30u);
  Advance(30);
  EXPECT_EQ(Login("alice", "Right-Password", "192.0.2.1").result(), mail::v1::AUTH_RESULT_OK);
}

TEST_F(LoginThrottleStoreTest, FailedScramProofsCountAsFailures) {
  NewMailbox("alice", "Right-Password");
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(Verifier("alice", "198.51.100.9").throttled()) << i;
    ReportFailure("alice@example.test", "198.51.100.9");
  }
  EXPECT_TRUE(Verifier("alice", "198.51.100.9").throttled());
  EXPECT_EQ(Login("alice", "Right-Password", "198.51.100.9", mail::v1::PROTOCOL_SMTP).result(),
            mail::v1::AUTH_RESULT_THROTTLED);
}

TEST_F(LoginThrottleStoreTest, MailboxRuleSparesTrustedAddressesAndTellsTheOwnerOnce) {
  mail::v1::Mailbox alice = NewMailbox("alice", "Right-Password");
  // The owner logs in from home (PLAIN) and from the phone (SCRAM, so CompleteLogin).
  EXPECT_EQ(Login("alice", "Right-Password", "198.51.100.7").result(), mail::v1::AUTH_RESULT_OK);
  EXPECT_EQ(Complete("alice", "198.51.100.8"), mail::v1::AUTH_RESULT_OK);
  EXPECT_EQ(Folder(alice.id(), "INBOX").messages(), 0u);

  // Ten failures from four addresses: none reaches the address rule.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Login("ALICE@example.test", "guess" + std::to_string(i),
                    "203.0.113." + std::to_string(i % 4), mail::v1::PROTOCOL_POP3)
                  .result(),
              mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  }
  struct Case {
    const char* address;
    AuthResult result;
  };
  const Case cases[] = {
      {"198.51.100.7", mail::v1::AUTH_RESULT_OK},        // Trusted by a PLAIN login.
      {"198.51.100.8", mail::v1::AUTH_RESULT_OK},        // Trusted by a SCRAM login.
      {"192.0.2.50", mail::v1::AUTH_RESULT_THROTTLED},   // A new place.
      {"203.0.113.1", mail::v1::AUTH_RESULT_THROTTLED},  // An attacker with the password.
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Login("alice", "Right-Password", c.address).result(), c.result) << c.address;
  }
  // Exactly one notice, from postmaster, naming the attempts.
  std::vector<mail::v1::MessageRecord> inbox = FetchAll(alice.id(), "INBOX");
  ASSERT_EQ(inbox.size(), 1u);
  std::string notice = GetBody(alice.id(), "INBOX", inbox[0].uid());
  for (const char* text : {"From: Postmaster <postmaster@example.test>", "To: <alice@example.test>",
                           "Subject: Blocked sign-in attempts to your mailbox", "10 times",
                           "Protocol: POP3", "203.0.113.0", "203.0.113.3"}) {
    EXPECT_NE(notice.find(text), std::string::npos) << text << "\n" << notice;
  }
  // More failures after the block lifts bring no second notice within the hour.
  Advance(61);
  for (int i = 0; i < 10; ++i) {
    (void)Login("alice", "again" + std::to_string(i), "203.0.114." + std::to_string(i));
  }
  EXPECT_EQ(Login("alice", "Right-Password", "192.0.2.51").result(),
            mail::v1::AUTH_RESULT_THROTTLED);
  EXPECT_EQ(FetchAll(alice.id(), "INBOX").size(), 1u);
}

TEST_F(LoginThrottleStoreTest, BlocksTrustAndNoticesSurviveARestart) {
  mail::v1::Mailbox alice = NewMailbox("alice", "Right-Password");
  EXPECT_EQ(Login("alice", "Right-Password", "198.51.100.7").result(), mail::v1::AUTH_RESULT_OK);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Login("alice", "wrong", "192.0.2.1").result(), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  }
  // Ten failures from other places start the mailbox rule (and the owner's one notice).
  for (int i = 0; i < 10; ++i) {
    (void)Login("alice", "guess", "203.0.113." + std::to_string(i));
  }
  ASSERT_EQ(FetchAll(alice.id(), "INBOX").size(), 1u);
  Advance(10);
  Restart();
  // The address block, with the time it had left; the mailbox rule; the owner still trusted.
  mail::v1::AuthenticateResponse blocked = Login("alice", "Right-Password", "192.0.2.1");
  EXPECT_EQ(blocked.result(), mail::v1::AUTH_RESULT_THROTTLED);
  EXPECT_EQ(blocked.retry_after_seconds(), 50u);
  EXPECT_EQ(Login("alice", "Right-Password", "192.0.2.77").result(),
            mail::v1::AUTH_RESULT_THROTTLED);
  EXPECT_EQ(Login("alice", "Right-Password", "198.51.100.7").result(), mail::v1::AUTH_RESULT_OK);
  {
    grpc::ClientContext ctx;
    mail::v1::GetBlockedClientsResponse resp;
    ASSERT_TRUE(
        directory_->GetBlockedClients(&ctx, mail::v1::GetBlockedClientsRequest(), &resp).ok());
    EXPECT_EQ(resp.blocked_size(), 2);
  }
  // Lifts by itself as before; more failures within the hour bring no second notice.
  Advance(60);
  EXPECT_EQ(Login("alice", "Right-Password", "192.0.2.1").result(), mail::v1::AUTH_RESULT_OK);
  for (int i = 0; i < 10; ++i) {
    (void)Login("alice", "again", "203.0.114." + std::to_string(i));
  }
  Restart();
  EXPECT_EQ(FetchAll(alice.id(), "INBOX").size(), 1u);
  // A cleared block stays cleared after a restart.
  {
    grpc::ClientContext ctx;
    mail::v1::ClearBlockedClientsRequest req;
    req.set_all(true);
    mail::v1::ClearBlockedClientsResponse resp;
    ASSERT_TRUE(directory_->ClearBlockedClients(&ctx, req, &resp).ok());
  }
  Restart();
  EXPECT_EQ(Login("alice", "Right-Password", "192.0.2.78").result(), mail::v1::AUTH_RESULT_OK);
  // Everything expires: a month later the owner's address is a stranger again, and what the
  // store kept about it was dropped at the start.
  Advance(31 * 24 * 3600);
  Restart();
  grpc::ClientContext ctx;
  mail::v1::GetLogonFailuresResponse failures;
  ASSERT_TRUE(
      directory_->GetLogonFailures(&ctx, mail::v1::GetLogonFailuresRequest(), &failures).ok());
  EXPECT_EQ(failures.failures_size(), 0);
}

TEST_F(LoginThrottleStoreTest, AdminCallsShowAndClearAndAreAudited) {
  NewMailbox("alice", "Right-Password");
  for (int i = 0; i < 5; ++i) (void)Login("alice", "wrong", "192.0.2.1");
  for (int i = 0; i < 2; ++i) (void)Login("bob", "wrong", "192.0.2.2", mail::v1::PROTOCOL_SMTP);

  {
    grpc::ClientContext ctx;
    mail::v1::GetLogonFailuresRequest req;
    req.set_identity("alice@example.test");  // Resolved to the mailbox name.
    mail::v1::GetLogonFailuresResponse resp;
    ASSERT_TRUE(directory_->GetLogonFailures(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.failures_size(), 1);
    EXPECT_EQ(resp.failures(0).client_address(), "192.0.2.1");
    EXPECT_EQ(resp.failures(0).user(), "alice");
    EXPECT_EQ(resp.failures(0).protocol(), mail::v1::PROTOCOL_IMAP4);
    EXPECT_EQ(resp.failures(0).count(), 5u);
    EXPECT_EQ(resp.window_seconds(), 900u);
  }
  {
    grpc::ClientContext ctx;
    mail::v1::GetLogonFailuresRequest req;
    req.set_identity("bob");  // No such mailbox: the name as typed.
    mail::v1::GetLogonFailuresResponse resp;
    ASSERT_TRUE(directory_->GetLogonFailures(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.failures_size(), 1);
    EXPECT_EQ(resp.failures(0).protocol(), mail::v1::PROTOCOL_SMTP);
  }
  {
    grpc::ClientContext ctx;
    mail::v1::GetBlockedClientsResponse resp;
    ASSERT_TRUE(
        directory_->GetBlockedClients(&ctx, mail::v1::GetBlockedClientsRequest(), &resp).ok());
    ASSERT_EQ(resp.blocked_size(), 1);
    EXPECT_EQ(resp.blocked(0).rule(), mail::v1::BLOCK_RULE_CLIENT_ADDRESS);
    EXPECT_EQ(resp.blocked(0).client_address(), "192.0.2.1");
    EXPECT_EQ(resp.blocked(0).failures(), 5u);
    EXPECT_EQ(resp.blocked(0).retry_after_seconds(), 60u);
    EXPECT_EQ(resp.blocked(0).blocked_until_unix(), now_.load() + 60);
  }
  {
    grpc::ClientContext ctx;
    mail::v1::ClearBlockedClientsResponse resp;
    grpc::Status s =
        directory_->ClearBlockedClients(&ctx, mail::v1::ClearBlockedClientsRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-audit-cmdlet", "Clear-BlockedClient");
    mail::v1::ClearBlockedClientsRequest req;
    req.set_client_address("192.0.2.1");
    mail::v1::ClearBlockedClientsResponse resp;
    ASSERT_TRUE(directory_->ClearBlockedClients(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.failures_cleared(), 5u);
    ASSERT_EQ(resp.lifted_size(), 1);
    EXPECT_EQ(resp.lifted(0).client_address(), "192.0.2.1");
  }
  EXPECT_EQ(Login("alice", "Right-Password", "192.0.2.1").result(), mail::v1::AUTH_RESULT_OK);

  auto control = mail::v1::Control::NewStub(admin_channel_);
  grpc::ClientContext ctx;
  mail::v1::GetAdminAuditLogRequest req;
  req.set_cmdlet("Clear-BlockedClient");
  mail::v1::GetAdminAuditLogResponse resp;
  ASSERT_TRUE(control->GetAdminAuditLog(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.entries_size(), 1);
  EXPECT_EQ(resp.entries(0).object(), "client address 192.0.2.1");
  EXPECT_NE(resp.entries(0).old_value().find("192.0.2.1 (client address rule, 5 failures"),
            std::string::npos)
      << resp.entries(0).old_value();
  EXPECT_EQ(resp.entries(0).new_value(), "5 failed logins forgotten; 1 block lifted");
  EXPECT_TRUE(resp.entries(0).succeeded());
}

TEST_F(LoginThrottleStoreTest, FrontendEndpointHasNoThrottleAdminCalls) {
  auto directory = mail::v1::Directory::NewStub(frontend_channel_);
  grpc::ClientContext ctx;
  mail::v1::ClearBlockedClientsRequest req;
  req.set_all(true);
  mail::v1::ClearBlockedClientsResponse resp;
  EXPECT_EQ(directory->ClearBlockedClients(&ctx, req, &resp).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST(LoginThrottleConfigTest, ExemptNetworksFromTheConfig) {
  mail::v1::StoreServerConfig cfg;
  cfg.add_login_throttle_exempt("10.0.0.0/8");
  cfg.add_login_throttle_exempt("2001:db8::/32");
  auto o = OptionsFromConfig(cfg);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->store.login_throttle.exempt_networks.size(), 2u);
  cfg.add_login_throttle_exempt("10.0.0.0/40");
  auto bad = OptionsFromConfig(cfg);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("10.0.0.0/40"), std::string::npos);
  // The default exempts nothing, loopback included.
  auto none = OptionsFromConfig(mail::v1::StoreServerConfig());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->store.login_throttle.exempt_networks.empty());
}

}  // namespace
}  // namespace mailboxstore::testing
