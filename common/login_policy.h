// The one place that decides how a client may log in (Set-PopSettings/Set-ImapSettings
// -LoginType, and the SMTP receive connectors' BasicAuthRequireTLS).
//
// | LoginType               | before TLS                          | with TLS |
// |-------------------------|-------------------------------------|----------|
// | PlainTextLogin          | everything, cleartext included       | all      |
// | PlainTextAuthentication | only SCRAM (never reveals password)  | all      |
// | SecureLogin (default)   | nothing                              | all      |
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "settings.pb.h"

namespace common {

enum class LoginMechanism {
  kCleartext,  // USER/PASS, IMAP LOGIN, AUTH PLAIN, AUTH LOGIN: the password crosses the wire.
  kScram,      // SCRAM-SHA-256: the password never crosses the wire.
};

bool IsLoginAllowed(mail::v1::LoginType type, bool tls_active, LoginMechanism mechanism);

// SASL mechanisms to advertise on a connection, in preference order ("SCRAM-SHA-256",
// "PLAIN"); empty when no login is possible before TLS.
std::vector<std::string> AdvertisedMechanisms(mail::v1::LoginType type, bool tls_active);

// SASL mechanism name -> kind; false for mechanisms we do not offer.
bool MechanismKind(std::string_view name, LoginMechanism* kind);

// "SecureLogin", "PlainTextLogin", "PlainTextAuthentication".
std::string LoginTypeName(mail::v1::LoginType type);

}  // namespace common
