// Key encoding: byte order must be numeric order so that prefix scans come out sorted.
#include "mailboxstore/core/keys.h"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace mailboxstore::keys {
namespace {

TEST(KeysTest, MessageKeysSortByMailboxFolderUid) {
  std::mt19937_64 rng(7);
  struct K {
    uint64_t mb;
    uint32_t folder, uid;
  };
  std::vector<K> ks;
  for (int i = 0; i < 2000; ++i) {
    ks.push_back({rng() % 5 == 0 ? UINT64_MAX - (rng() % 3) : rng() % 1000,
                  static_cast<uint32_t>(rng() % 300), static_cast<uint32_t>(rng())});
  }
  std::vector<std::string> encoded;
  for (const auto& k : ks) encoded.push_back(MessageKey(k.mb, k.folder, k.uid));
  std::sort(ks.begin(), ks.end(), [](const K& a, const K& b) {
    return std::tie(a.mb, a.folder, a.uid) < std::tie(b.mb, b.folder, b.uid);
  });
  std::sort(encoded.begin(), encoded.end());
  for (size_t i = 0; i < ks.size(); ++i) {
    EXPECT_EQ(encoded[i], MessageKey(ks[i].mb, ks[i].folder, ks[i].uid));
    EXPECT_EQ(MessageKeyUid(encoded[i]), ks[i].uid);
  }
}

TEST(KeysTest, PrefixesBoundTheirRecords) {
  std::string prefix = MessagePrefix(42, 7);
  EXPECT_EQ(MessageKey(42, 7, 0).substr(0, prefix.size()), prefix);
  EXPECT_EQ(MessageKey(42, 7, UINT32_MAX).substr(0, prefix.size()), prefix);
  EXPECT_LT(MessageKey(42, 7, UINT32_MAX), MessagePrefix(42, 8));
  EXPECT_LT(ChangeKey(42, UINT64_MAX, UINT32_MAX), MailboxKey(43));
  EXPECT_EQ(ChangeKeyModseq(ChangeKey(1, 123456789012345ull, 3)), 123456789012345ull);
  EXPECT_EQ(FolderKeyId(FolderKey(9, 0xdeadbeef)), 0xdeadbeefu);
}

TEST(KeysTest, CountsRoundTripIncludingNegative) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, INT64_MAX, INT64_MIN, int64_t{300}}) {
    EXPECT_EQ(DecodeCount(EncodeCount(v)), v);
  }
  EXPECT_EQ(DecodeCount("short"), 0);
}

}  // namespace
}  // namespace mailboxstore::keys
