// FolderSnapshots and ApplyChanges: a snapshot plus the change log gives the folder as it is.
#include "cas/imap/session/folder_snapshots.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cas::imap {
namespace {

MessageEntry E(uint32_t uid, std::vector<std::string> flags, uint64_t modseq) {
  MessageEntry e;
  e.uid = uid;
  e.flags = std::move(flags);
  e.modseq = modseq;
  return e;
}

mail::v1::ChangeEvent Ev(mail::v1::ChangeKind kind, uint32_t folder, uint64_t modseq,
                         std::vector<uint32_t> uids, std::vector<std::string> flags = {}) {
  mail::v1::ChangeEvent e;
  e.set_kind(kind);
  e.set_folder_id(folder);
  e.set_modseq(modseq);
  for (uint32_t u : uids) e.add_uids(u);
  for (auto& f : flags) e.add_flags(f);
  return e;
}

std::string Show(const std::vector<MessageEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    out += std::to_string(e.uid) + "(";
    for (size_t i = 0; i < e.flags.size(); ++i) out += (i ? " " : "") + e.flags[i];
    out += ")@" + std::to_string(e.modseq) + " ";
  }
  return out;
}

TEST(ApplyChangesTest, AppendsFlagsAndExpungesOfThisFolderOnly) {
  std::vector<MessageEntry> entries = {E(1, {}, 1), E(2, {"\\Seen"}, 2), E(5, {}, 3)};
  mail::v1::GetChangesResponse log;
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_FLAGS, 1, 4, {1}, {"\\Flagged"});
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_APPEND, 1, 5, {6}, {"\\Seen"});
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_APPEND, 9, 6, {7});  // Another folder.
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_EXPUNGE, 1, 7, {2});
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_FLAGS, 1, 8, {6}, {});
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_EXPUNGE, 9, 9, {5});  // Another folder.
  ApplyChanges(log, 1, &entries);
  EXPECT_EQ(Show(entries), "1(\\Flagged)@4 5()@3 6()@8 ");
}

// A snapshot that already shows some of the logged changes (the records were read while
// they happened) ends in the same place: applying is idempotent and never goes backwards.
TEST(ApplyChangesTest, ChangesTheSnapshotAlreadyShowsChangeNothing) {
  mail::v1::GetChangesResponse log;
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_APPEND, 1, 4, {3}, {});
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_FLAGS, 1, 5, {1}, {"\\Seen"});
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_FLAGS, 1, 6, {1}, {"\\Seen", "\\Deleted"});
  *log.add_changes() = Ev(mail::v1::CHANGE_KIND_EXPUNGE, 1, 7, {2});
  std::vector<MessageEntry> old_snapshot = {E(1, {}, 1), E(2, {}, 2)};
  std::vector<MessageEntry> newer_snapshot = {E(1, {"\\Seen", "\\Deleted"}, 6), E(3, {}, 4)};
  ApplyChanges(log, 1, &old_snapshot);
  ApplyChanges(log, 1, &newer_snapshot);
  EXPECT_EQ(Show(old_snapshot), "1(\\Seen \\Deleted)@6 3()@4 ");
  EXPECT_EQ(Show(newer_snapshot), Show(old_snapshot));
  // An APPEND below the last UID (a MOVE that kept the order of a slower writer) is inserted
  // in order.
  mail::v1::GetChangesResponse late;
  *late.add_changes() = Ev(mail::v1::CHANGE_KIND_APPEND, 1, 8, {2}, {"x"});
  ApplyChanges(late, 1, &old_snapshot);
  EXPECT_EQ(Show(old_snapshot), "1(\\Seen \\Deleted)@6 2(x)@8 3()@4 ");
}

// A view loaded from a shared snapshot copies it only when it changes: the snapshot other
// sessions use never sees one session's flags, expunges or appends.
TEST(FolderSnapshotsTest, AViewNeverChangesTheSharedSnapshot) {
  auto shared = std::make_shared<MessageList>(
      MessageList{E(1, {}, 1), E(2, {"\\Seen"}, 2), E(3, {}, 3)});
  std::shared_ptr<const MessageList> snapshot = shared;
  const std::string before = Show(*snapshot);
  mail::v1::Folder folder;
  folder.set_id(1);
  folder.set_uidvalidity(7);
  folder.set_uidnext(4);
  folder.set_highest_modseq(3);
  MailboxView a, b;
  a.Load(folder, snapshot, 3);
  b.Load(folder, snapshot, 3);
  EXPECT_EQ(&a.messages(), snapshot.get());  // Shared, not copied.
  a.ApplyFlags(1, {"\\Flagged"}, 4);
  a.RemoveNow({2});
  mail::v1::ChangeEvent append;
  append.set_folder_id(1);
  append.set_kind(mail::v1::CHANGE_KIND_APPEND);
  append.set_modseq(5);
  append.add_uids(4);
  b.OnEvent(append);
  b.TakeUpdates(true);
  EXPECT_EQ(Show(a.messages()), "1(\\Flagged)@4 3()@3 ");
  EXPECT_EQ(Show(b.messages()), before + "4()@5 ");
  EXPECT_EQ(Show(*snapshot), before);
  // Sole owner: changed in place.
  const MessageList* own = &a.messages();
  a.ApplyFlags(3, {"x"}, 6);
  EXPECT_EQ(&a.messages(), own);
}

TEST(FolderSnapshotsTest, KeepsLargeFoldersWithinItsMemory) {
  std::vector<MessageEntry> big;
  for (uint32_t u = 1; u <= 100; ++u) big.push_back(E(u, {"\\Seen"}, u));
  FolderSnapshots snapshots(/*max_bytes=*/3 * 100 * (sizeof(MessageEntry) + 32) + 1000,
                            /*min_messages=*/50);
  snapshots.Put(1, 1, 7, 100, std::make_shared<MessageList>(big));
  auto got = snapshots.Get(1, 1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->uidvalidity, 7u);
  EXPECT_EQ(got->modseq, 100u);
  EXPECT_EQ(Show(*got->entries), Show(big));
  EXPECT_FALSE(snapshots.Get(1, 2).has_value());
  EXPECT_FALSE(snapshots.Get(2, 1).has_value());
  // Small folders are not kept, and a folder that shrank below the limit drops its snapshot.
  std::vector<MessageEntry> small(big.begin(), big.begin() + 10);
  snapshots.Put(1, 3, 7, 10, std::make_shared<MessageList>(small));
  EXPECT_FALSE(snapshots.Get(1, 3).has_value());
  snapshots.Put(1, 1, 7, 101, std::make_shared<MessageList>(small));
  EXPECT_FALSE(snapshots.Get(1, 1).has_value());
  EXPECT_EQ(snapshots.bytes(), 0u);
  // Memory: the least recently used go first.
  for (uint64_t mb = 1; mb <= 5; ++mb) {
    snapshots.Put(mb, 1, 7, 100, std::make_shared<MessageList>(big));
    if (mb == 3) {
      ASSERT_TRUE(snapshots.Get(1, 1).has_value());  // 1 used recently.
    }
  }
  EXPECT_TRUE(snapshots.Get(1, 1).has_value());
  EXPECT_FALSE(snapshots.Get(2, 1).has_value());
  EXPECT_FALSE(snapshots.Get(3, 1).has_value());
  EXPECT_TRUE(snapshots.Get(5, 1).has_value());
  EXPECT_LE(snapshots.bytes(), 3 * 100 * (sizeof(MessageEntry) + 32) + 1000);
}

}  // namespace
}  // namespace cas::imap
