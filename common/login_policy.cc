#include "common/login_policy.h"

#include <cctype>

namespace common {

bool IsLoginAllowed(mail::v1::LoginType type, bool tls_active, LoginMechanism mechanism) {
  if (tls_active) return true;
  switch (type) {
    case mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN:
      return true;
    case mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION:
      return mechanism == LoginMechanism::kScram;
    default:
      return false;  // SecureLogin and anything unknown: TLS first.
  }
}

std::vector<std::string> AdvertisedMechanisms(mail::v1::LoginType type, bool tls_active) {
  std::vector<std::string> out;
  if (IsLoginAllowed(type, tls_active, LoginMechanism::kScram)) out.push_back("SCRAM-SHA-256");
  if (IsLoginAllowed(type, tls_active, LoginMechanism::kCleartext)) out.push_back("PLAIN");
  return out;
}

bool MechanismKind(std::string_view name, LoginMechanism* kind) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "SCRAM-SHA-256") {
    *kind = LoginMechanism::kScram;
    return true;
  }
  if (upper == "PLAIN" || upper == "LOGIN") {
    *kind = LoginMechanism::kCleartext;
    return true;
  }
  return false;
}

std::string LoginTypeName(mail::v1::LoginType type) {
  switch (type) {
    case mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN:
      return "PlainTextLogin";
    case mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION:
      return "PlainTextAuthentication";
    default:
      return "SecureLogin";
  }
}

}  // namespace common
