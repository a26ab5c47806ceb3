// The post-login IMAP session over a loopback socket with an in-memory fake store that counts
// the calls it gets: IMAP4rev2 and UTF8=ACCEPT after ENABLE, SEARCH BODY/TEXT as one store
// call, SEARCHRES, LIST (SUBSCRIBED RECURSIVEMATCH), and QRESYNC when the store's change log
// no longer reaches back far enough.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cas/imap/session/imap_session.h"
#include "common/mail_text.h"
#include "mailboxstore/api/mail_store.h"
#include "mailboxstore/core/mime_parser.h"

namespace cas::imap {
namespace {

bool InRanges(uint32_t uid, const google::protobuf::RepeatedPtrField<mail::v1::UidRange>& r) {
  if (r.empty()) return true;
  for (const auto& x : r) {
    if (uid >= x.first() && uid <= x.last()) return true;
  }
  return false;
}

// One mailbox with the folders INBOX (id 1) and "Ünïcødé" (id 2), "Lists" (id 3) and
// "Lists/Work" (id 4). Every call is counted.
class FakeStore : public mailboxstore::MailStore {
 public:
  struct Message {
    mail::v1::MessageRecord rec;  // With structure.
    std::string raw;
  };

  FakeStore() {
    AddFolder(1, "INBOX");
    AddFolder(2,
              "\xC3\x9Cn\xC3\xAF"
              "c\xC3\xB8"
              "d\xC3\xA9");
    AddFolder(3, "Lists");
    AddFolder(4, "Lists/Work");
    folders_[3].set_has_children(true);
  }

  void AddFolder(uint32_t id, const std::string& name) {
    mail::v1::Folder f;
    f.set_id(id);
    f.set_name(name);
    f.set_uidvalidity(7);
    f.set_uidnext(1);
    folders_[id] = f;
  }

  uint32_t Add(const std::string& raw, std::vector<std::string> flags = {}) {
    mail::v1::Folder& f = folders_[1];
    Message m;
    m.raw = raw;
    m.rec.set_uid(f.uidnext());
    for (auto& fl : flags) m.rec.add_flags(fl);
    m.rec.set_modseq(++modseq_);
    m.rec.set_size(raw.size());
    *m.rec.mutable_structure() = mailboxstore::ParseMessage(raw);
    f.set_uidnext(f.uidnext() + 1);
    f.set_messages(f.messages() + 1);
    f.set_highest_modseq(modseq_);
    Log(mail::v1::CHANGE_KIND_APPEND, m.rec.uid(), m.rec.flags());
    inbox_.push_back(std::move(m));
    return f.uidnext() - 1;
  }

  // Another client replaced the flags of `uid`.
  void SetFlags(uint32_t uid, const std::vector<std::string>& flags) {
    for (Message& m : inbox_) {
      if (m.rec.uid() != uid) continue;
      m.rec.clear_flags();
      for (const auto& f : flags) m.rec.add_flags(f);
      m.rec.set_modseq(++modseq_);
      folders_[1].set_highest_modseq(modseq_);
      Log(mail::v1::CHANGE_KIND_FLAGS, uid, m.rec.flags());
    }
  }

  // Removes a message and leaves no trace in the change log (what a lost log entry would
  // look like).
  void DropUnlogged(uint32_t uid) {
    std::erase_if(inbox_, [&](const Message& m) { return m.rec.uid() == uid; });
    folders_[1].set_messages(static_cast<uint32_t>(inbox_.size()));
    folders_[1].set_highest_modseq(++modseq_);
  }

  void Log(mail::v1::ChangeKind kind, uint32_t uid,
           const google::protobuf::RepeatedPtrField<std::string>& flags = {}) {
    mail::v1::ChangeEvent e;
    e.set_folder_id(1);
    e.set_kind(kind);
    e.set_modseq(modseq_);
    e.add_uids(uid);
    *e.mutable_flags() = flags;
    log_.push_back(std::move(e));
  }

  // Drops UIDs without telling any session (another session's expunge while the client was
  // away); the change log has it.
  void Drop(uint32_t uid) {
    DropUnlogged(uid);
    Log(mail::v1::CHANGE_KIND_EXPUNGE, uid);
  }

  std::map<std::string, int> calls;
  std::set<std::string> subscriptions;
  bool changes_trimmed = false;
  std::function<void()> after_get_folder;

  Result<mail::v1::ListFoldersResponse> ListFolders(
      const mail::v1::ListFoldersRequest& req) override {
    ++calls["ListFolders"];
    mail::v1::ListFoldersResponse r;
    if (req.subscribed_only()) {
      for (const std::string& name : subscriptions) {
        mail::v1::Folder* out = r.add_folders();
        out->set_name(name);
        out->set_subscribed(true);
        for (const auto& [id, f] : folders_) {
          if (f.name() == name) *out = f;
        }
        out->set_subscribed(true);
      }
    } else {
      for (const auto& [id, f] : folders_) *r.add_folders() = f;
    }
    co_return r;
  }
  Result<mail::v1::FolderResponse> GetFolder(const mail::v1::GetFolderRequest& req) override {
    ++calls["GetFolder"];
    mail::v1::FolderResponse r;
    for (const auto& [id, f] : folders_) {
      if (f.name() == req.folder().name() || id == req.folder().id()) {
        *r.mutable_folder() = f;
        break;
      }
    }
    if (!r.has_folder()) co_return common::NotFoundError("no folder");
    if (after_get_folder) {
      // Something changes after this answer was read, and its event reaches the session
      // before the answer does.
      auto hook = std::move(after_get_folder);
      after_get_folder = nullptr;
      hook();
      auto ex = co_await asio::this_coro::executor;
      co_await asio::post(ex, asio::use_awaitable);
    }
    co_return r;
  }
  Result<mail::v1::FolderResponse> CreateFolder(const mail::v1::CreateFolderRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }
  Result<mail::v1::DeleteFolderResponse> DeleteFolder(
      const mail::v1::DeleteFolderRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }
  Result<mail::v1::RenameFolderResponse> RenameFolder(
      const mail::v1::RenameFolderRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }
  Result<mail::v1::FolderResponse> SubscribeFolder(
      const mail::v1::SubscribeFolderRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }
  Result<mail::v1::AppendResponse> Append(const mail::v1::AppendRequest& req) override {
    ++calls["Append"];
    std::vector<std::string> flags(req.flags().begin(), req.flags().end());
    uint32_t uid = Add(req.message(), flags);
    mail::v1::AppendResponse r;
    r.set_folder_id(1);
    r.set_uidvalidity(7);
    r.set_uid(uid);
    r.set_modseq(modseq_);
    co_return r;
  }
  Result<mail::v1::DeliverResponse> Deliver(const mail::v1::DeliverRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }
  Result<mail::v1::FetchResponse> Fetch(const mail::v1::FetchRequest& req) override {
    ++calls["Fetch"];
    last_fetch_with_structure = req.with_structure();
    mail::v1::FetchResponse r;
    r.set_uidvalidity(7);
    r.set_highest_modseq(modseq_);
    if (req.folder().id() != 1 && req.folder().name() != "INBOX") co_return r;
    for (const Message& m : inbox_) {
      if (!InRanges(m.rec.uid(), req.uids())) continue;
      if (req.changed_since() != 0 && m.rec.modseq() <= req.changed_since()) continue;
      mail::v1::MessageRecord* out = r.add_messages();
      *out = m.rec;
      if (!req.with_structure()) out->clear_structure();
    }
    co_return r;
  }
  Result<std::string> GetBody(const mail::v1::GetBodyRequest& req) override {
    ++calls["GetBody"];
    for (const Message& m : inbox_) {
      if (m.rec.uid() == req.uid()) co_return m.raw;
    }
    co_return common::NotFoundError("no message");
  }
  // Adds flags to INBOX messages (the only mode the tests use).
  Result<mail::v1::StoreFlagsResponse> StoreFlags(const mail::v1::StoreFlagsRequest& req) override {
    ++calls["StoreFlags"];
    if (req.mode() != mail::v1::FLAG_MODE_ADD) {
      co_return common::Status(common::StatusCode::kUnimplemented, "fake");
    }
    mail::v1::StoreFlagsResponse r;
    for (Message& m : inbox_) {
      if (!InRanges(m.rec.uid(), req.uids())) continue;
      for (const auto& f : req.flags()) {
        if (std::find(m.rec.flags().begin(), m.rec.flags().end(), f) == m.rec.flags().end()) {
          m.rec.add_flags(f);
        }
      }
      m.rec.set_modseq(++modseq_);
      folders_[1].set_highest_modseq(modseq_);
      Log(mail::v1::CHANGE_KIND_FLAGS, m.rec.uid(), m.rec.flags());
      mail::v1::MessageRecord* out = r.add_messages();
      out->set_uid(m.rec.uid());
      *out->mutable_flags() = m.rec.flags();
      out->set_modseq(m.rec.modseq());
    }
    co_return r;
  }
  Result<mail::v1::ExpungeResponse> Expunge(const mail::v1::ExpungeRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }
  Result<mail::v1::CopyResponse> Copy(const mail::v1::CopyRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }
  Result<mail::v1::SearchTextResponse> SearchText(const mail::v1::SearchTextRequest& req) override {
    ++calls["SearchText"];
    mail::v1::SearchTextResponse r;
    for (int i = 0; i < req.criteria_size(); ++i) r.add_matches();
    for (const Message& m : inbox_) {
      if (!InRanges(m.rec.uid(), req.uids())) continue;
      ++searched;
      const std::string body = common::FoldedBodyText(m.raw, m.rec.structure().body(), 10 << 20);
      const std::string headers = common::FoldedHeaderBlock(m.rec.structure());
      for (int i = 0; i < req.criteria_size(); ++i) {
        const std::string needle = common::FoldCase(req.criteria(i).text());
        if (!req.criteria(i).header().empty()) {
          if (common::HeaderFieldContains(m.rec.structure().decoded_headers(),
                                          req.criteria(i).header(), needle)) {
            r.mutable_matches(i)->add_uids(m.rec.uid());
          }
        } else if (body.find(needle) != std::string::npos ||
            (req.criteria(i).include_headers() && headers.find(needle) != std::string::npos)) {
          r.mutable_matches(i)->add_uids(m.rec.uid());
        }
      }
    }
    co_return r;
  }
  Result<mail::v1::GetChangesResponse> GetChanges(const mail::v1::GetChangesRequest& req) override {
    ++calls["GetChanges"];
    if (changes_trimmed) co_return common::Status(common::StatusCode::kOutOfRange, "trimmed");
    mail::v1::GetChangesResponse r;
    for (const auto& e : log_) {
      if (e.modseq() > req.since_modseq()) *r.add_changes() = e;
    }
    r.set_highest_modseq(modseq_);
    co_return r;
  }
  Result<mail::v1::MailboxStatsResponse> MailboxStats(
      const mail::v1::MailboxStatsRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }
  Result<mail::v1::ResolveAddressResponse> ResolveAddress(
      const mail::v1::ResolveAddressRequest&) override {
    co_return common::Status(common::StatusCode::kUnimplemented, "fake");
  }

  int searched = 0;  // Messages SearchText looked at.
  std::vector<mail::v1::ChangeEvent> log_;
  bool last_fetch_with_structure = false;

 private:
  std::map<uint32_t, mail::v1::Folder> folders_;
  std::vector<Message> inbox_;
  uint64_t modseq_ = 0;
};

// A session on a loopback connection; the test is the client, with blocking reads.
class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    asio::ip::tcp::acceptor acceptor(
        io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_ = std::make_unique<asio::ip::tcp::socket>(client_io_);
    client_->connect(acceptor.local_endpoint());
    asio::ip::tcp::socket server = acceptor.accept();
    auto settings = std::make_shared<mail::v1::ProtocolSettings>();
    settings->set_max_command_size(10240);
    settings->set_max_message_size(1 << 20);
    settings->set_authenticated_connection_timeout_seconds(60);
    auto stream = std::make_unique<common::Stream>(std::move(server), nullptr);
    conn_ = std::make_unique<ImapConnection>(std::move(stream), settings, "s1", nullptr);
    mailbox_.set_id(1);
    asio::co_spawn(io_, RunImapSession(*conn_, store_, router_, mailbox_, "L1", &cache_,
                                                &snapshots_, &lists_),
                   asio::detached);
    thread_ = std::thread([this] { io_.run(); });
    EXPECT_EQ(ReadUntil("L1").back().substr(0, 5), "L1 OK");
  }

  void TearDown() override {
    client_->close();
    thread_.join();
  }

  // Lines (without CRLF) up to and including the one starting with `tag `.
  std::vector<std::string> ReadUntil(const std::string& tag) {
    std::vector<std::string> lines;
    for (;;) {
      size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        char chunk[4096];
        boost::system::error_code ec;
        size_t n = client_->read_some(asio::buffer(chunk), ec);
        if (ec) {
          ADD_FAILURE() << "connection closed waiting for " << tag;
          return lines;
        }
        buffer_.append(chunk, n);
      }
      lines.push_back(buffer_.substr(0, eol));
      buffer_.erase(0, eol + 2);
      if (lines.back().rfind(tag + " ", 0) == 0) return lines;
    }
  }

  // Sends "T<n> <command>"; returns the untagged lines and the tagged one last.
  std::vector<std::string> Command(const std::string& command) {
    const std::string tag = "T" + std::to_string(++counter_);
    const std::string line = tag + " " + command + "\r\n";
    asio::write(*client_, asio::buffer(line));
    return ReadUntil(tag);
  }

  FakeStore store_;
  ChangeRouter router_;
  MessageCache cache_{1 << 20};
  FolderSnapshots snapshots_{1 << 20, /*min_messages=*/5};
  FolderLists lists_;
  // What casd's change-stream watcher does with an event.
  void Tell(const mail::v1::ChangeEvent& e) {
    if (ChangesFolderList(e)) lists_.Changed(e.mailbox_id());
    router_.Dispatch(e);
  }
  mail::v1::Mailbox mailbox_;
  asio::io_context io_;
  asio::io_context client_io_;
  std::unique_ptr<asio::ip::tcp::socket> client_;
  std::unique_ptr<ImapConnection> conn_;
  std::thread thread_;
  std::string buffer_;
  int counter_ = 0;
};

std::string Msg(const std::string& subject, const std::string& body) {
  return "From: a@example.test\r\nSubject: " + subject + "\r\n\r\n" + body + "\r\n";
}

TEST_F(SessionTest, SearchBodyIsOneStoreCallWhateverTheNumberOfMessages) {
  for (int i = 1; i <= 300; ++i) {
    store_.Add(Msg("m" + std::to_string(i), i % 100 == 0 ? "the Needle is here" : "hay"),
               i % 2 == 0 ? std::vector<std::string>{"\\Seen"} : std::vector<std::string>{});
  }
  ASSERT_EQ(Command("SELECT INBOX").back().substr(0, 5), "T1 OK");
  store_.calls.clear();
  auto r = Command("SEARCH BODY needle");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], "* SEARCH 100 200 300");
  EXPECT_EQ(store_.calls["Fetch"], 0);  // UIDs and flags come from the view.
  EXPECT_EQ(store_.calls["SearchText"], 1);
  EXPECT_EQ(store_.calls["GetBody"], 0);
  EXPECT_EQ(store_.searched, 300);

  // Cheaper keys narrow the candidates the store reads; TEXT matches headers too.
  store_.calls.clear();
  store_.searched = 0;
  r = Command("UID SEARCH UNSEEN OR TEXT m7 BODY NEEDLE");
  EXPECT_EQ(r[0], "* SEARCH 7 71 73 75 77 79");
  EXPECT_EQ(store_.calls["SearchText"], 1);
  EXPECT_EQ(store_.searched, 150);  // The unseen ones: the store reads TEXT's headers too.
  // Header keys are searched by the store as well: casd reads no message structures.
  store_.calls.clear();
  store_.searched = 0;
  r = Command("SEARCH SUBJECT m300");
  EXPECT_EQ(r[0], "* SEARCH 300");
  EXPECT_EQ(store_.calls["Fetch"], 0);
  EXPECT_EQ(store_.calls["SearchText"], 1);
  EXPECT_EQ(store_.searched, 300);
  r = Command("UID SEARCH SEEN FROM A@EXAMPLE.TEST SUBJECT m10");
  EXPECT_EQ(r[0], "* SEARCH 10 100 102 104 106 108");  // Seen, "m10" anywhere in Subject.
  // SENTON needs the structures; the header key is then evaluated in casd.
  store_.calls.clear();
  r = Command("UID SEARCH SUBJECT m299 NOT SENTON 1-Jan-1990");
  EXPECT_EQ(r[0], "* SEARCH 299");
  EXPECT_EQ(store_.calls["Fetch"], 1);
  EXPECT_TRUE(store_.last_fetch_with_structure);
  EXPECT_EQ(store_.calls["SearchText"], 0);
  // Keys that need neither bodies nor headers never call SearchText.
  store_.calls.clear();
  r = Command("SEARCH SEEN LARGER 1 UID 1:4");
  EXPECT_EQ(r[0], "* SEARCH 2 4");
  EXPECT_EQ(store_.calls["SearchText"], 0);
  EXPECT_EQ(store_.calls["Fetch"], 1);  // The size is not in the view.
  EXPECT_FALSE(store_.last_fetch_with_structure);
  // Flags alone: no store call at all, and flags as this session knows them.
  store_.calls.clear();
  ASSERT_EQ(Command("STORE 3 +FLAGS (\\Flagged)").back().substr(0, 5), "T8 OK");
  store_.calls.clear();
  r = Command("SEARCH FLAGGED UNSEEN");
  EXPECT_EQ(r[0], "* SEARCH 3");
  EXPECT_TRUE(store_.calls.empty());
}

// What never changes (envelope, structure, size) comes from the shared cache the second time;
// flags always come from the session's view, so a cached record never shows old flags.
TEST_F(SessionTest, FetchTakesWhatNeverChangesFromTheCacheAndFlagsFromTheView) {
  store_.Add(Msg("first", "one"));
  store_.Add(Msg("second", "two"));
  store_.Add(Msg("third", "three"));
  ASSERT_EQ(Command("SELECT INBOX").back().substr(0, 5), "T1 OK");
  store_.calls.clear();
  auto r = Command("FETCH 1:3 (ENVELOPE)");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_NE(r[1].find("\"second\""), std::string::npos) << r[1];
  EXPECT_EQ(store_.calls["Fetch"], 1);
  EXPECT_EQ(cache_.entries(), 3u);

  auto again = Command("FETCH 1:3 (ENVELOPE)");
  EXPECT_EQ(store_.calls["Fetch"], 1);  // No second store call.
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(again[i], r[i]);

  ASSERT_EQ(Command("STORE 2 +FLAGS (\\Flagged)").back().substr(0, 5), "T4 OK");
  auto flagged = Command("FETCH 2 (FLAGS ENVELOPE RFC822.SIZE)");
  ASSERT_EQ(flagged.size(), 2u);
  EXPECT_NE(flagged[0].find("FLAGS (\\Flagged)"), std::string::npos) << flagged[0];
  EXPECT_NE(flagged[0].find("RFC822.SIZE " + std::to_string(Msg("second", "two").size())),
            std::string::npos)
      << flagged[0];
  EXPECT_EQ(store_.calls["Fetch"], 1);

  // A body section needs no record at all: only the body is read.
  auto body = Command("FETCH 3 (BODY.PEEK[])");
  EXPECT_EQ(body.back().substr(0, 5), "T6 OK");
  EXPECT_EQ(store_.calls["Fetch"], 1);
  EXPECT_EQ(store_.calls["GetBody"], 1);
}

TEST(MessageCacheTest, KeysAreDistinctAndTheOldestGoesFirstWhenFull) {
  mail::v1::MessageRecord rec;
  rec.set_size(100);
  rec.add_flags("\\Seen");
  rec.set_modseq(9);
  rec.mutable_structure()->mutable_envelope()->set_subject(std::string(1000, 's'));
  const size_t one = rec.SpaceUsedLong();
  MessageCache cache(10 * one);
  for (uint32_t uid = 1; uid <= 5; ++uid) cache.Put({1, 1, 7, uid}, rec);
  auto got = cache.Get({1, 1, 7, 3});
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->size(), 100u);
  EXPECT_EQ(got->flags_size(), 0);  // Flags and MODSEQ are never kept.
  EXPECT_EQ(got->modseq(), 0u);
  EXPECT_EQ(cache.Get({1, 1, 8, 3}), nullptr);  // Another UIDVALIDITY.
  EXPECT_EQ(cache.Get({1, 2, 7, 3}), nullptr);  // Another folder.
  EXPECT_EQ(cache.Get({2, 1, 7, 3}), nullptr);  // Another mailbox.
  for (uint32_t uid = 6; uid <= 40; ++uid) {
    cache.Put({1, 1, 7, uid}, rec);
    cache.Get({1, 1, 7, 3});  // Kept in use: never the oldest.
  }
  EXPECT_LE(cache.bytes(), 10 * one);
  EXPECT_LT(cache.entries(), 10u);
  EXPECT_NE(cache.Get({1, 1, 7, 3}), nullptr);
  EXPECT_NE(cache.Get({1, 1, 7, 40}), nullptr);
  EXPECT_EQ(cache.Get({1, 1, 7, 1}), nullptr);
  MessageCache none(0);
  none.Put({1, 1, 7, 1}, rec);
  EXPECT_EQ(none.Get({1, 1, 7, 1}), nullptr);
}

TEST_F(SessionTest, Imap4rev2AfterEnable) {
  store_.Add(Msg("one", "x"));
  store_.Add(Msg("two", "y"));
  auto caps = Command("CAPABILITY");
  EXPECT_NE(caps[0].find(" IMAP4rev1 IMAP4rev2 "), std::string::npos) << caps[0];
  EXPECT_NE(caps[0].find(" UTF8=ACCEPT"), std::string::npos) << caps[0];
  // IMAP4rev1 until enabled: RECENT, SEARCH, modified UTF-7 names.
  auto sel = Command("SELECT INBOX");
  EXPECT_NE(std::find(sel.begin(), sel.end(), "* 0 RECENT"), sel.end());
  EXPECT_EQ(Command("SEARCH ALL")[0], "* SEARCH 1 2");
  auto list = Command("LIST \"\" \"%\"");
  EXPECT_NE(
      std::find(list.begin(), list.end(), "* LIST (\\HasNoChildren) \"/\" &ANw-n&AO8-c&APg-d&AOk-"),
      list.end());

  auto en = Command("ENABLE IMAP4rev2");
  EXPECT_EQ(en[0], "* ENABLED IMAP4rev2");
  sel = Command("SELECT INBOX");
  for (const auto& line : sel) EXPECT_EQ(line.find("RECENT"), std::string::npos) << line;
  EXPECT_EQ(sel.back().substr(0, 17), "T6 OK [READ-WRITE");
  // SEARCH answers with ESEARCH (RFC 9051 6.4.4), UID marked, ALL omitted when empty.
  auto r = Command("SEARCH ALL");
  EXPECT_EQ(r[0], "* ESEARCH (TAG \"T7\") ALL 1:2");
  r = Command("UID SEARCH SUBJECT two");
  EXPECT_EQ(r[0], "* ESEARCH (TAG \"T8\") UID ALL 2");
  r = Command("UID SEARCH SUBJECT none");
  EXPECT_EQ(r[0], "* ESEARCH (TAG \"T9\") UID");
  r = Command("SEARCH RETURN (COUNT) ALL");
  EXPECT_EQ(r[0], "* ESEARCH (TAG \"T10\") COUNT 2");
  // Mailbox names in UTF-8, both ways.
  list = Command("LIST \"\" \"%\"");
  EXPECT_NE(std::find(list.begin(), list.end(),
                      "* LIST (\\HasNoChildren) \"/\" \"\xC3\x9Cn\xC3\xAF"
                      "c\xC3\xB8"
                      "d\xC3\xA9\""),
            list.end());
  r = Command(
      "STATUS \"\xC3\x9Cn\xC3\xAF"
      "c\xC3\xB8"
      "d\xC3\xA9\" (MESSAGES SIZE DELETED)");
  EXPECT_EQ(r[0],
            "* STATUS \"\xC3\x9Cn\xC3\xAF"
            "c\xC3\xB8"
            "d\xC3\xA9\" (MESSAGES 0 SIZE 0 DELETED 0)");
  EXPECT_EQ(Command("NAMESPACE")[0], "* NAMESPACE ((\"\" \"/\")) NIL NIL");
  EXPECT_EQ(Command("UNSELECT").back(), "T14 OK UNSELECT completed.");
}

TEST_F(SessionTest, SearchResultSavedAndUsedAsDollar) {
  for (int i = 1; i <= 5; ++i) store_.Add(Msg("s" + std::to_string(i), "x"));
  Command("SELECT INBOX");
  // SAVE alone sends no ESEARCH (RFC 5182 2.1).
  auto r = Command("SEARCH RETURN (SAVE) OR SUBJECT s2 SUBJECT s4");
  ASSERT_EQ(r.size(), 1u) << r[0];
  r = Command("FETCH $ (UID)");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], "* 2 FETCH (UID 2)");
  EXPECT_EQ(r[1], "* 4 FETCH (UID 4)");
  r = Command("UID SEARCH $ SUBJECT s4");
  EXPECT_EQ(r[0], "* SEARCH 4");
  r = Command("SEARCH RETURN (SAVE MIN) SUBJECT s5");
  EXPECT_EQ(r[0], "* ESEARCH (TAG \"T5\") MIN 5");
  EXPECT_EQ(Command("SEARCH $")[0], "* SEARCH 5");
}

TEST_F(SessionTest, Utf8AcceptNamesAndSearchCharset) {
  store_.Add(
      Msg("Gr\xC3\xBC\xC3\x9F"
          "e",
          "x"));
  EXPECT_EQ(Command("ENABLE UTF8=ACCEPT")[0], "* ENABLED UTF8=ACCEPT");
  auto r = Command(
      "STATUS \"\xC3\x9Cn\xC3\xAF"
      "c\xC3\xB8"
      "d\xC3\xA9\" (MESSAGES)");
  EXPECT_EQ(r.back().substr(0, 5), "T2 OK") << r.back();
  Command("SELECT INBOX");
  // RFC 6855 3: a CHARSET conflicts with UTF-8 everywhere.
  r = Command("SEARCH CHARSET UTF-8 SUBJECT x");
  EXPECT_EQ(r.back().substr(0, 6), "T4 BAD") << r.back();
  r = Command("SEARCH SUBJECT \"GR\xC3\x9C\"");
  EXPECT_EQ(r[0], "* SEARCH 1");
  // The UTF8 APPEND data item (RFC 6855 4).
  const std::string message = "Subject: \xC3\xA9t\xC3\xA9\r\n\r\nbody\r\n";
  const std::string append =
      "T6 APPEND INBOX UTF8 (~{" + std::to_string(message.size()) + "+}\r\n" + message + ")\r\n";
  ++counter_;
  asio::write(*client_, asio::buffer(append));
  r = ReadUntil("T6");
  EXPECT_NE(r.back().find("OK [APPENDUID 7 2]"), std::string::npos) << r.back();
}

TEST_F(SessionTest, ListSubscribedRecursiveMatchGivesChildInfo) {
  store_.subscriptions = {"INBOX", "Lists/Work", "Gone/Child"};
  auto r = Command("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"");
  ASSERT_EQ(r.size(), 4u);
  // Parents of subscribed mailboxes that "%" hides: CHILDINFO, whether they exist or not.
  EXPECT_EQ(r[0], "* LIST (\\NonExistent) \"/\" Gone (\"CHILDINFO\" (\"SUBSCRIBED\"))");
  EXPECT_EQ(r[1], "* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX");
  EXPECT_EQ(r[2], "* LIST (\\HasChildren) \"/\" Lists (\"CHILDINFO\" (\"SUBSCRIBED\"))");
  EXPECT_EQ(store_.calls["ListFolders"], 2);
  // "*" lists the children themselves (and still marks their parents).
  r = Command("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"Lists*\"");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1], "* LIST (\\HasNoChildren \\Subscribed) \"/\" Lists/Work");
  // REMOTE is accepted; there are no remote mailboxes.
  auto plain = Command("LIST \"\" \"*\"");
  auto remote = Command("LIST (REMOTE) \"\" \"*\"");
  plain.pop_back();
  remote.pop_back();
  EXPECT_EQ(plain, remote);
}

TEST_F(SessionTest, QresyncFallsBackWhenTheChangeLogWasTrimmed) {
  for (int i = 1; i <= 6; ++i) store_.Add(Msg("q" + std::to_string(i), "x"));
  Command("ENABLE QRESYNC");
  auto sel = Command("SELECT INBOX");
  ASSERT_EQ(sel.back().substr(0, 5), "T2 OK");
  Command("UNSELECT");
  // Another client expunged 2 and 5; the store no longer has those changes.
  store_.Drop(2);
  store_.Drop(5);
  store_.changes_trimmed = true;
  auto r = Command("SELECT INBOX (QRESYNC (7 6))");
  EXPECT_EQ(store_.calls["GetChanges"], 1);
  // Every UID below UIDNEXT that is not there is reported (RFC 7162 3.2.5.2 allows it).
  EXPECT_NE(std::find(r.begin(), r.end(), "* VANISHED (EARLIER) 2,5"), r.end());
  // The client's known UIDs narrow it.
  r = Command("SELECT INBOX (QRESYNC (7 6 1:4))");
  EXPECT_NE(std::find(r.begin(), r.end(), "* VANISHED (EARLIER) 2"), r.end());
}

// SELECT of a folder selected before catches up from the shared snapshot with one GetChanges
// instead of reading every record, and shows exactly what a full read would.
TEST_F(SessionTest, SelectAgainCatchesUpFromTheSharedSnapshot) {
  for (int i = 1; i <= 8; ++i) {
    store_.Add(Msg("s" + std::to_string(i), "x"),
               i % 2 == 0 ? std::vector<std::string>{"\\Seen"} : std::vector<std::string>{});
  }
  ASSERT_EQ(Command("SELECT INBOX").back().substr(0, 5), "T1 OK");
  EXPECT_EQ(store_.calls["Fetch"], 1);
  ASSERT_EQ(Command("STORE 1 +FLAGS (\\Answered)").back().substr(0, 5), "T2 OK");
  Command("UNSELECT");
  // Meanwhile other clients: flags of 3 replaced, 4 expunged, a new message 9.
  store_.SetFlags(3, {"\\Flagged", "$Label1"});
  store_.Drop(4);
  store_.Add(Msg("s9", "x"), {"\\Seen"});
  store_.calls.clear();
  auto sel = Command("SELECT INBOX");
  ASSERT_EQ(sel.back().substr(0, 5), "T4 OK");
  EXPECT_EQ(store_.calls["Fetch"], 0);
  EXPECT_EQ(store_.calls["GetChanges"], 1);
  EXPECT_NE(std::find(sel.begin(), sel.end(), "* 8 EXISTS"), sel.end());
  const std::vector<std::string> expected = {
      "* 1 FETCH (UID 1 FLAGS (\\Answered))", "* 2 FETCH (UID 2 FLAGS (\\Seen))",
      "* 3 FETCH (UID 3 FLAGS (\\Flagged $Label1))", "* 4 FETCH (UID 5 FLAGS ())",
      "* 5 FETCH (UID 6 FLAGS (\\Seen))", "* 6 FETCH (UID 7 FLAGS ())",
      "* 7 FETCH (UID 8 FLAGS (\\Seen))", "* 8 FETCH (UID 9 FLAGS (\\Seen))"};
  auto fetched = Command("FETCH 1:* (UID FLAGS)");
  fetched.pop_back();
  EXPECT_EQ(fetched, expected);
  // Unchanged since: not even GetChanges.
  Command("UNSELECT");
  store_.calls.clear();
  ASSERT_EQ(Command("SELECT INBOX").back().substr(0, 5), "T7 OK");
  EXPECT_EQ(store_.calls["Fetch"], 0);
  EXPECT_EQ(store_.calls["GetChanges"], 0);
  // A change the log does not show makes the count disagree: every record is read again.
  Command("UNSELECT");
  store_.DropUnlogged(7);
  store_.calls.clear();
  sel = Command("SELECT INBOX");
  EXPECT_EQ(store_.calls["Fetch"], 1);
  EXPECT_NE(std::find(sel.begin(), sel.end(), "* 7 EXISTS"), sel.end());
  fetched = Command("FETCH 7 (UID)");
  EXPECT_EQ(fetched[0], "* 7 FETCH (UID 9)");
  // The change log no longer reaches back: likewise.
  Command("UNSELECT");
  store_.SetFlags(1, {});
  store_.changes_trimmed = true;
  store_.calls.clear();
  ASSERT_EQ(Command("SELECT INBOX").back().substr(0, 6), "T12 OK");
  EXPECT_EQ(store_.calls["Fetch"], 1);
  EXPECT_EQ(Command("FETCH 1 (FLAGS)")[0], "* 1 FETCH (FLAGS ())");
}

// LIST is answered from the process's copy of the store's last answer to the same question
// until the folder list changes: as the change stream tells, or by a session's own
// CREATE/DELETE/RENAME/(UN)SUBSCRIBE (even one that fails). Counts are always read anew.
TEST_F(SessionTest, ListIsReadAgainOnlyWhenTheFolderListChanged) {
  auto untagged = [](std::vector<std::string> lines) {
    lines.pop_back();
    return lines;
  };
  const auto first = untagged(Command("LIST \"\" \"*\""));
  ASSERT_EQ(first.size(), 4u);
  store_.calls.clear();
  EXPECT_EQ(untagged(Command("LIST \"\" \"*\"")), first);
  EXPECT_EQ(store_.calls["ListFolders"], 0);

  // Flags changed elsewhere: the folder list did not.
  store_.Add(Msg("m1", "x"));
  mail::v1::ChangeEvent flags = store_.log_.back();
  flags.set_mailbox_id(1);
  Tell(flags);
  EXPECT_EQ(untagged(Command("LIST \"\" \"*\"")), first);
  EXPECT_EQ(store_.calls["ListFolders"], 0);

  // Another session created a folder.
  store_.AddFolder(5, "Projects");
  mail::v1::ChangeEvent created;
  created.set_mailbox_id(1);
  created.set_folder_id(5);
  created.set_kind(mail::v1::CHANGE_KIND_FOLDER_CREATED);
  Tell(created);
  auto now = untagged(Command("LIST \"\" \"*\""));
  EXPECT_EQ(store_.calls["ListFolders"], 1);
  EXPECT_NE(std::find(now.begin(), now.end(), "* LIST (\\HasNoChildren) \"/\" Projects"),
            now.end());
  Command("LIST \"\" \"*\"");
  EXPECT_EQ(store_.calls["ListFolders"], 1);

  // LIST RETURN (STATUS) reads the counts every time.
  Command("LIST \"\" \"*\" RETURN (STATUS (MESSAGES))");
  Command("LIST \"\" \"*\" RETURN (STATUS (MESSAGES))");
  EXPECT_EQ(store_.calls["ListFolders"], 3);

  // This session's own SUBSCRIBE (refused by this fake store) and LSUB, a question of its own.
  Command("SUBSCRIBE Projects");
  Command("LIST \"\" \"*\"");
  EXPECT_EQ(store_.calls["ListFolders"], 4);
  Command("LSUB \"\" \"*\"");
  Command("LSUB \"\" \"*\"");
  EXPECT_EQ(store_.calls["ListFolders"], 5);
  // A change-stream reconnect forgets every answer.
  lists_.Clear();
  Command("LSUB \"\" \"*\"");
  EXPECT_EQ(store_.calls["ListFolders"], 6);
}

// A message delivered while SELECT runs, whose event arrives before SELECT has loaded the
// folder, still reaches the client: the event is kept and applied to the new view.
TEST_F(SessionTest, ChangeToldDuringSelectIsNotLost) {
  for (int i = 1; i <= 8; ++i) store_.Add(Msg("s" + std::to_string(i), "x"));
  ASSERT_EQ(Command("SELECT INBOX").back().substr(0, 5), "T1 OK");
  Command("UNSELECT");
  store_.after_get_folder = [this] {
    store_.Add(Msg("late", "x"), {"\\Seen"});
    mail::v1::ChangeEvent e = store_.log_.back();
    e.set_mailbox_id(1);
    router_.Dispatch(e);
  };
  auto sel = Command("SELECT INBOX");  // From the snapshot: the folder as GetFolder saw it.
  ASSERT_EQ(sel.back().substr(0, 5), "T3 OK");
  EXPECT_NE(std::find(sel.begin(), sel.end(), "* 8 EXISTS"), sel.end());
  auto noop = Command("NOOP");
  EXPECT_NE(std::find(noop.begin(), noop.end(), "* 9 EXISTS"), noop.end());
  auto fetched = Command("FETCH 9 (UID FLAGS)");
  EXPECT_EQ(fetched[0], "* 9 FETCH (UID 9 FLAGS (\\Seen))");
}

}  // namespace
}  // namespace cas::imap
