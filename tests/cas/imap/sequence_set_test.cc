#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "cas/imap/codec/command.h"

namespace cas::imap {
namespace {

constexpr uint32_t kStar = SequenceSet::kStar;

SequenceSet Parse(std::string_view text) {
  std::optional<SequenceSet> set = ParseSequenceSet(text);
  EXPECT_TRUE(set.has_value()) << text;
  return set.value_or(SequenceSet{});
}

TEST(SequenceSetTest, ParsesRangesAsWritten) {
  EXPECT_EQ(Parse("1"), (SequenceSet{false, {{1, 1}}}));
  EXPECT_EQ(Parse("1:3"), (SequenceSet{false, {{1, 3}}}));
  EXPECT_EQ(Parse("3:1"), (SequenceSet{false, {{3, 1}}}));
  EXPECT_EQ(Parse("*"), (SequenceSet{false, {{kStar, kStar}}}));
  EXPECT_EQ(Parse("1:*"), (SequenceSet{false, {{1, kStar}}}));
  EXPECT_EQ(Parse("*:4"), (SequenceSet{false, {{kStar, 4}}}));
  EXPECT_EQ(Parse("1,3:5,*"), (SequenceSet{false, {{1, 1}, {3, 5}, {kStar, kStar}}}));
  EXPECT_EQ(Parse("4294967295"), (SequenceSet{false, {{4294967295u, 4294967295u}}}));
  EXPECT_EQ(Parse("$"), (SequenceSet{true, {}}));
}

TEST(SequenceSetTest, RejectsMalformedSets) {
  const char* bad[] = {"",    "0",  "0:5",        "1:",  ":1",   "1,,2", "1,",
                       ",1",  "01", "4294967296", "$,1", "1:$",  "$$",   "a",
                       "1 2", "**", "1:2:3",      "-1",  "1:-2", "+1"};
  for (const char* text : bad) EXPECT_FALSE(ParseSequenceSet(text).has_value()) << text;
  EXPECT_TRUE(ParseSequenceSet("1,2", 2).has_value());
  EXPECT_FALSE(ParseSequenceSet("1,2,3", 2).has_value());
}

TEST(SequenceSetTest, ToStringRoundTrips) {
  for (const char* text : {"1", "1:3", "3:1", "*", "1:*", "*:4", "1,3:5,*", "$", "7,7,7"}) {
    EXPECT_EQ(Parse(text).ToString(), text);
  }
}

TEST(SequenceSetTest, ResolvesAgainstTheLargestNumber) {
  using R = std::vector<SeqRange>;
  EXPECT_EQ(Parse("1:*").Resolve(10), (R{{1, 10}}));
  EXPECT_EQ(Parse("*").Resolve(10), (R{{10, 10}}));
  EXPECT_EQ(Parse("*").Resolve(0), R{});
  EXPECT_EQ(Parse("5:2").Resolve(10), (R{{2, 5}}));
  EXPECT_EQ(Parse("6,1,2,3,5:7").Resolve(10), (R{{1, 3}, {5, 7}}));
  EXPECT_EQ(Parse("1:4,5:6").Resolve(10), (R{{1, 6}}));  // Adjacent ranges merge.
  EXPECT_EQ(Parse("3:8,1:5").Resolve(10), (R{{1, 8}}));
  // "n:*" with n beyond the largest number still means the largest (RFC 3501 UID ranges).
  EXPECT_EQ(Parse("8:*").Resolve(5), (R{{5, 5}}));
  EXPECT_EQ(Parse("20:30").Resolve(10), R{});
  EXPECT_EQ(Parse("9:30").Resolve(10), (R{{9, 10}}));
  EXPECT_EQ(Parse("$").Resolve(10), R{});
  EXPECT_EQ(Parse("1:4294967295").Resolve(4294967295u), (R{{1, 4294967295u}}));
  EXPECT_EQ(Parse("4294967295,1:4294967294").Resolve(4294967295u), (R{{1, 4294967295u}}));
}

TEST(SequenceSetTest, ContainsMaxExplicitAndStar) {
  const SequenceSet set = Parse("2:4,9:*");
  EXPECT_FALSE(set.Contains(1, 12));
  EXPECT_TRUE(set.Contains(3, 12));
  EXPECT_FALSE(set.Contains(5, 12));
  EXPECT_TRUE(set.Contains(12, 12));
  EXPECT_FALSE(set.Contains(13, 12));
  EXPECT_TRUE(set.Contains(7, 7));  // "9:*" with 7 messages is 7:9.
  EXPECT_FALSE(set.Contains(0, 12));
  EXPECT_EQ(set.MaxExplicit(), 9u);
  EXPECT_TRUE(set.HasStar());
  EXPECT_FALSE(Parse("1:5").HasStar());
  EXPECT_EQ(Parse("*").MaxExplicit(), 0u);
}

}  // namespace
}  // namespace cas::imap
