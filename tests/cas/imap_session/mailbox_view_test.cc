#include "cas/imap/session/mailbox_view.h"

#include <gtest/gtest.h>

namespace cas::imap {
namespace {

mail::v1::ChangeEvent Event(mail::v1::ChangeKind kind, std::vector<uint32_t> uids, uint64_t modseq,
                            std::vector<std::string> flags = {}, uint32_t folder = 1) {
  mail::v1::ChangeEvent e;
  e.set_kind(kind);
  e.set_folder_id(folder);
  e.set_modseq(modseq);
  for (auto u : uids) e.add_uids(u);
  for (auto& f : flags) e.add_flags(f);
  return e;
}

class MailboxViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mail::v1::Folder f;
    f.set_id(1);
    f.set_uidvalidity(77);
    f.set_uidnext(6);
    f.set_highest_modseq(50);
    mail::v1::FetchResponse r;
    for (uint32_t uid : {1, 2, 4, 5}) {
      auto* m = r.add_messages();
      m->set_uid(uid);
      m->set_modseq(10 + uid);
      if (uid == 1) m->add_flags("\\Seen");
    }
    view_.Load(f, r);
  }
  MailboxView view_;
};

TEST_F(MailboxViewTest, LoadNumbersByUid) {
  EXPECT_EQ(view_.exists(), 4u);
  EXPECT_EQ(view_.SeqOf(4), 3u);
  EXPECT_EQ(view_.SeqOf(3), 0u);
  EXPECT_EQ(view_.AtSeq(4).uid, 5u);
  EXPECT_EQ(view_.UnseenFirstSeq(), 2u);
  EXPECT_EQ(view_.uidnext(), 6u);
}

TEST_F(MailboxViewTest, OtherSessionsChangesWaitForAnAllowedMoment) {
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_EXPUNGE, {2}, 60));
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_FLAGS, {5}, 61, {"\\Flagged"}));
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_APPEND, {6}, 62));
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_APPEND, {9}, 1, {}, /*folder=*/2));  // Other folder.
  // During FETCH/STORE/SEARCH: flag changes only; the numbering does not move.
  auto during = view_.TakeUpdates(false);
  EXPECT_TRUE(during.expunged_seqs.empty());
  EXPECT_FALSE(during.exists.has_value());
  ASSERT_EQ(during.flag_changes.size(), 1u);
  EXPECT_EQ(during.flag_changes[0].first, 4u);
  EXPECT_EQ(view_.exists(), 4u);
  // At NOOP/IDLE: the expunge, then the new message numbered after it.
  auto after = view_.TakeUpdates(true);
  EXPECT_EQ(after.expunged_seqs, std::vector<uint32_t>{2});
  EXPECT_EQ(after.vanished_uids, std::vector<uint32_t>{2});
  ASSERT_TRUE(after.exists.has_value());
  EXPECT_EQ(*after.exists, 4u);
  EXPECT_EQ(view_.AtSeq(4).uid, 6u);
  EXPECT_FALSE(view_.HasPendingUpdates());
}

TEST_F(MailboxViewTest, SeveralExpungesAreNumberedOneAfterAnother) {
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_EXPUNGE, {1, 4, 5}, 60));
  auto u = view_.TakeUpdates(true);
  // 1 is seq 1; then 4 has become seq 2; then 5 has become seq 2.
  EXPECT_EQ(u.expunged_seqs, (std::vector<uint32_t>{1, 2, 2}));
  EXPECT_EQ(view_.exists(), 1u);
  EXPECT_EQ(view_.AtSeq(1).uid, 2u);
}

TEST_F(MailboxViewTest, OwnChangesAreNotToldTwice) {
  view_.ApplyFlags(2, {"\\Seen"}, 70);
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_FLAGS, {2}, 70, {"\\Seen"}));  // Our own, later.
  auto removed = view_.RemoveNow({4});
  EXPECT_EQ(removed, std::vector<uint32_t>{3});
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_EXPUNGE, {4}, 71));  // Our own, later.
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_APPEND, {2}, 20));   // Old news.
  EXPECT_FALSE(view_.HasPendingUpdates());
  auto u = view_.TakeUpdates(true);
  EXPECT_TRUE(u.flag_changes.empty());
  EXPECT_TRUE(u.expunged_seqs.empty());
  EXPECT_FALSE(u.exists.has_value());
}

TEST_F(MailboxViewTest, AppendThenExpungeBeforeBeingToldLeavesNoTrace) {
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_APPEND, {6}, 60));
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_FLAGS, {6}, 61, {"\\Deleted"}));
  view_.OnEvent(Event(mail::v1::CHANGE_KIND_EXPUNGE, {6}, 62));
  auto u = view_.TakeUpdates(true);
  EXPECT_TRUE(u.expunged_seqs.empty());
  EXPECT_FALSE(u.exists.has_value());
  EXPECT_EQ(view_.exists(), 4u);
}

TEST_F(MailboxViewTest, ReconcileAfterAMissedStretchOfEvents) {
  // Meanwhile: 2 expunged, 5 flagged, 7 appended.
  mail::v1::FetchResponse now;
  for (uint32_t uid : {1, 4, 5, 7}) {
    auto* m = now.add_messages();
    m->set_uid(uid);
    m->set_modseq(uid == 5 ? 90 : uid == 7 ? 91 : 10 + uid);
    if (uid == 5) m->add_flags("\\Flagged");
  }
  view_.Reconcile(now);
  auto u = view_.TakeUpdates(true);
  ASSERT_EQ(u.flag_changes.size(), 1u);
  EXPECT_EQ(u.flag_changes[0].first, 4u);  // Seq of UID 5 before the expunge.
  EXPECT_EQ(u.expunged_seqs, std::vector<uint32_t>{2});
  ASSERT_TRUE(u.exists.has_value());
  EXPECT_EQ(*u.exists, 4u);
  EXPECT_EQ(view_.AtSeq(4).uid, 7u);
  view_.Reconcile(now);  // Nothing new the second time.
  EXPECT_FALSE(view_.HasPendingUpdates());
}

}  // namespace
}  // namespace cas::imap
