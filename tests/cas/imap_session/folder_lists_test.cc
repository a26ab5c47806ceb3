// The LIST answers casd keeps for all its sessions (cas/imap/session/folder_lists.h): an
// answer is used only until the mailbox's folder list changes, and one read while a change
// was made is never kept.
#include "cas/imap/session/folder_lists.h"

#include <gtest/gtest.h>

namespace cas::imap {
namespace {

mail::v1::ListFoldersResponse Answer(const std::string& name) {
  mail::v1::ListFoldersResponse r;
  r.add_folders()->set_name(name);
  return r;
}

mail::v1::ListFoldersRequest Question(const std::string& pattern, bool subscribed) {
  mail::v1::ListFoldersRequest q;
  q.set_pattern(pattern);
  q.set_subscribed_only(subscribed);
  return q;
}

TEST(FolderListsTest, AnswerKeptUntilTheFolderListChanges) {
  FolderLists lists;
  const std::string all = FolderLists::Key(Question("*", false));
  EXPECT_FALSE(lists.Get(1, all));
  uint64_t g = lists.Generation(1);
  lists.Put(1, all, g, Answer("INBOX"));
  ASSERT_TRUE(lists.Get(1, all));
  EXPECT_EQ(lists.Get(1, all)->folders(0).name(), "INBOX");
  // Another question, another mailbox: not answered by it.
  EXPECT_FALSE(lists.Get(1, FolderLists::Key(Question("*", true))));
  EXPECT_FALSE(lists.Get(1, FolderLists::Key(Question("%", false))));
  EXPECT_FALSE(lists.Get(2, all));
  lists.Changed(2);
  EXPECT_TRUE(lists.Get(1, all));
  lists.Changed(1);
  EXPECT_FALSE(lists.Get(1, all));
  lists.Put(1, all, lists.Generation(1), Answer("INBOX"));
  lists.Clear();
  EXPECT_FALSE(lists.Get(1, all));
}

TEST(FolderListsTest, AnswerReadDuringAChangeIsNotKept) {
  FolderLists lists;
  const std::string all = FolderLists::Key(Question("*", false));
  const uint64_t before = lists.Generation(1);
  lists.Changed(1);  // A CREATE lands while the store answers the LIST.
  lists.Put(1, all, before, Answer("old"));
  EXPECT_FALSE(lists.Get(1, all));
  // Also after a reconnect forgot everything, or the mailbox was pushed out and back.
  const uint64_t g = lists.Generation(1);
  lists.Clear();
  lists.Generation(1);
  lists.Put(1, all, g, Answer("old"));
  EXPECT_FALSE(lists.Get(1, all));
}

TEST(FolderListsTest, MemoryIsBounded) {
  FolderLists lists(/*max_mailboxes=*/2, /*max_answers_per_mailbox=*/2);
  for (uint64_t mb = 1; mb <= 3; ++mb) {
    lists.Put(mb, "k", lists.Generation(mb), Answer("x"));
  }
  EXPECT_EQ(lists.mailboxes(), 2u);
  EXPECT_FALSE(lists.Get(1, "k"));  // Least recently used went first.
  EXPECT_TRUE(lists.Get(3, "k"));
  const uint64_t g = lists.Generation(3);
  lists.Put(3, "a", g, Answer("a"));
  lists.Put(3, "b", g, Answer("b"));  // A third question: the others go.
  EXPECT_TRUE(lists.Get(3, "b"));
  EXPECT_FALSE(lists.Get(3, "k"));
}

}  // namespace
}  // namespace cas::imap
