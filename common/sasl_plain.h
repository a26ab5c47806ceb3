// The SASL PLAIN message (RFC 4616): [authzid] NUL authcid NUL passwd, already base64-decoded.
// Shared by IMAP AUTHENTICATE, POP3 AUTH and SMTP AUTH so that the three read it alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace common {

struct SaslPlain {
  std::string authzid;  // Empty when the client did not ask to act as someone else.
  std::string authcid;  // The user name.
  std::string password;
};

// Splits at the first two NULs; nullopt when there are fewer. What follows the second NUL is
// the password as given (the store's check refuses anything that is not one).
std::optional<SaslPlain> ParseSaslPlain(std::string_view message);

}  // namespace common
