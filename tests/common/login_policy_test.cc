#include "common/login_policy.h"

#include <gtest/gtest.h>

namespace common {
namespace {

using mail::v1::LoginType;

TEST(LoginPolicyTest, MatrixOfTypesTlsAndMechanisms) {
  struct Case {
    LoginType type;
    bool tls;
    bool cleartext, scram;
  } cases[] = {
      {mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN, false, true, true},
      {mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN, true, true, true},
      {mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION, false, false, true},
      {mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION, true, true, true},
      {mail::v1::LOGIN_TYPE_SECURE_LOGIN, false, false, false},
      {mail::v1::LOGIN_TYPE_SECURE_LOGIN, true, true, true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsLoginAllowed(c.type, c.tls, LoginMechanism::kCleartext), c.cleartext)
        << LoginTypeName(c.type) << " tls=" << c.tls;
    EXPECT_EQ(IsLoginAllowed(c.type, c.tls, LoginMechanism::kScram), c.scram)
        << LoginTypeName(c.type) << " tls=" << c.tls;
  }
}

TEST(LoginPolicyTest, AdvertisedMechanismsFollowThePolicy) {
  EXPECT_TRUE(AdvertisedMechanisms(mail::v1::LOGIN_TYPE_SECURE_LOGIN, false).empty());
  EXPECT_EQ(AdvertisedMechanisms(mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION, false),
            std::vector<std::string>{"SCRAM-SHA-256"});
  EXPECT_EQ(AdvertisedMechanisms(mail::v1::LOGIN_TYPE_SECURE_LOGIN, true),
            (std::vector<std::string>{"SCRAM-SHA-256", "PLAIN"}));
  LoginMechanism kind;
  EXPECT_TRUE(MechanismKind("scram-sha-256", &kind));
  EXPECT_EQ(kind, LoginMechanism::kScram);
  EXPECT_TRUE(MechanismKind("PLAIN", &kind));
  EXPECT_EQ(kind, LoginMechanism::kCleartext);
  EXPECT_FALSE(MechanismKind("CRAM-MD5", &kind));
  EXPECT_EQ(LoginTypeName(mail::v1::LOGIN_TYPE_SECURE_LOGIN), "SecureLogin");
}

}  // namespace
}  // namespace common
