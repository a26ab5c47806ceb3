// Directory and Access services over gRPC: what an administrator and a login see.
#include <sys/stat.h>

#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "common/scram.h"
#include "tests/mailboxstore/store_fixture.h"

namespace mailboxstore::testing {
namespace {

using mail::v1::AuthResult;

class DirectoryTest : public StoreFixture {
 protected:
  grpc::Status Create(const std::string& name, const std::string& addr,
                      const std::string& password, mail::v1::Mailbox* out = nullptr) {
    grpc::ClientContext ctx;
    mail::v1::CreateMailboxRequest req;
    req.set_name(name);
    req.set_primary_smtp_address(addr);
    req.set_password(password);
    mail::v1::GetMailboxResponse resp;
    grpc::Status s = directory_->CreateMailbox(&ctx, req, &resp);
    if (out != nullptr) *out = resp.mailbox();
    return s;
  }
  grpc::Status Get(const std::string& identity, mail::v1::Mailbox* out = nullptr) {
    grpc::ClientContext ctx;
    mail::v1::MailboxIdentity req;
    req.set_identity(identity);
    mail::v1::GetMailboxResponse resp;
    grpc::Status s = directory_->GetMailbox(&ctx, req, &resp);
    if (out != nullptr) *out = resp.mailbox();
    return s;
  }
  grpc::Status Update(const std::string& identity, const mail::v1::MailboxUpdate& u,
                      mail::v1::Mailbox* out = nullptr) {
    grpc::ClientContext ctx;
    mail::v1::UpdateMailboxRequest req;
    req.set_identity(identity);
    *req.mutable_update() = u;
    mail::v1::GetMailboxResponse resp;
    grpc::Status s = directory_->UpdateMailbox(&ctx, req, &resp);
    if (out != nullptr) *out = resp.mailbox();
    return s;
  }
  AuthResult Login(const std::string& user, const std::string& password,
                   mail::v1::Protocol protocol = mail::v1::PROTOCOL_IMAP4) {
    grpc::ClientContext ctx;
    mail::v1::AuthenticatePlainRequest req;
    req.set_user(user);
    req.set_password(password);
    req.set_protocol(protocol);
    mail::v1::AuthenticateResponse resp;
    grpc::Status s = access_->AuthenticatePlain(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.result();
  }
  mail::v1::ScramVerifier Verifier(const std::string& user) {
    grpc::ClientContext ctx;
    mail::v1::GetScramVerifierRequest req;
    req.set_user(user);
    req.set_mechanism("SCRAM-SHA-256");
    mail::v1::GetScramVerifierResponse resp;
    grpc::Status s = access_->GetScramVerifier(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.verifier();
  }
};

TEST_F(DirectoryTest, CreateAndFindByEveryIdentity) {
  mail::v1::Mailbox mb;
  ASSERT_TRUE(Create("alice", "Alice@Example.Test", "Secret-1", &mb).ok());
  EXPECT_EQ(mb.primary_smtp_address(), "alice@example.test");
  EXPECT_TRUE(mb.pop_enabled());
  EXPECT_TRUE(mb.imap_enabled());
  ASSERT_EQ(mb.pop_folders_size(), 1);
  EXPECT_EQ(mb.pop_folders(0), "Inbox");
  for (const std::string& id : {std::string("alice"), std::string("ALICE"),
                                std::string("alice@example.test"), mb.guid()}) {
    mail::v1::Mailbox got;
    ASSERT_TRUE(Get(id, &got).ok()) << id;
    EXPECT_EQ(got.id(), mb.id());
  }
  grpc::Status s = Get("nobody");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("'nobody' couldn't be found"), std::string::npos);
}

TEST_F(DirectoryTest, PasswordIsNeverStoredOrReturned) {
  mail::v1::Mailbox mb;
  ASSERT_TRUE(Create("alice", "alice@example.test", "Pencil-Secret-42", &mb).ok());
  EXPECT_EQ(mb.DebugString().find("Pencil-Secret-42"), std::string::npos);
  Stop();
  // Scan every file of the database for the password bytes.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ + "/db")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(data.find("Pencil-Secret-42"), std::string::npos) << entry.path();
  }
  Start();
}

TEST_F(DirectoryTest, DuplicatesAndBadValuesAreClearErrors) {
  ASSERT_TRUE(Create("alice", "alice@example.test", "Secret-1").ok());
  grpc::Status s = Create("alice", "other@example.test", "Secret-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find("'alice' already exists"), std::string::npos);
  s = Create("bob", "ALICE@example.test", "Secret-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find("alice@example.test"), std::string::npos);
  EXPECT_EQ(Create("bob", "not-an-address", "Secret-1").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("bo b", "bob@example.test", "Secret-1").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Create("bob", "bob@example.test", "").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // An alias already in use elsewhere is refused on update too.
  ASSERT_TRUE(Create("bob", "bob@example.test", "Secret-1").ok());
  mail::v1::MailboxUpdate u;
  u.add_add_email_addresses("alice@example.test");
  EXPECT_EQ(Update("bob", u).error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(DirectoryTest, SpecialUseFoldersComeWithEveryMailbox) {
  mail::v1::Mailbox mb = NewMailbox("alice");
  grpc::ClientContext ctx;
  mail::v1::ListFoldersRequest req;
  req.set_mailbox_id(mb.id());
  mail::v1::ListFoldersResponse resp;
  ASSERT_TRUE(store_->ListFolders(&ctx, req, &resp).ok());
  std::map<std::string, std::string> uses;
  for (const auto& f : resp.folders()) uses[f.name()] = f.special_use();
  EXPECT_EQ(uses.size(), 6u);
  EXPECT_EQ(uses["INBOX"], "");
  EXPECT_EQ(uses["Drafts"], "\\Drafts");
  EXPECT_EQ(uses["Sent"], "\\Sent");
  EXPECT_EQ(uses["Deleted Items"], "\\Trash");
  EXPECT_EQ(uses["Junk"], "\\Junk");
  EXPECT_EQ(uses["Archive"], "\\Archive");
}

TEST_F(DirectoryTest, UpdateAliasesAndClientAccessFlags) {
  NewMailbox("alice");
  mail::v1::MailboxUpdate u;
  u.add_add_email_addresses("al@example.test");
  u.set_pop_enabled(false);
  u.set_pop_retrieval_action(mail::v1::POP_RETRIEVAL_ACTION_DELETE);
  u.set_has_pop_folders(true);
  u.add_pop_folders("Inbox");
  u.add_pop_folders("Junk");
  u.set_display_name("Alice Liddell");
  mail::v1::Mailbox mb;
  ASSERT_TRUE(Update("alice", u, &mb).ok());
  EXPECT_FALSE(mb.pop_enabled());
  EXPECT_EQ(mb.pop_retrieval_action(), mail::v1::POP_RETRIEVAL_ACTION_DELETE);
  EXPECT_EQ(mb.pop_folders_size(), 2);
  EXPECT_EQ(mb.display_name(), "Alice Liddell");
  mail::v1::Mailbox by_alias;
  ASSERT_TRUE(Get("al@example.test", &by_alias).ok());
  EXPECT_EQ(by_alias.id(), mb.id());
  // Changing the primary address keeps the old one as an alias (as Exchange does).
  mail::v1::MailboxUpdate p;
  p.set_primary_smtp_address("alice.liddell@example.test");
  ASSERT_TRUE(Update("alice", p, &mb).ok());
  EXPECT_EQ(mb.primary_smtp_address(), "alice.liddell@example.test");
  ASSERT_TRUE(Get("alice@example.test").ok());
  // Bad quota order is refused.
  mail::v1::MailboxUpdate q;
  q.set_issue_warning_quota(2000);
  q.set_prohibit_send_quota(1000);
  EXPECT_EQ(Update("alice", q).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Update("ghost", q).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(DirectoryTest, PlainLoginResults) {
  NewMailbox("alice", "Right-Password");
  EXPECT_EQ(Login("alice", "Right-Password"), mail::v1::AUTH_RESULT_OK);
  EXPECT_EQ(Login("alice@example.test", "Right-Password"), mail::v1::AUTH_RESULT_OK);
  EXPECT_EQ(Login("alice", "wrong"), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(Login("nobody", "Right-Password"), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);

  mail::v1::MailboxUpdate u;
  u.set_imap_enabled(false);
  ASSERT_TRUE(Update("alice", u).ok());
  // Protocol-disabled is told only after the password checked out.
  EXPECT_EQ(Login("alice", "Right-Password"), mail::v1::AUTH_RESULT_PROTOCOL_DISABLED);
  EXPECT_EQ(Login("alice", "wrong"), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(Login("alice", "Right-Password", mail::v1::PROTOCOL_POP3), mail::v1::AUTH_RESULT_OK);

  mail::v1::MailboxUpdate smtp;
  smtp.set_smtp_client_authentication_disabled(mail::v1::TRISTATE_TRUE);
  ASSERT_TRUE(Update("alice", smtp).ok());
  EXPECT_EQ(Login("alice", "Right-Password", mail::v1::PROTOCOL_SMTP),
            mail::v1::AUTH_RESULT_PROTOCOL_DISABLED);
}

TEST_F(DirectoryTest, DisabledMailboxLogsInNowhereAndReceivesNothing) {
  NewMailbox("alice", "Right-Password");
  mail::v1::MailboxUpdate off;
  off.set_mailbox_disabled(true);
  mail::v1::Mailbox mb;
  ASSERT_TRUE(Update("alice", off, &mb).ok());
  EXPECT_TRUE(mb.mailbox_disabled());
  for (auto protocol : {mail::v1::PROTOCOL_IMAP4, mail::v1::PROTOCOL_POP3,
                        mail::v1::PROTOCOL_SMTP}) {
    EXPECT_EQ(Login("alice", "Right-Password", protocol), mail::v1::AUTH_RESULT_ACCOUNT_DISABLED);
  }
  EXPECT_EQ(Login("alice", "wrong"), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  {
    grpc::ClientContext ctx;
    mail::v1::ResolveAddressRequest req;
    req.set_address("alice@example.test");
    mail::v1::ResolveAddressResponse resp;
    ASSERT_TRUE(access_->ResolveAddress(&ctx, req, &resp).ok());
    EXPECT_FALSE(resp.found());  // RCPT TO: 550 5.1.1, as for an unknown user.
    EXPECT_TRUE(resp.domain_accepted());
  }
  // Enabled again: logins, delivery and the last logon time.
  mail::v1::MailboxUpdate on;
  on.set_mailbox_disabled(false);
  ASSERT_TRUE(Update("alice", on).ok());
  EXPECT_EQ(Login("alice", "Right-Password"), mail::v1::AUTH_RESULT_OK);
  ASSERT_TRUE(Get("alice", &mb).ok());
  EXPECT_FALSE(mb.mailbox_disabled());
  EXPECT_GT(mb.last_logon_unix(), 0);
  grpc::ClientContext ctx;
  mail::v1::ResolveAddressRequest req;
  req.set_address("alice@example.test");
  mail::v1::ResolveAddressResponse resp;
  ASSERT_TRUE(access_->ResolveAddress(&ctx, req, &resp).ok());
  EXPECT_TRUE(resp.found());
}

TEST_F(DirectoryTest, MailboxStatisticsInOneCall) {
  NewMailbox("alice", "Right-Password");
  grpc::ClientContext ctx;
  mail::v1::MailboxIdentity req;
  req.set_identity("alice@example.test");
  mail::v1::MailboxStatisticsResponse resp;
  ASSERT_TRUE(directory_->GetMailboxStatistics(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.mailbox().name(), "alice");
  ASSERT_GT(resp.folders_size(), 1);
  EXPECT_EQ(resp.folders(0).name(), "INBOX");
  bool sent = false;
  for (const auto& f : resp.folders()) sent = sent || f.special_use() == "\\Sent";
  EXPECT_TRUE(sent);
  grpc::ClientContext ctx2;
  req.set_identity("nobody");
  EXPECT_EQ(directory_->GetMailboxStatistics(&ctx2, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(DirectoryTest, SetPasswordReplacesTheVerifier) {
  NewMailbox("alice", "Old-Password");
  grpc::ClientContext ctx;
  mail::v1::SetPasswordRequest req;
  req.set_identity("alice");
  req.set_password("New-Password");
  mail::v1::GetMailboxResponse resp;
  ASSERT_TRUE(directory_->SetPassword(&ctx, req, &resp).ok());
  EXPECT_EQ(Login("alice", "Old-Password"), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(Login("alice", "New-Password"), mail::v1::AUTH_RESULT_OK);
}

TEST_F(DirectoryTest, PasswordChangeEndsRememberedLogins) {
  // The first login is remembered by the verified-credentials cache; a password change must
  // still refuse the old password at once, and a wrong password is never remembered.
  NewMailbox("alice", "Old-Password");
  ASSERT_EQ(Login("alice", "Old-Password"), mail::v1::AUTH_RESULT_OK);
  ASSERT_EQ(Login("alice", "Old-Password"), mail::v1::AUTH_RESULT_OK);
  EXPECT_EQ(Login("alice", "Old-Passwordx"), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  grpc::ClientContext ctx;
  mail::v1::SetPasswordRequest req;
  req.set_identity("alice");
  req.set_password("New-Password");
  mail::v1::GetMailboxResponse resp;
  ASSERT_TRUE(directory_->SetPassword(&ctx, req, &resp).ok());
  EXPECT_EQ(Login("alice", "Old-Password"), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  EXPECT_EQ(Login("alice", "New-Password"), mail::v1::AUTH_RESULT_OK);
  EXPECT_EQ(Login("alice", "New-Password"), mail::v1::AUTH_RESULT_OK);
}

TEST_F(DirectoryTest, ScramExchangeWithTheStoredVerifier) {
  NewMailbox("alice", "pencil-case");
  auto run = [&](const std::string& user, const std::string& password) {
    mail::v1::ScramVerifier v = Verifier(user);
    common::ScramCredentials creds{v.iterations(), v.salt(), v.stored_key(), v.server_key()};
    common::ScramClient client(user, password);
    common::ScramServer server;
    auto first = client.ClientFirst();
    if (!first.ok()) return false;
    auto user_or = server.HandleClientFirst(*first);
    if (!user_or.ok()) return false;
    auto server_first = server.StartWithCredentials(creds);
    if (!server_first.ok()) return false;
    auto client_final = client.HandleServerFirst(*server_first);
    if (!client_final.ok()) return false;
    auto server_final = server.HandleClientFinal(*client_final);
    if (!server_final.ok()) return false;
    return client.VerifyServerFinal(*server_final).ok();
  };
  EXPECT_TRUE(run("alice", "pencil-case"));
  EXPECT_FALSE(run("alice", "wrong"));
  EXPECT_FALSE(run("ghost", "pencil-case"));
  // An unknown user's verifier looks real and stays the same, also across restarts.
  mail::v1::ScramVerifier a = Verifier("ghost");
  Restart();
  mail::v1::ScramVerifier b = Verifier("ghost");
  EXPECT_EQ(a.salt(), b.salt());
  EXPECT_EQ(a.iterations(), 4096u);
  EXPECT_EQ(a.salt().size(), Verifier("alice").salt().size());
}

TEST_F(DirectoryTest, RemoveMailboxFreesNameAndMail) {
  mail::v1::Mailbox mb = NewMailbox("alice", "Secret-1");
  AppendMessage(mb.id(), "INBOX", SimpleMessage("one"));
  grpc::ClientContext ctx;
  mail::v1::DeleteMailboxRequest req;
  req.set_identity("alice@example.test");
  mail::v1::DeleteMailboxResponse resp;
  ASSERT_TRUE(directory_->DeleteMailbox(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.mailbox().name(), "alice");
  EXPECT_EQ(Get("alice").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Login("alice", "Secret-1"), mail::v1::AUTH_RESULT_BAD_CREDENTIALS);
  auto bodies = server_->store()->CountStoredBodies();
  ASSERT_TRUE(bodies.ok());
  EXPECT_EQ(*bodies, 0u);
  // The name and address can be used again; the new mailbox starts empty.
  mail::v1::Mailbox again = NewMailbox("alice");
  EXPECT_NE(again.id(), mb.id());
  EXPECT_EQ(Folder(again.id(), "INBOX").messages(), 0u);
  grpc::ClientContext ctx2;
  EXPECT_EQ(directory_->DeleteMailbox(&ctx2, req, &resp).error_code(), grpc::StatusCode::OK);
  grpc::ClientContext ctx3;
  EXPECT_EQ(directory_->DeleteMailbox(&ctx3, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(DirectoryTest, ListMailboxesInNameOrderWithPaging) {
  for (const char* n : {"carol", "alice", "bob"}) NewMailbox(n);
  grpc::ClientContext ctx;
  mail::v1::ListMailboxesRequest req;
  mail::v1::ListMailboxesResponse resp;
  ASSERT_TRUE(directory_->ListMailboxes(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.mailboxes_size(), 3);
  EXPECT_EQ(resp.mailboxes(0).name(), "alice");
  EXPECT_EQ(resp.mailboxes(2).name(), "carol");
  grpc::ClientContext ctx2;
  req.set_result_size(1);
  req.set_after_name("alice");
  ASSERT_TRUE(directory_->ListMailboxes(&ctx2, req, &resp).ok());
  ASSERT_EQ(resp.mailboxes_size(), 1);
  EXPECT_EQ(resp.mailboxes(0).name(), "bob");
}

TEST_F(DirectoryTest, DomainsOfNewMailboxesAreAccepted) {
  NewMailbox("alice");
  grpc::ClientContext ctx;
  mail::v1::ResolveAddressRequest req;
  req.set_address("ALICE@example.test");
  mail::v1::ResolveAddressResponse resp;
  ASSERT_TRUE(access_->ResolveAddress(&ctx, req, &resp).ok());
  EXPECT_TRUE(resp.found());
  EXPECT_TRUE(resp.domain_accepted());
  grpc::ClientContext ctx2;
  req.set_address("nobody@example.test");
  ASSERT_TRUE(access_->ResolveAddress(&ctx2, req, &resp).ok());
  EXPECT_FALSE(resp.found());
  EXPECT_TRUE(resp.domain_accepted());
  grpc::ClientContext ctx3;
  req.set_address("someone@elsewhere.test");
  ASSERT_TRUE(access_->ResolveAddress(&ctx3, req, &resp).ok());
  EXPECT_FALSE(resp.domain_accepted());
}

TEST_F(DirectoryTest, FrontendEndpointHasNoAdminServices) {
  auto stub = mail::v1::Directory::NewStub(frontend_channel_);
  grpc::ClientContext ctx;
  mail::v1::CreateMailboxRequest req;
  req.set_name("mallory");
  req.set_primary_smtp_address("mallory@example.test");
  req.set_password("Secret-1");
  mail::v1::GetMailboxResponse resp;
  EXPECT_EQ(stub->CreateMailbox(&ctx, req, &resp).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(Get("mallory").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(DirectoryTest, AdminSocketIsRootOnly) {
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/admin.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

class TokenAdminTest : public StoreFixture {
 protected:
  void Customize(StoreServerOptions* o) override {
    o->admin_listen = "127.0.0.1:0";
    o->admin_token = "0123456789abcdef-token";
  }
};

TEST_F(TokenAdminTest, TcpAdminNeedsTheToken) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->admin_tcp_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = mail::v1::Directory::NewStub(channel);
  mail::v1::ListMailboxesRequest req;
  mail::v1::ListMailboxesResponse resp;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub->ListMailboxes(&ctx, req, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer wrong-token-0123456789");
    EXPECT_EQ(stub->ListMailboxes(&ctx, req, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer 0123456789abcdef-token");
    EXPECT_TRUE(stub->ListMailboxes(&ctx, req, &resp).ok());
  }
}

}  // namespace
}  // namespace mailboxstore::testing
