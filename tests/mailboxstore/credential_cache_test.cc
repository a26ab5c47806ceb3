#include "mailboxstore/core/credential_cache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace mailboxstore {
namespace {

using std::chrono::seconds;

class CredentialCacheTest : public ::testing::Test {
 protected:
  VerifiedCredentialCache Make(CredentialCacheOptions options) {
    return VerifiedCredentialCache(options, [this] { return now_; });
  }
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::time_point() + seconds(1000);
};

TEST_F(CredentialCacheTest, RemembersOnlyTheSamePasswordForTheSameVerifier) {
  auto cache = Make({});
  EXPECT_FALSE(cache.Contains(7, "stored-key-1", "pencil"));
  cache.Remember(7, "stored-key-1", "pencil");
  EXPECT_TRUE(cache.Contains(7, "stored-key-1", "pencil"));
  EXPECT_FALSE(cache.Contains(7, "stored-key-1", "pencil2"));
  EXPECT_FALSE(cache.Contains(7, "stored-key-1", "Pencil"));
  EXPECT_FALSE(cache.Contains(8, "stored-key-1", "pencil"));
  // A new password gives a new StoredKey: the old entry no longer matches.
  EXPECT_FALSE(cache.Contains(7, "stored-key-2", "pencil"));
  // Field boundaries count: the same bytes split differently are a different entry.
  EXPECT_FALSE(cache.Contains(7, "stored-key-1p", "encil"));
}

TEST_F(CredentialCacheTest, EntriesExpireAfterTheTtl) {
  auto cache = Make({.ttl = seconds(300)});
  cache.Remember(1, "k", "pw");
  now_ += seconds(299);
  EXPECT_TRUE(cache.Contains(1, "k", "pw"));
  now_ += seconds(1);
  EXPECT_FALSE(cache.Contains(1, "k", "pw"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(CredentialCacheTest, ZeroTtlTurnsItOff) {
  auto cache = Make({.ttl = seconds(0)});
  cache.Remember(1, "k", "pw");
  EXPECT_FALSE(cache.Contains(1, "k", "pw"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(CredentialCacheTest, ForgetDropsOneMailboxOnly) {
  auto cache = Make({});
  cache.Remember(1, "k", "a");
  cache.Remember(1, "k", "b");
  cache.Remember(2, "k", "a");
  cache.Forget(1);
  EXPECT_FALSE(cache.Contains(1, "k", "a"));
  EXPECT_FALSE(cache.Contains(1, "k", "b"));
  EXPECT_TRUE(cache.Contains(2, "k", "a"));
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(CredentialCacheTest, StaysWithinItsBoundDroppingTheOldestFirst) {
  auto cache = Make({.ttl = seconds(300), .max_entries = 3});
  for (int i = 0; i < 10; ++i) {
    cache.Remember(i, "k", "pw");
    now_ += seconds(1);
    EXPECT_LE(cache.size(), 3u);
  }
  EXPECT_TRUE(cache.Contains(9, "k", "pw"));
  EXPECT_TRUE(cache.Contains(8, "k", "pw"));
  EXPECT_TRUE(cache.Contains(7, "k", "pw"));
  EXPECT_FALSE(cache.Contains(6, "k", "pw"));
  EXPECT_FALSE(cache.Contains(0, "k", "pw"));
}

TEST_F(CredentialCacheTest, RememberingAgainRenewsTheEntry) {
  auto cache = Make({.ttl = seconds(10)});
  cache.Remember(1, "k", "pw");
  now_ += seconds(8);
  cache.Remember(1, "k", "pw");
  now_ += seconds(8);
  EXPECT_TRUE(cache.Contains(1, "k", "pw"));
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace mailboxstore
