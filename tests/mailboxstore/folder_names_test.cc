#include "mailboxstore/core/folder_names.h"

#include <gtest/gtest.h>

namespace mailboxstore {
namespace {

TEST(FolderNamesTest, InboxIsCaseInsensitive) {
  EXPECT_EQ(NormalizeFolderName("inbox"), "INBOX");
  EXPECT_EQ(NormalizeFolderName("InBoX/Sub"), "INBOX/Sub");
  EXPECT_EQ(NormalizeFolderName("Inboxes"), "Inboxes");
  EXPECT_EQ(NormalizeFolderName("Archive/inbox"), "Archive/inbox");
}

TEST(FolderNamesTest, Validation) {
  EXPECT_TRUE(ValidateFolderName("Work/Projects 2026").ok());
  EXPECT_TRUE(ValidateFolderName("Ünïcødé/日本語").ok());
  for (const char* bad : {"", "/a", "a/", "a//b", "a\tb", "a\x7f"}) {
    EXPECT_FALSE(ValidateFolderName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateFolderName("\xff\xfe").ok());        // Not UTF-8.
  EXPECT_FALSE(ValidateFolderName("\xc0\xaf").ok());        // Overlong.
  EXPECT_FALSE(ValidateFolderName("\xed\xa0\x80").ok());    // Surrogate.
  EXPECT_FALSE(ValidateFolderName("abc\xe6\x97").ok());     // Truncated sequence.
  EXPECT_FALSE(ValidateFolderName(std::string(256, 'a')).ok());
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += (i ? "/x" : "x");
  EXPECT_FALSE(ValidateFolderName(deep).ok());
}

TEST(FolderNamesTest, ListPatterns) {
  struct Case {
    const char* pattern;
    const char* name;
    bool match;
  } cases[] = {
      {"*", "a/b/c", true},      {"%", "a", true},        {"%", "a/b", false},
      {"a/%", "a/b", true},      {"a/%", "a/b/c", false}, {"a/*", "a/b/c", true},
      {"*c", "a/b/c", true},     {"%c", "a/b/c", false},  {"a%c", "abc", true},
      {"INBOX", "INBOX", true},  {"", "INBOX", false},    {"*/%", "a/b", true},
      {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(MatchFolderPattern(c.pattern, c.name), c.match) << c.pattern << " " << c.name;
  }
  // Many wildcards on a long name stay fast (no exponential backtracking).
  std::string name(1000, 'a');
  EXPECT_FALSE(MatchFolderPattern("*a*a*a*a*a*a*a*a*a*b", name));
}

TEST(FolderNamesTest, ReferenceAndDescendants) {
  EXPECT_EQ(CombineListPattern("", "%"), "%");
  EXPECT_EQ(CombineListPattern("Work/", "%"), "Work/%");
  EXPECT_EQ(CombineListPattern("Work/", "/Other"), "Other");
  EXPECT_TRUE(IsDescendant("a/b", "a"));
  EXPECT_FALSE(IsDescendant("ab", "a"));
  EXPECT_FALSE(IsDescendant("a", "a"));
}

}  // namespace
}  // namespace mailboxstore
