// MessageStore over gRPC: folders, messages, flags, bodies, copies, changes, retention.
#include <algorithm>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/mailboxstore/store_fixture.h"

namespace mailboxstore::testing {
namespace {

class MessageStoreTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    mb_ = NewMailbox("alice").id();
  }
  grpc::Status CreateFolder(const std::string& name) {
    grpc::ClientContext ctx;
    mail::v1::CreateFolderRequest req;
    req.set_mailbox_id(mb_);
    req.set_name(name);
    mail::v1::FolderResponse resp;
    return store_->CreateFolder(&ctx, req, &resp);
  }
  std::vector<std::string> List(const std::string& reference, const std::string& pattern,
                                bool subscribed = false) {
    grpc::ClientContext ctx;
    mail::v1::ListFoldersRequest req;
    req.set_mailbox_id(mb_);
    req.set_reference(reference);
    req.set_pattern(pattern);
    req.set_subscribed_only(subscribed);
    mail::v1::ListFoldersResponse resp;
    EXPECT_TRUE(store_->ListFolders(&ctx, req, &resp).ok());
    std::vector<std::string> names;
    for (const auto& f : resp.folders()) names.push_back(f.name());
    return names;
  }
  mail::v1::StoreFlagsResponse Store(uint32_t first, uint32_t last, mail::v1::FlagMode mode,
                                     std::vector<std::string> flags,
                                     std::optional<uint64_t> unchanged_since = std::nullopt,
                                     const std::string& folder = "INBOX") {
    grpc::ClientContext ctx;
    mail::v1::StoreFlagsRequest req;
    req.set_mailbox_id(mb_);
    req.mutable_folder()->set_name(folder);
    auto* r = req.add_uids();
    r->set_first(first);
    r->set_last(last);
    req.set_mode(mode);
    for (auto& f : flags) req.add_flags(f);
    if (unchanged_since) {
      req.set_has_unchanged_since(true);
      req.set_unchanged_since(*unchanged_since);
    }
    mail::v1::StoreFlagsResponse resp;
    grpc::Status s = store_->StoreFlags(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  uint64_t mb_ = 0;
};

const char kMultipart[] =
    "From: Alice <alice@example.test>\r\n"
    "To: Bob <bob@example.test>\r\n"
    "Subject: Report\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XYZ\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Body text.\r\n"
    "--XYZ\r\n"
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAwQ=\r\n"
    "--XYZ--\r\n";

TEST_F(MessageStoreTest, AppendAssignsIncreasingUidsAndCounts) {
  auto a = AppendMessage(mb_, "INBOX", SimpleMessage("one"));
  auto b = AppendMessage(mb_, "INBOX", SimpleMessage("two"), {"\\Seen"});
  auto c = AppendMessage(mb_, "inbox", SimpleMessage("three"));
  EXPECT_EQ(a.uid(), 1u);
  EXPECT_EQ(b.uid(), 2u);
  EXPECT_EQ(c.uid(), 3u);
  EXPECT_LT(a.modseq(), b.modseq());
  EXPECT_EQ(a.uidvalidity(), c.uidvalidity());
  mail::v1::Folder f = Folder(mb_, "INBOX");
  EXPECT_EQ(f.messages(), 3u);
  EXPECT_EQ(f.unseen(), 2u);
  EXPECT_EQ(f.uidnext(), 4u);
  EXPECT_EQ(f.highest_modseq(), c.modseq());
  EXPECT_EQ(f.size(), SimpleMessage("one").size() + SimpleMessage("two").size() +
                          SimpleMessage("three").size());
}

TEST_F(MessageStoreTest, FetchReturnsRecordsAndParsedStructure) {
  AppendMessage(mb_, "INBOX", SimpleMessage("one"), {"\\Flagged", "$Work"});
  AppendMessage(mb_, "INBOX", kMultipart);
  auto recs = FetchAll(mb_, "INBOX", true);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].uid(), 1u);
  EXPECT_EQ(std::vector<std::string>(recs[0].flags().begin(), recs[0].flags().end()),
            (std::vector<std::string>{"$Work", "\\Flagged"}));
  EXPECT_EQ(recs[0].structure().envelope().subject(), "one");
  EXPECT_EQ(recs[1].size(), sizeof(kMultipart) - 1);
  EXPECT_EQ(recs[1].structure().body().type(), "multipart");
  EXPECT_EQ(recs[1].structure().body().children_size(), 2);
  EXPECT_EQ(recs[0].message_id() + 1, recs[1].message_id());
  EXPECT_EQ(recs[1].wire_size(), recs[1].size());  // Stored with CRLF: the same.
  AppendMessage(mb_, "INBOX", "Subject: lf\n\nline one\nline two\n");
  EXPECT_EQ(FetchAll(mb_, "INBOX").back().wire_size(), 35u);  // 31 octets + 4 bare LFs.
}

TEST_F(MessageStoreTest, BodySectionsAndPartialRanges) {
  auto a = AppendMessage(mb_, "INBOX", kMultipart);
  std::string raw = kMultipart;
  EXPECT_EQ(GetBody(mb_, "INBOX", a.uid()), raw);
  std::string header = raw.substr(0, raw.find("\r\n\r\n") + 4);
  EXPECT_EQ(GetBody(mb_, "INBOX", a.uid(), "", mail::v1::BODY_SECTION_HEADER), header);
  EXPECT_EQ(GetBody(mb_, "INBOX", a.uid(), "", mail::v1::BODY_SECTION_TEXT),
            raw.substr(header.size()));
  EXPECT_EQ(GetBody(mb_, "INBOX", a.uid(), "1", mail::v1::BODY_SECTION_CONTENT), "Body text.");
  EXPECT_EQ(GetBody(mb_, "INBOX", a.uid(), "2", mail::v1::BODY_SECTION_CONTENT), "AAECAwQ=");
  EXPECT_EQ(GetBody(mb_, "INBOX", a.uid(), "2", mail::v1::BODY_SECTION_MIME),
            "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n");
  EXPECT_EQ(GetBody(mb_, "INBOX", a.uid(), "", mail::v1::BODY_SECTION_FULL, 6, 5), "Alice");
  EXPECT_EQ(GetBody(mb_, "INBOX", a.uid(), "", mail::v1::BODY_SECTION_FULL, 1 << 20, 5), "");
  grpc::Status s;
  GetBody(mb_, "INBOX", a.uid(), "3", mail::v1::BODY_SECTION_CONTENT, 0, 0, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  GetBody(mb_, "INBOX", 99, "", mail::v1::BODY_SECTION_FULL, 0, 0, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(MessageStoreTest, LargeBodyStreamsInChunks) {
  std::string big = SimpleMessage("big", std::string(20 << 20, 'x'));
  auto a = AppendMessage(mb_, "INBOX", big);
  std::string got = GetBody(mb_, "INBOX", a.uid());
  EXPECT_EQ(got.size(), big.size());
  EXPECT_TRUE(got == big);
  std::string part = GetBody(mb_, "INBOX", a.uid(), "", mail::v1::BODY_SECTION_FULL, 5 << 20,
                             1 << 20);
  EXPECT_TRUE(part == big.substr(5 << 20, 1 << 20));
}

// POP3 read-ahead: several whole messages in one call, in the order asked, an expunged one
// reported as not found without failing the others.
TEST_F(MessageStoreTest, GetBodiesReturnsWholeMessagesInTheOrderAsked) {
  std::vector<std::string> raw;
  for (int i = 0; i < 4; ++i) {
    raw.push_back(SimpleMessage("m" + std::to_string(i), std::string(1000 * (i + 1), 'a' + i)));
    AppendMessage(mb_, "INBOX", raw.back());
  }
  raw.push_back(SimpleMessage("big", std::string(3 << 20, 'z')));  // Over one 1 MiB chunk.
  AppendMessage(mb_, "INBOX", raw.back());
  Store(2, 2, mail::v1::FLAG_MODE_ADD, {"\\Deleted"});
  {
    grpc::ClientContext ctx;
    mail::v1::ExpungeRequest e;
    e.set_mailbox_id(mb_);
    e.mutable_folder()->set_name("INBOX");
    e.set_only_deleted(true);
    mail::v1::ExpungeResponse er;
    ASSERT_TRUE(store_->Expunge(&ctx, e, &er).ok());
  }
  auto bodies = [&](const std::string& folder, std::vector<uint32_t> uids,
                    grpc::Status* status) {
    grpc::ClientContext ctx;
    mail::v1::GetBodiesRequest req;
    req.set_mailbox_id(mb_);
    req.mutable_folder()->set_name(folder);
    for (uint32_t u : uids) req.add_uids(u);
    auto reader = store_->GetBodies(&ctx, req);
    std::vector<mail::v1::GetBodiesResponse> out;
    mail::v1::GetBodiesResponse one;
    while (reader->Read(&one)) out.push_back(one);
    *status = reader->Finish();
    return out;
  };
  grpc::Status s;
  auto got = bodies("INBOX", {4, 1, 2, 5, 3}, &s);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(got.size(), 5u);
  const std::vector<uint32_t> order{4, 1, 2, 5, 3};
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].uid(), order[i]);
    if (order[i] == 2) {
      EXPECT_FALSE(got[i].found());
      EXPECT_TRUE(got[i].data().empty());
    } else {
      EXPECT_TRUE(got[i].found()) << order[i];
      EXPECT_TRUE(got[i].data() == raw[order[i] - 1]) << "uid " << order[i];
    }
  }
  bodies("NoSuchFolder", {1}, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  bodies("INBOX", std::vector<uint32_t>(257, 1), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MessageStoreTest, StoreFlagsModesAndConditionalStore) {
  for (int i = 0; i < 3; ++i) AppendMessage(mb_, "INBOX", SimpleMessage("m" + std::to_string(i)));
  auto r = Store(1, 2, mail::v1::FLAG_MODE_ADD, {"\\Seen", "\\seen", "Junk"});
  ASSERT_EQ(r.messages_size(), 2);
  EXPECT_EQ(std::vector<std::string>(r.messages(0).flags().begin(), r.messages(0).flags().end()),
            (std::vector<std::string>{"Junk", "\\Seen"}));
  uint64_t m1 = r.messages(0).modseq();
  EXPECT_EQ(Folder(mb_, "INBOX").unseen(), 1u);
  r = Store(1, 1, mail::v1::FLAG_MODE_REMOVE, {"junk"});
  EXPECT_EQ(r.messages(0).flags_size(), 1);
  EXPECT_GT(r.messages(0).modseq(), m1);
  r = Store(2, 2, mail::v1::FLAG_MODE_REPLACE, {"\\Deleted"});
  EXPECT_EQ(Folder(mb_, "INBOX").unseen(), 2u);
  EXPECT_EQ(Folder(mb_, "INBOX").deleted(), 1u);
  // UNCHANGEDSINCE: message 1 changed after m1, so it is reported as modified, not changed.
  r = Store(1, 3, mail::v1::FLAG_MODE_ADD, {"\\Flagged"}, m1);
  EXPECT_EQ(std::vector<uint32_t>(r.modified().begin(), r.modified().end()),
            (std::vector<uint32_t>{1, 2}));
  ASSERT_EQ(r.messages_size(), 1);
  EXPECT_EQ(r.messages(0).uid(), 3u);
  // Unknown system flags are refused.
  grpc::ClientContext ctx;
  mail::v1::StoreFlagsRequest bad;
  bad.set_mailbox_id(mb_);
  bad.add_flags("\\Bogus");
  mail::v1::StoreFlagsResponse resp;
  EXPECT_EQ(store_->StoreFlags(&ctx, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MessageStoreTest, ExpungeOnlyDeletedOrGivenUids) {
  for (int i = 0; i < 4; ++i) AppendMessage(mb_, "INBOX", SimpleMessage("m" + std::to_string(i)));
  Store(2, 3, mail::v1::FLAG_MODE_ADD, {"\\Deleted"});
  grpc::ClientContext ctx;
  mail::v1::ExpungeRequest req;
  req.set_mailbox_id(mb_);
  req.mutable_folder()->set_name("INBOX");
  req.set_only_deleted(true);
  auto* r = req.add_uids();  // UID EXPUNGE 3:4
  r->set_first(3);
  r->set_last(4);
  mail::v1::ExpungeResponse resp;
  ASSERT_TRUE(store_->Expunge(&ctx, req, &resp).ok());
  EXPECT_EQ(std::vector<uint32_t>(resp.expunged().begin(), resp.expunged().end()),
            std::vector<uint32_t>{3});
  auto recs = FetchAll(mb_, "INBOX");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[2].uid(), 4u);
  EXPECT_EQ(Folder(mb_, "INBOX").messages(), 3u);
  EXPECT_EQ(Folder(mb_, "INBOX").deleted(), 1u);
}

TEST_F(MessageStoreTest, CopyAndMoveReturnUidMaps) {
  for (int i = 0; i < 3; ++i) AppendMessage(mb_, "INBOX", SimpleMessage("m" + std::to_string(i)));
  AppendMessage(mb_, "Archive", SimpleMessage("old"));
  auto before = FetchAll(mb_, "INBOX");
  grpc::ClientContext ctx;
  mail::v1::CopyRequest req;
  req.set_mailbox_id(mb_);
  req.mutable_folder()->set_name("INBOX");
  req.mutable_destination()->set_name("Archive");
  auto* r = req.add_uids();
  r->set_first(2);
  r->set_last(UINT32_MAX);
  mail::v1::CopyResponse resp;
  ASSERT_TRUE(store_->Copy(&ctx, req, &resp).ok());
  EXPECT_EQ(std::vector<uint32_t>(resp.source_uids().begin(), resp.source_uids().end()),
            (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(std::vector<uint32_t>(resp.destination_uids().begin(),
                                  resp.destination_uids().end()),
            (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(resp.destination_uidvalidity(), Folder(mb_, "Archive").uidvalidity());
  EXPECT_EQ(Folder(mb_, "INBOX").messages(), 3u);
  EXPECT_EQ(GetBody(mb_, "Archive", 3), SimpleMessage("m2"));

  grpc::ClientContext ctx2;
  req.set_move(true);
  req.mutable_destination()->set_name("Junk");
  ASSERT_TRUE(store_->Copy(&ctx2, req, &resp).ok());
  EXPECT_EQ(Folder(mb_, "INBOX").messages(), 1u);
  auto moved = FetchAll(mb_, "Junk");
  ASSERT_EQ(moved.size(), 2u);
  // A move keeps the message's mailbox-wide id (stable POP3 UIDL); a copy gets a new one.
  EXPECT_EQ(moved[0].message_id(), before[1].message_id());
  EXPECT_NE(FetchAll(mb_, "Archive")[1].message_id(), before[1].message_id());
  auto bodies = server_->store()->CountStoredBodies();
  EXPECT_EQ(*bodies, 4u);
}

TEST_F(MessageStoreTest, BodiesAreStoredOnceAndFreedWithTheLastCopy) {
  uint64_t bob = NewMailbox("bob").id();
  uint64_t carol = NewMailbox("carol").id();
  grpc::ClientContext ctx;
  mail::v1::DeliverRequest req;
  for (uint64_t id : {mb_, bob, carol}) req.add_targets()->set_mailbox_id(id);
  req.set_message(SimpleMessage("to everyone", std::string(100000, 'z')));
  mail::v1::DeliverResponse resp;
  ASSERT_TRUE(store_->Deliver(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 3);
  for (const auto& r : resp.results()) EXPECT_EQ(r.code(), 0) << r.message();
  EXPECT_EQ(*server_->store()->CountStoredBodies(), 1u);
  AppendMessage(mb_, "Sent", req.message());  // Same bytes appended again: still one body.
  EXPECT_EQ(*server_->store()->CountStoredBodies(), 1u);
  int copies = 4;
  for (uint64_t id : {mb_, bob, carol}) {
    for (const char* folder : {"INBOX", "Sent"}) {
      grpc::ClientContext c;
      mail::v1::ExpungeRequest e;
      e.set_mailbox_id(id);
      e.mutable_folder()->set_name(folder);
      mail::v1::ExpungeResponse er;
      ASSERT_TRUE(store_->Expunge(&c, e, &er).ok());
      copies -= er.expunged_size();
      // The one stored body stays while any copy is left, and goes with the last.
      EXPECT_EQ(*server_->store()->CountStoredBodies(), copies > 0 ? 1u : 0u) << copies;
    }
  }
  EXPECT_EQ(*server_->store()->CountStoredBodies(), 0u);
}

TEST_F(MessageStoreTest, QuotaExceededIsRefusedPerMailbox) {
  uint64_t bob = NewMailbox("bob").id();
  grpc::ClientContext uctx;
  mail::v1::UpdateMailboxRequest u;
  u.set_identity("alice");
  u.mutable_update()->set_prohibit_send_receive_quota(1000);
  mail::v1::GetMailboxResponse ur;
  ASSERT_TRUE(directory_->UpdateMailbox(&uctx, u, &ur).ok());
  AppendMessage(mb_, "INBOX", SimpleMessage("small"));
  grpc::ClientContext ctx;
  mail::v1::AppendRequest req;
  req.set_mailbox_id(mb_);
  req.set_message(SimpleMessage("big", std::string(2000, 'q')));
  mail::v1::AppendResponse resp;
  grpc::Status s = store_->Append(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Delivery to several recipients fails only for the full mailbox.
  grpc::ClientContext dctx;
  mail::v1::DeliverRequest d;
  d.add_targets()->set_mailbox_id(mb_);
  d.add_targets()->set_mailbox_id(bob);
  d.set_message(req.message());
  mail::v1::DeliverResponse dr;
  ASSERT_TRUE(store_->Deliver(&dctx, d, &dr).ok());
  EXPECT_EQ(dr.results(0).code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_EQ(dr.results(1).code(), 0);
  EXPECT_EQ(Folder(bob, "INBOX").messages(), 1u);
  EXPECT_EQ(Folder(mb_, "INBOX").messages(), 1u);
}

TEST_F(MessageStoreTest, FolderCreateListRenameDelete) {
  ASSERT_TRUE(CreateFolder("Projects/2026/Q4").ok());  // Parents are created too.
  EXPECT_EQ(CreateFolder("Projects").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(CreateFolder("bad//name").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateFolder("/lead").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateFolder("Inbox").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(CreateFolder("Ünïcødé 日本").ok());
  EXPECT_EQ(List("", "Projects/%"), std::vector<std::string>{"Projects/2026"});
  EXPECT_EQ(List("", "Projects/*"),
            (std::vector<std::string>{"Projects/2026", "Projects/2026/Q4"}));
  EXPECT_EQ(List("Projects/", "%"), std::vector<std::string>{"Projects/2026"});
  EXPECT_EQ(List("", "inbox"), std::vector<std::string>{"INBOX"});
  EXPECT_EQ(List("", "%").size(), 8u);
  EXPECT_EQ(List("", "*").size(), 10u);

  auto q4 = Folder(mb_, "Projects/2026/Q4");
  AppendMessage(mb_, "Projects/2026/Q4", SimpleMessage("plan"));
  grpc::ClientContext rctx;
  mail::v1::RenameFolderRequest rr;
  rr.set_mailbox_id(mb_);
  rr.mutable_folder()->set_name("Projects");
  rr.set_new_name("Work/Old Projects");
  mail::v1::RenameFolderResponse rresp;
  ASSERT_TRUE(store_->RenameFolder(&rctx, rr, &rresp).ok());
  EXPECT_EQ(rresp.renamed_size(), 3);
  auto renamed = Folder(mb_, "Work/Old Projects/2026/Q4");
  EXPECT_EQ(renamed.id(), q4.id());
  EXPECT_EQ(renamed.uidvalidity(), q4.uidvalidity());
  EXPECT_EQ(renamed.messages(), 1u);
  EXPECT_TRUE(List("", "Projects*").empty());
  EXPECT_EQ(List("", "Work").size(), 1u);

  grpc::ClientContext dctx;
  mail::v1::DeleteFolderRequest dr;
  dr.set_mailbox_id(mb_);
  dr.mutable_folder()->set_name("Work/Old Projects");
  mail::v1::DeleteFolderResponse dresp;
  EXPECT_EQ(store_->DeleteFolder(&dctx, dr, &dresp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  grpc::ClientContext dctx2;
  dr.mutable_folder()->set_name("Work/Old Projects/2026/Q4");
  ASSERT_TRUE(store_->DeleteFolder(&dctx2, dr, &dresp).ok());
  EXPECT_EQ(dresp.messages_removed(), 1u);
  EXPECT_EQ(*server_->store()->CountStoredBodies(), 0u);
  grpc::ClientContext dctx3;
  dr.mutable_folder()->set_name("INBOX");
  EXPECT_EQ(store_->DeleteFolder(&dctx3, dr, &dresp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // A folder made again with the same name gets a new UIDVALIDITY.
  ASSERT_TRUE(CreateFolder("Work/Old Projects/2026/Q4").ok());
  EXPECT_NE(Folder(mb_, "Work/Old Projects/2026/Q4").uidvalidity(), q4.uidvalidity());
}

TEST_F(MessageStoreTest, RenamingInboxMovesItsMessages) {
  AppendMessage(mb_, "INBOX", SimpleMessage("a"));
  AppendMessage(mb_, "INBOX", SimpleMessage("b"));
  grpc::ClientContext ctx;
  mail::v1::RenameFolderRequest rr;
  rr.set_mailbox_id(mb_);
  rr.mutable_folder()->set_name("INBOX");
  rr.set_new_name("Old Inbox");
  mail::v1::RenameFolderResponse resp;
  ASSERT_TRUE(store_->RenameFolder(&ctx, rr, &resp).ok());
  EXPECT_EQ(Folder(mb_, "INBOX").messages(), 0u);
  EXPECT_EQ(Folder(mb_, "Old Inbox").messages(), 2u);
}

TEST_F(MessageStoreTest, SubscriptionsAreListed) {
  ASSERT_TRUE(CreateFolder("Lists").ok());
  grpc::ClientContext ctx;
  mail::v1::SubscribeFolderRequest req;
  req.set_mailbox_id(mb_);
  req.set_name("Lists");
  req.set_subscribed(true);
  mail::v1::FolderResponse resp;
  ASSERT_TRUE(store_->SubscribeFolder(&ctx, req, &resp).ok());
  auto subs = List("", "*", true);
  EXPECT_NE(std::find(subs.begin(), subs.end(), "Lists"), subs.end());
  grpc::ClientContext ctx2;
  req.set_subscribed(false);
  ASSERT_TRUE(store_->SubscribeFolder(&ctx2, req, &resp).ok());
  subs = List("", "*", true);
  EXPECT_EQ(std::find(subs.begin(), subs.end(), "Lists"), subs.end());
}

TEST_F(MessageStoreTest, StateSurvivesRestart) {
  ASSERT_TRUE(CreateFolder("Keep").ok());
  auto inbox = Folder(mb_, "INBOX");
  auto keep = Folder(mb_, "Keep");
  auto a = AppendMessage(mb_, "Keep", SimpleMessage("persist"), {"\\Seen"});
  Restart();
  EXPECT_EQ(Folder(mb_, "INBOX").uidvalidity(), inbox.uidvalidity());
  auto k = Folder(mb_, "Keep");
  EXPECT_EQ(k.uidvalidity(), keep.uidvalidity());
  EXPECT_EQ(k.messages(), 1u);
  EXPECT_EQ(k.unseen(), 0u);
  EXPECT_EQ(GetBody(mb_, "Keep", a.uid()), SimpleMessage("persist"));
  auto b = AppendMessage(mb_, "Keep", SimpleMessage("after"));
  EXPECT_EQ(b.uid(), a.uid() + 1);
  EXPECT_GT(b.modseq(), a.modseq());
}

TEST_F(MessageStoreTest, UnknownMailboxOrFolderIsNotFound) {
  grpc::ClientContext ctx;
  mail::v1::AppendRequest req;
  req.set_mailbox_id(999);
  req.set_message(SimpleMessage("x"));
  mail::v1::AppendResponse resp;
  EXPECT_EQ(store_->Append(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext ctx2;
  req.set_mailbox_id(mb_);
  req.mutable_folder()->set_name("Nope");
  EXPECT_EQ(store_->Append(&ctx2, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext ctx3;
  req.mutable_folder()->set_name("INBOX");
  req.clear_message();
  EXPECT_EQ(store_->Append(&ctx3, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(MessageStoreTest, RetentionPurgesOldJunkAndDeletedItems) {
  AppendMessage(mb_, "Junk", SimpleMessage("spam"));
  AppendMessage(mb_, "Deleted Items", SimpleMessage("trash"));
  AppendMessage(mb_, "INBOX", SimpleMessage("keep"));
  auto purge = [&](int64_t days) {
    grpc::ClientContext ctx;
    mail::v1::PurgeExpiredRequest req;
    req.set_now_unix(std::time(nullptr) + days * 86400);
    mail::v1::PurgeExpiredResponse resp;
    EXPECT_TRUE(maintenance_->PurgeExpired(&ctx, req, &resp).ok());
    return resp.messages_purged();
  };
  EXPECT_EQ(purge(5), 0u);
  EXPECT_EQ(purge(11), 1u);  // Junk: 10 days.
  EXPECT_EQ(Folder(mb_, "Junk").messages(), 0u);
  EXPECT_EQ(Folder(mb_, "Deleted Items").messages(), 1u);
  EXPECT_EQ(purge(31), 1u);  // Deleted Items: 30 days.
  EXPECT_EQ(Folder(mb_, "INBOX").messages(), 1u);
  EXPECT_EQ(purge(3650), 0u);
}

// Reads a Watch stream on its own thread.
class Watcher {
 public:
  Watcher(mail::v1::MessageStore::Stub* stub, std::vector<uint64_t> ids) {
    mail::v1::WatchRequest req;
    for (auto id : ids) req.add_mailbox_ids(id);
    reader_ = stub->Watch(&ctx_, req);
    mail::v1::ChangeEvent first;
    EXPECT_TRUE(reader_->Read(&first));
    EXPECT_EQ(first.kind(), mail::v1::CHANGE_KIND_SYNC);
    thread_ = std::thread([this] {
      mail::v1::ChangeEvent e;
      while (reader_->Read(&e)) {
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(e);
        cv_.notify_all();
      }
    });
  }
  ~Watcher() {
    ctx_.TryCancel();
    thread_.join();
  }
  std::vector<mail::v1::ChangeEvent> WaitFor(size_t n, int timeout_ms = 10000) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return events_.size() >= n; });
    return events_;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<mail::v1::ChangeEvent>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<mail::v1::ChangeEvent> events_;
};

TEST_F(MessageStoreTest, WatchSeesChangesInModseqOrder) {
  uint64_t bob = NewMailbox("bob").id();
  Watcher w(store_.get(), {mb_});
  AppendMessage(bob, "INBOX", SimpleMessage("not for alice"));
  auto a = AppendMessage(mb_, "INBOX", SimpleMessage("one"));
  Store(1, 1, mail::v1::FLAG_MODE_ADD, {"\\Seen"});
  grpc::ClientContext ctx;
  mail::v1::ExpungeRequest req;
  req.set_mailbox_id(mb_);
  mail::v1::ExpungeResponse resp;
  ASSERT_TRUE(store_->Expunge(&ctx, req, &resp).ok());
  auto events = w.WaitFor(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind(), mail::v1::CHANGE_KIND_APPEND);
  EXPECT_EQ(events[0].uids(0), a.uid());
  EXPECT_EQ(events[0].uidnext(), a.uid() + 1);
  EXPECT_EQ(events[1].kind(), mail::v1::CHANGE_KIND_FLAGS);
  EXPECT_EQ(events[1].flags(0), "\\Seen");
  EXPECT_EQ(events[2].kind(), mail::v1::CHANGE_KIND_EXPUNGE);
  EXPECT_LT(events[0].modseq(), events[1].modseq());
  EXPECT_LT(events[1].modseq(), events[2].modseq());
  for (const auto& e : events) EXPECT_EQ(e.mailbox_id(), mb_);

  // The same changes can be read back from the change log (QRESYNC after a reconnect).
  grpc::ClientContext cctx;
  mail::v1::GetChangesRequest creq;
  creq.set_mailbox_id(mb_);
  creq.mutable_folder()->set_name("INBOX");
  creq.set_since_modseq(events[0].modseq());
  mail::v1::GetChangesResponse cresp;
  ASSERT_TRUE(store_->GetChanges(&cctx, creq, &cresp).ok());
  ASSERT_EQ(cresp.changes_size(), 2);
  EXPECT_EQ(cresp.changes(1).kind(), mail::v1::CHANGE_KIND_EXPUNGE);
  EXPECT_EQ(cresp.changes(1).uids(0), a.uid());
}

// IMAP QRESYNC asks which UIDs went since a MODSEQ: the change log keeps every expunge (by
// EXPUNGE or by MOVE) with its MODSEQ, per folder, across restarts.
TEST_F(MessageStoreTest, ChangeLogKeepsExpungesWithTheirModseq) {
  for (int i = 0; i < 4; ++i) AppendMessage(mb_, "INBOX", SimpleMessage("m" + std::to_string(i)));
  const uint64_t since = Folder(mb_, "INBOX").highest_modseq();
  Store(1, 1, mail::v1::FLAG_MODE_ADD, {"\\Seen"});
  grpc::ClientContext ectx;
  mail::v1::ExpungeRequest ereq;
  ereq.set_mailbox_id(mb_);
  ereq.mutable_folder()->set_name("INBOX");
  auto* er = ereq.add_uids();
  er->set_first(2);
  er->set_last(2);
  mail::v1::ExpungeResponse eresp;
  ASSERT_TRUE(store_->Expunge(&ectx, ereq, &eresp).ok());
  grpc::ClientContext mctx;
  mail::v1::CopyRequest mreq;
  mreq.set_mailbox_id(mb_);
  mreq.mutable_folder()->set_name("INBOX");
  mreq.mutable_destination()->set_name("Archive");
  mreq.set_move(true);
  auto* mr = mreq.add_uids();
  mr->set_first(3);
  mr->set_last(3);
  mail::v1::CopyResponse mresp;
  ASSERT_TRUE(store_->Copy(&mctx, mreq, &mresp).ok());
  Restart();

  auto expunges = [&](const std::string& folder, uint64_t since_modseq) {
    grpc::ClientContext ctx;
    mail::v1::GetChangesRequest req;
    req.set_mailbox_id(mb_);
    req.mutable_folder()->set_name(folder);
    req.set_since_modseq(since_modseq);
    mail::v1::GetChangesResponse resp;
    grpc::Status s = store_->GetChanges(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::pair<uint32_t, uint64_t>> out;  // (uid, modseq)
    uint64_t last = since_modseq;
    for (const auto& e : resp.changes()) {
      EXPECT_GT(e.modseq(), last);
      last = e.modseq();
      if (e.kind() != mail::v1::CHANGE_KIND_EXPUNGE) continue;
      for (uint32_t uid : e.uids()) out.emplace_back(uid, e.modseq());
    }
    EXPECT_EQ(resp.highest_modseq(), Folder(mb_, folder).highest_modseq());
    return out;
  };
  auto inbox = expunges("INBOX", since);
  ASSERT_EQ(inbox.size(), 2u);
  EXPECT_EQ(inbox[0].first, 2u);
  EXPECT_EQ(inbox[0].second, eresp.highest_modseq());
  EXPECT_EQ(inbox[1].first, 3u);
  EXPECT_EQ(inbox[1].second, mresp.highest_modseq());
  EXPECT_EQ(inbox[1].second, Folder(mb_, "INBOX").highest_modseq());
  // Since the first expunge: only the move is left; since the last change: nothing.
  auto later = expunges("INBOX", eresp.highest_modseq());
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].first, 3u);
  EXPECT_TRUE(expunges("INBOX", mresp.highest_modseq()).empty());
  // The destination folder saw an append, no expunge.
  EXPECT_TRUE(expunges("Archive", since).empty());
}

TEST_F(MessageStoreTest, ConcurrentAppendsGetUniqueIncreasingUidsAndEventsOnce) {
  constexpr int kClients = 8, kEach = 40;
  Watcher w(store_.get(), {mb_});
  std::vector<std::vector<uint32_t>> uids(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      // Each client its own channel, as separate frontends would.
      auto stub = mail::v1::MessageStore::NewStub(grpc::CreateChannel(
          "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
      for (int i = 0; i < kEach; ++i) {
        grpc::ClientContext ctx;
        mail::v1::AppendRequest req;
        req.set_mailbox_id(mb_);
        req.set_message(SimpleMessage("c" + std::to_string(c) + "-" + std::to_string(i)));
        mail::v1::AppendResponse resp;
        grpc::Status s = stub->Append(&ctx, req, &resp);
        ASSERT_TRUE(s.ok()) << s.error_message();
        uids[c].push_back(resp.uid());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint32_t> all;
  for (const auto& v : uids) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // Each client sees increasing UIDs.
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), size_t{kClients * kEach});
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), uint32_t{kClients * kEach});
  auto events = w.WaitFor(kClients * kEach);
  ASSERT_EQ(events.size(), size_t{kClients * kEach});
  std::set<uint32_t> seen;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kind(), mail::v1::CHANGE_KIND_APPEND);
    EXPECT_TRUE(seen.insert(events[i].uids(0)).second) << "duplicate event";
    if (i > 0) {
      EXPECT_LT(events[i - 1].modseq(), events[i].modseq());
      EXPECT_LT(events[i - 1].uids(0), events[i].uids(0));  // Visible in UID order.
    }
  }
  EXPECT_EQ(FetchAll(mb_, "INBOX").size(), size_t{kClients * kEach});
}

}  // namespace
}  // namespace mailboxstore::testing
