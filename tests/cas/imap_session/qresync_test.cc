#include "cas/imap/session/qresync.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "cas/imap/codec/response.h"

namespace cas::imap {
namespace {

SequenceSet Set(const char* text) { return *ParseSequenceSet(text); }

// UIDs 1 2 4 5 8 10 15 (sequence numbers 1..7), UIDNEXT 21; MODSEQ of each is 100 + UID.
class QresyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mail::v1::Folder f;
    f.set_id(3);
    f.set_uidvalidity(77);
    f.set_uidnext(21);
    f.set_highest_modseq(130);
    mail::v1::FetchResponse r;
    for (uint32_t uid : {1, 2, 4, 5, 8, 10, 15}) {
      auto* m = r.add_messages();
      m->set_uid(uid);
      m->set_modseq(100 + uid);
      m->add_flags(uid == 10 ? "\\Flagged" : "\\Seen");
    }
    view_.Load(f, r);
  }

  QresyncParams Params(uint64_t modseq, const char* known = nullptr) {
    QresyncParams p;
    p.uid_validity = 77;
    p.mod_seq = modseq;
    if (known != nullptr) p.known_uids = Set(known);
    return p;
  }

  // "seq:uid" pairs of the FETCH list, e.g. "6:10 7:15".
  static std::string Changed(const QresyncReply& r) {
    std::string out;
    for (const auto& [seq, m] : r.changed) {
      out += (out.empty() ? "" : " ") + std::to_string(seq) + ":" + std::to_string(m.uid);
    }
    return out;
  }

  MailboxView view_;
  // What the change log lists as expunged: UID 5 too, although the view still has it (its
  // expunge raced with SELECT and is told later as a plain VANISHED).
  std::optional<std::vector<uint32_t>> log_ = std::vector<uint32_t>{3, 5, 6, 7, 9, 12};
};

TEST_F(QresyncTest, ChangeLogGivesExactVanishedAndChangedMessages) {
  QresyncReply r = ComputeQresync(view_, Params(108), log_);
  EXPECT_EQ(FormatRanges(r.vanished), "3,6:7,9,12");
  EXPECT_EQ(Changed(r), "6:10 7:15");
  ASSERT_EQ(r.changed.size(), 2u);
  EXPECT_EQ(r.changed[0].second.flags, std::vector<std::string>{"\\Flagged"});
  EXPECT_EQ(r.changed[0].second.modseq, 110u);
  EXPECT_EQ(Vanished(r.vanished, true), "* VANISHED (EARLIER) 3,6:7,9,12\r\n");
}

TEST_F(QresyncTest, KnownUidsRestrictBothLists) {
  QresyncReply r = ComputeQresync(view_, Params(100, "12,1:6"), log_);
  EXPECT_EQ(FormatRanges(r.vanished), "3,6,12");
  EXPECT_EQ(Changed(r), "1:1 2:2 3:4 4:5");
  r = ComputeQresync(view_, Params(108, "1:9"), log_);
  EXPECT_EQ(FormatRanges(r.vanished), "3,6:7,9");
  EXPECT_EQ(Changed(r), "");
}

TEST_F(QresyncTest, NothingChangedSinceTheClientsModseq) {
  QresyncReply r = ComputeQresync(view_, Params(130), std::vector<uint32_t>{});
  EXPECT_TRUE(r.vanished.empty());
  EXPECT_TRUE(r.changed.empty());
  EXPECT_EQ(Vanished(r.vanished, true), "");
}

TEST_F(QresyncTest, WithoutChangeLogEveryMissingKnownUidBelowUidnextIsVanished) {
  QresyncReply r = ComputeQresync(view_, Params(108), std::nullopt);
  EXPECT_EQ(FormatRanges(r.vanished), "3,6:7,9,11:14,16:20");
  EXPECT_EQ(Changed(r), "6:10 7:15");
  r = ComputeQresync(view_, Params(108, "1:9,30:4294967295"), std::nullopt);
  EXPECT_EQ(FormatRanges(r.vanished), "3,6:7,9");
  r = ComputeQresync(view_, Params(108, "15"), std::nullopt);
  EXPECT_TRUE(r.vanished.empty());
  EXPECT_EQ(Changed(r), "7:15");
}

TEST_F(QresyncTest, SequenceMatchDataNarrowsTheConservativeAnswer) {
  QresyncParams p = Params(108, "1:20");
  // Seq 4 is still UID 5; seq 6 is no longer UID 11: nothing at or below UID 5 has gone.
  p.seq_match = {Set("1,4,6"), Set("1,5,11")};
  QresyncReply r = ComputeQresync(view_, p, std::nullopt);
  EXPECT_EQ(FormatRanges(r.vanished), "6:7,9,11:14,16:20");
  // Runs of the two sets are paired number by number; every pair matches here.
  p.seq_match = {Set("1:5"), Set("1:2,4:5,8")};
  r = ComputeQresync(view_, p, std::nullopt);
  EXPECT_EQ(FormatRanges(r.vanished), "9,11:14,16:20");
  // The client thinks 1:5 were UIDs 1:5: only 1 and 2 still match.
  p.seq_match = {Set("1:5"), Set("1:5")};
  r = ComputeQresync(view_, p, std::nullopt);
  EXPECT_EQ(FormatRanges(r.vanished), "3,6:7,9,11:14,16:20");
  // Sequence numbers beyond the mailbox match nothing.
  p.seq_match = {Set("8:9"), Set("20:21")};
  r = ComputeQresync(view_, p, std::nullopt);
  EXPECT_EQ(FormatRanges(r.vanished), "3,6:7,9,11:14,16:20");
  // With the change log the exact answer is used and the match data is not needed.
  p.seq_match = {Set("7"), Set("15")};
  r = ComputeQresync(view_, p, log_);
  EXPECT_EQ(FormatRanges(r.vanished), "3,6:7,9,12");
}

TEST_F(QresyncTest, VanishedUidsForUidFetch) {
  // UID FETCH 3:9 (FLAGS) (CHANGEDSINCE m VANISHED)
  EXPECT_EQ(FormatRanges(VanishedUids(view_, Set("3:9").Resolve(20), log_)), "3,6:7,9");
  EXPECT_EQ(FormatRanges(VanishedUids(view_, Set("10:*").Resolve(20), log_)), "12");
  EXPECT_EQ(FormatRanges(VanishedUids(view_, Set("16:*").Resolve(20), std::nullopt)), "16:20");
  EXPECT_TRUE(VanishedUids(view_, {}, log_).empty());
}

TEST(QresyncEmptyFolderTest, NothingToReport) {
  mail::v1::Folder f;
  f.set_id(1);
  f.set_uidvalidity(5);
  f.set_uidnext(1);
  MailboxView view;
  view.Load(f, mail::v1::FetchResponse());
  QresyncParams p;
  p.uid_validity = 5;
  p.mod_seq = 1;
  p.known_uids = Set("1:100");
  QresyncReply r = ComputeQresync(view, p, std::nullopt);
  EXPECT_TRUE(r.vanished.empty());
  EXPECT_TRUE(r.changed.empty());
}

TEST(QresyncChangeLogTest, ExpungedUidsOfOneFolder) {
  mail::v1::GetChangesResponse changes;
  auto add = [&](mail::v1::ChangeKind kind, uint32_t folder, std::vector<uint32_t> uids) {
    auto* e = changes.add_changes();
    e->set_kind(kind);
    e->set_folder_id(folder);
    for (uint32_t u : uids) e->add_uids(u);
  };
  add(mail::v1::CHANGE_KIND_EXPUNGE, 3, {7, 9});
  add(mail::v1::CHANGE_KIND_FLAGS, 3, {4});
  add(mail::v1::CHANGE_KIND_EXPUNGE, 4, {1});
  add(mail::v1::CHANGE_KIND_APPEND, 3, {20});
  add(mail::v1::CHANGE_KIND_EXPUNGE, 3, {2, 9});
  EXPECT_EQ(ExpungedUids(changes, 3), (std::vector<uint32_t>{2, 7, 9}));
  EXPECT_EQ(ExpungedUids(changes, 5), std::vector<uint32_t>{});
}

}  // namespace
}  // namespace cas::imap
