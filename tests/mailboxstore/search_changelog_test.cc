// The store's text search (SEARCH BODY/TEXT in one call) and the bounded change log.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/mailboxstore/store_fixture.h"

namespace mailboxstore::testing {
namespace {

std::string Plain(const std::string& subject, const std::string& body,
                  const std::string& extra_headers = "") {
  return "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: " + subject +
         "\r\n" + extra_headers + "\r\n" + body + "\r\n";
}

class SearchTextTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    mb_ = NewMailbox("alice").id();
  }

  struct Criterion {
    bool text;  // TEXT (headers too); BODY otherwise.
    std::string needle;
    std::string header = {};  // FROM/.../HEADER: this header field only.
  };

  // The UIDs matching each criterion, searching `uids` (empty: all).
  std::vector<std::vector<uint32_t>> Search(const std::vector<Criterion>& criteria,
                                            std::vector<std::pair<uint32_t, uint32_t>> uids = {},
                                            grpc::Status* status = nullptr) {
    grpc::ClientContext ctx;
    mail::v1::SearchTextRequest req;
    req.set_mailbox_id(mb_);
    req.mutable_folder()->set_name(folder_);
    for (const auto& [first, last] : uids) {
      auto* r = req.add_uids();
      r->set_first(first);
      r->set_last(last);
    }
    for (const auto& c : criteria) {
      auto* out = req.add_criteria();
      out->set_include_headers(c.text);
      out->set_text(c.needle);
      out->set_header(c.header);
    }
    mail::v1::SearchTextResponse resp;
    grpc::Status s = store_->SearchText(&ctx, req, &resp);
    if (status != nullptr) *status = s;
    if (status == nullptr) {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    std::vector<std::vector<uint32_t>> out;
    for (const auto& m : resp.matches()) out.emplace_back(m.uids().begin(), m.uids().end());
    return out;
  }

  // Copy (or move) `uids` of folder `from` into `to`; returns the destination UIDs.
  std::vector<uint32_t> CopyTo(const std::string& from, std::vector<uint32_t> uids,
                               const std::string& to, bool move) {
    grpc::ClientContext ctx;
    mail::v1::CopyRequest req;
    req.set_mailbox_id(mb_);
    req.mutable_folder()->set_name(from);
    for (uint32_t uid : uids) {
      auto* r = req.add_uids();
      r->set_first(uid);
      r->set_last(uid);
    }
    req.mutable_destination()->set_name(to);
    req.set_move(move);
    mail::v1::CopyResponse resp;
    grpc::Status s = store_->Copy(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.destination_uids().begin(), resp.destination_uids().end()};
  }

  void Expunge(const std::string& folder, uint32_t uid) {
    grpc::ClientContext ctx;
    mail::v1::ExpungeRequest req;
    req.set_mailbox_id(mb_);
    req.mutable_folder()->set_name(folder);
    auto* r = req.add_uids();
    r->set_first(uid);
    r->set_last(uid);
    mail::v1::ExpungeResponse resp;
    grpc::Status s = store_->Expunge(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  // Calls a unary MessageStore method and expects it to succeed.
  template <typename Request, typename Response>
  void CallOk(grpc::Status (mail::v1::MessageStore::Stub::*method)(grpc::ClientContext*,
                                                                   const Request&, Response*),
              const Request& req) {
    grpc::ClientContext ctx;
    Response resp;
    grpc::Status s = (store_.get()->*method)(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << req.GetTypeName() << ": " << s.error_message();
  }

  uint64_t mb_ = 0;
  std::string folder_ = "INBOX";  // The folder Search() searches.
};

TEST_F(SearchTextTest, MatchesDecodedBodiesIgnoringCaseInOneCall) {
  AppendMessage(mb_, "INBOX", Plain("one", "The quick brown fox"));  // UID 1
  // Quoted-printable Latin-1: "Grüße aus Köln".
  AppendMessage(mb_, "INBOX",
                Plain("two", "Gr=FC=DFe aus K=F6ln",
                      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n"));  // UID 2
  // Base64 UTF-8 Cyrillic: "Привет мир".
  AppendMessage(mb_, "INBOX",
                Plain("three", "0J/RgNC40LLQtdGCINC80LjRgA==",
                      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: base64\r\n"));       // UID 3
  AppendMessage(mb_, "INBOX", Plain("Quick report", "nothing here"));  // UID 4

  auto r = Search(
      {{false, "QUICK"}, {false, "KÖLN"}, {false, "мир"}, {true, "quick"}, {false, "absent"}});
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0], (std::vector<uint32_t>{1}));     // BODY: the subject of 4 does not count.
  EXPECT_EQ(r[1], (std::vector<uint32_t>{2}));     // Decoded QP, Latin-1, folded.
  EXPECT_EQ(r[2], (std::vector<uint32_t>{3}));     // Decoded base64 UTF-8.
  EXPECT_EQ(r[3], (std::vector<uint32_t>{1, 4}));  // TEXT: body or header.
  EXPECT_TRUE(r[4].empty());

  // Only the candidates the session asks about are searched.
  auto some = Search({{false, "quick"}, {true, "quick"}}, {{2, 4}});
  ASSERT_EQ(some.size(), 2u);
  EXPECT_TRUE(some[0].empty());
  EXPECT_EQ(some[1], (std::vector<uint32_t>{4}));
}

// SEARCH FROM/SUBJECT/HEADER: only the named field's decoded value counts, never the body
// or another field; an empty string asks whether the field is there.
TEST_F(SearchTextTest, HeaderCriteriaMatchDecodedFieldsOnly) {
  AppendMessage(mb_, "INBOX",
                "From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>\r\n"
                "Subject: invoice\r\nX-Priority: 1\r\n\r\nsent by joerg\r\n");  // UID 1
  AppendMessage(mb_, "INBOX",
                "From: fred@example.com\r\nTo: joerg@example.de\r\n"
                "Subject: =?UTF-8?B?0J7RgtGH0ZHRgg==?=\r\n\r\nINVOICE attached\r\n");  // UID 2
  auto r = Search({{false, "MÜLLER", "from"},
                   {false, "joerg", "FROM"},
                   {false, "invoice", "subject"},
                   {false, "отчёт", "subject"},
                   {false, "", "x-priority"},
                   {false, "", "x-absent"},
                   {false, "INVOICE"}});
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0], (std::vector<uint32_t>{1}));  // RFC 2047 decoded, case folded.
  EXPECT_EQ(r[1], (std::vector<uint32_t>{1}));  // Not the To of 2, not the body of 1.
  EXPECT_EQ(r[2], (std::vector<uint32_t>{1}));
  EXPECT_EQ(r[3], (std::vector<uint32_t>{2}));
  EXPECT_EQ(r[4], (std::vector<uint32_t>{1}));
  EXPECT_TRUE(r[5].empty());
  EXPECT_EQ(r[6], (std::vector<uint32_t>{2}));  // BODY in the same call.
}

// SEARCH FROM/TO/CC/BCC/SUBJECT and HEADER Message-ID alone are answered from the search
// summaries kept beside the records; they must follow every copy, move, expunge, rename and
// folder deletion, and give the same answers as the structures (a field too large for a
// summary, and fields not in it, are searched through the structure).
TEST_F(SearchTextTest, HeaderSearchFollowsCopiesMovesExpungesAndRenames) {
  // Two To fields of about 9 KB each: each is decoded whole, together they are more than a
  // summary holds.
  std::string many_recipients;
  for (int i = 0; i < 400; ++i) many_recipients += "person" + std::to_string(i) + "@example.org, ";
  many_recipients += "Carol <carol@example.org>\r\nTo: ";
  for (int i = 400; i < 800; ++i) many_recipients += "person" + std::to_string(i) + "@example.org, ";
  many_recipients += "zed@example.org";
  AppendMessage(mb_, "INBOX",
                "From: Alice <alice@example.test>\r\nSubject: Alpha\r\n"
                "X-Mailer: Mutt\r\n\r\nbody one\r\n");  // UID 1
  AppendMessage(mb_, "INBOX",
                "From: =?UTF-8?Q?B=C3=B6b?= <bob@example.test>\r\nCc: dave@example.test\r\n"
                "Subject: Beta\r\nMessage-ID: <beta.1@example.test>\r\n\r\nbody two\r\n");  // 2
  AppendMessage(mb_, "INBOX",
                "From: Carol <carol@example.org>\r\nTo: " + many_recipients +
                    "\r\nBcc: eve@example.test\r\nSubject: Gamma\r\n\r\nbody three\r\n");  // 3
  using Uids = std::vector<uint32_t>;
  const std::vector<Criterion> keys = {{false, "alice", "from"},   {false, "BÖB", "from"},
                                       {false, "carol", "to"},     {false, "person799@", "to"},
                                       {false, "dave", "cc"},      {false, "eve", "bcc"},
                                       {false, "", "subject"},     {false, "beta.1", "message-id"},
                                       {false, "mutt", "x-mailer"}};
  auto r = Search(keys);
  ASSERT_EQ(r.size(), keys.size());
  EXPECT_EQ(r[0], (Uids{1}));
  EXPECT_EQ(r[1], (Uids{2}));  // Decoded and case folded.
  EXPECT_EQ(r[2], (Uids{3}));  // In a To too large for a summary.
  EXPECT_EQ(r[3], (Uids{3}));
  EXPECT_EQ(r[4], (Uids{2}));
  EXPECT_EQ(r[5], (Uids{3}));
  EXPECT_EQ(r[6], (Uids{1, 2, 3}));
  EXPECT_EQ(r[7], (Uids{2}));
  EXPECT_EQ(r[8], (Uids{1}));  // Not a summarized field.
  // A UID range limits the summary scan as it limits the records.
  EXPECT_EQ(Search({{false, "", "from"}}, {{2, 3}})[0], (Uids{2, 3}));
  EXPECT_EQ(Search({{false, "", "from"}}, {{1, 1}, {3, 9}})[0], (Uids{1, 3}));

  mail::v1::CreateFolderRequest create;
  create.set_mailbox_id(mb_);
  create.set_name("Kept");
  CallOk(&mail::v1::MessageStore::Stub::CreateFolder, create);
  EXPECT_EQ(CopyTo("INBOX", {1, 3}, "Kept", /*move=*/false), (Uids{1, 2}));
  EXPECT_EQ(CopyTo("INBOX", {2}, "Kept", /*move=*/true), (Uids{3}));
  Expunge("INBOX", 1);
  r = Search(keys);
  EXPECT_TRUE(r[0].empty());  // Expunged.
  EXPECT_TRUE(r[1].empty());  // Moved away.
  EXPECT_EQ(r[2], (Uids{3}));
  EXPECT_EQ(r[6], (Uids{3}));
  folder_ = "Kept";
  r = Search(keys);
  EXPECT_EQ(r[0], (Uids{1}));
  EXPECT_EQ(r[1], (Uids{3}));
  EXPECT_EQ(r[2], (Uids{2}));
  EXPECT_EQ(r[4], (Uids{3}));
  EXPECT_EQ(r[6], (Uids{1, 2, 3}));
  EXPECT_EQ(r[7], (Uids{3}));
  EXPECT_EQ(r[8], (Uids{1}));

  // Renaming INBOX moves its messages into a new folder.
  mail::v1::RenameFolderRequest rename;
  rename.set_mailbox_id(mb_);
  rename.mutable_folder()->set_name("INBOX");
  rename.set_new_name("Old Inbox");
  CallOk(&mail::v1::MessageStore::Stub::RenameFolder, rename);
  folder_ = "Old Inbox";
  r = Search(keys);
  EXPECT_EQ(r[2], (Uids{1}));
  EXPECT_EQ(r[5], (Uids{1}));
  EXPECT_EQ(r[6], (Uids{1}));
  folder_ = "INBOX";
  EXPECT_TRUE(Search(keys)[6].empty());

  // A folder deleted and made again under the same name starts empty.
  mail::v1::DeleteFolderRequest del;
  del.set_mailbox_id(mb_);
  del.mutable_folder()->set_name("Kept");
  CallOk(&mail::v1::MessageStore::Stub::DeleteFolder, del);
  CallOk(&mail::v1::MessageStore::Stub::CreateFolder, create);
  AppendMessage(mb_, "Kept", "From: frank@example.test\r\nSubject: new\r\n\r\nx\r\n");
  folder_ = "Kept";
  r = Search(keys);
  EXPECT_TRUE(r[0].empty());
  EXPECT_EQ(r[6], (Uids{1}));

  // The summaries are on disk with the records: the same answers after a restart.
  folder_ = "Old Inbox";
  auto before = Search(keys);
  Restart();
  EXPECT_EQ(Search(keys), before);
}

TEST_F(SearchTextTest, UnknownFolderIsNotFound) {
  grpc::ClientContext ctx;
  mail::v1::SearchTextRequest req;
  req.set_mailbox_id(mb_);
  req.mutable_folder()->set_name("Nope");
  req.add_criteria()->set_text("x");
  mail::v1::SearchTextResponse resp;
  grpc::Status s = store_->SearchText(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

// A store that keeps the changes of only the last 10 MODSEQs.
class ChangeLogTrimTest : public SearchTextTest {
 protected:
  void Customize(StoreServerOptions* o) override { o->store.changelog_retained_modseqs = 10; }

  grpc::Status Changes(uint64_t since, mail::v1::GetChangesResponse* resp) {
    grpc::ClientContext ctx;
    mail::v1::GetChangesRequest req;
    req.set_mailbox_id(mb_);
    req.mutable_folder()->set_name("INBOX");
    req.set_since_modseq(since);
    return store_->GetChanges(&ctx, req, resp);
  }
};

TEST_F(ChangeLogTrimTest, OldChangesAreTrimmedAndAskingForThemIsOutOfRange) {
  uint64_t last = 0;
  for (int i = 0; i < 40; ++i) last = AppendMessage(mb_, "INBOX", Plain("m", "x")).modseq();
  mail::v1::GetChangesResponse resp;
  // Everything since 5 MODSEQs ago is still there, complete and in order.
  ASSERT_TRUE(Changes(last - 5, &resp).ok());
  ASSERT_EQ(resp.changes_size(), 5);
  EXPECT_EQ(resp.changes(0).modseq(), last - 4);
  EXPECT_EQ(resp.changes(4).modseq(), last);
  // The beginning of the log is gone: no partial answer that would look complete.
  resp.Clear();
  grpc::Status s = Changes(0, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE) << s.error_message();
  EXPECT_EQ(resp.changes_size(), 0);
  // The floor survives a restart, and the log stays bounded (limit + an eighth).
  Restart();
  s = Changes(last - 20, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  uint64_t oldest_ok = 0;
  for (uint64_t since = last; since > 0; --since) {
    mail::v1::GetChangesResponse r;
    if (!Changes(since, &r).ok()) break;
    oldest_ok = since;
    EXPECT_EQ(r.changes_size(), static_cast<int>(last - since));
  }
  EXPECT_GE(last - oldest_ok, 10u);
  EXPECT_LE(last - oldest_ok, 10u + 10u / 8u + 1u);
}

}  // namespace
}  // namespace mailboxstore::testing
