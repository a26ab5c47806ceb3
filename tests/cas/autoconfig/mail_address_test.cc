#include "cas/autoconfig/mail_address.h"

#include <gtest/gtest.h>

#include <string>

namespace cas::autoconfig {
namespace {

TEST(ParseMailAddressTest, AcceptsDotAtomAddresses) {
  for (const char* text :
       {"alice@example.test", "Alice.Smith+news@Example.TEST", "a@b", "o'brien@example.test",
        "x_y-z{1}@mail-1.example.test", "user@localhost", "tom&jerry@example.test"}) {
    EXPECT_TRUE(ParseMailAddress(text).has_value()) << text;
  }
}

TEST(ParseMailAddressTest, LowersTheDomainOnly) {
  auto a = ParseMailAddress("Alice.Smith@Example.TEST");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->local_part, "Alice.Smith");
  EXPECT_EQ(a->domain, "example.test");
  EXPECT_EQ(a->ToString(), "Alice.Smith@example.test");
}

TEST(ParseMailAddressTest, RefusesWhatCannotBeAnAddress) {
  for (const char* text : {"",
                           "alice",
                           "@example.test",
                           "alice@",
                           "alice@@example.test",
                           "a@b@example.test",
                           ".alice@example.test",
                           "alice.@example.test",
                           "al..ice@example.test",
                           "al ice@example.test",
                           "\"alice\"@example.test",
                           "alice@[192.0.2.1]",
                           "alice@-example.test",
                           "alice@example-.test",
                           "alice@example..test",
                           "alice@example.test.",
                           "alice@exa_mple.test",
                           "<alice@example.test>",
                           "alice@example.test\r\nX-Injected: 1",
                           "al<ice@example.test",
                           "al\"ice@example.test",
                           "j\xc3\xbcrgen@example.test"}) {
    EXPECT_FALSE(ParseMailAddress(text).has_value()) << text;
  }
}

TEST(ParseMailAddressTest, EnforcesRfc5321Lengths) {
  std::string local64(64, 'a');
  std::string label63(63, 'b');
  EXPECT_TRUE(ParseMailAddress(local64 + "@example.test").has_value());
  EXPECT_FALSE(ParseMailAddress(local64 + "a@example.test").has_value());
  EXPECT_TRUE(ParseMailAddress("a@" + label63 + ".test").has_value());
  EXPECT_FALSE(ParseMailAddress("a@" + label63 + "b.test").has_value());
  std::string domain = label63 + "." + label63 + "." + label63 + "." + std::string(57, 'c');
  ASSERT_EQ(domain.size(), 249u);
  EXPECT_TRUE(ParseMailAddress("abcd@" + domain).has_value());    // 254 in all.
  EXPECT_FALSE(ParseMailAddress("abcde@" + domain).has_value());  // 255.
}

TEST(IsHostNameTest, LdhLabels) {
  EXPECT_TRUE(IsHostName("mail.example.test"));
  EXPECT_TRUE(IsHostName("127.0.0.1"));
  EXPECT_TRUE(IsHostName("xn--bcher-kva.example"));
  EXPECT_FALSE(IsHostName(""));
  EXPECT_FALSE(IsHostName("mail..example"));
  EXPECT_FALSE(IsHostName("[::1]"));
  EXPECT_FALSE(IsHostName("mail.example.test:443"));
  EXPECT_FALSE(IsHostName("<script>"));
}

TEST(PercentDecodeTest, DecodesAndRefusesBadEscapes) {
  EXPECT_EQ(PercentDecode("alice%40example.test"), "alice@example.test");
  EXPECT_EQ(PercentDecode("a%2Bb+c"), "a+b+c");  // '+' stays '+'.
  EXPECT_EQ(PercentDecode("%41%6a"), "Aj");
  EXPECT_EQ(PercentDecode(""), "");
  EXPECT_FALSE(PercentDecode("%").has_value());
  EXPECT_FALSE(PercentDecode("%4").has_value());
  EXPECT_FALSE(PercentDecode("abc%4").has_value());
  EXPECT_FALSE(PercentDecode("%zz").has_value());
  EXPECT_FALSE(PercentDecode("a%00b").has_value());
}

TEST(QueryParameterTest, FindsTheParameterWithoutCase) {
  bool malformed = true;
  EXPECT_EQ(QueryParameter("emailaddress=a%40b.test", "emailaddress", &malformed), "a@b.test");
  EXPECT_FALSE(malformed);
  EXPECT_EQ(QueryParameter("x=1&EmailAddress=a@b&y", "emailaddress", &malformed), "a@b");
  EXPECT_EQ(QueryParameter("emailaddress", "emailaddress", &malformed), "");
  EXPECT_EQ(QueryParameter("emailaddress=first&emailaddress=second", "emailaddress", &malformed),
            "first");
  EXPECT_FALSE(QueryParameter("", "emailaddress", &malformed).has_value());
  EXPECT_FALSE(malformed);
  EXPECT_FALSE(QueryParameter("email=a@b&address=c", "emailaddress", &malformed).has_value());
  EXPECT_FALSE(malformed);
  EXPECT_FALSE(QueryParameter("emailaddress=a%4", "emailaddress", &malformed).has_value());
  EXPECT_TRUE(malformed);
}

}  // namespace
}  // namespace cas::autoconfig
