// Addresses as autoconfiguration requests carry them (Thunderbird's ?emailaddress=, the
// Autodiscover <EMailAddress>, the Apple profile link): parsed strictly, because they end up
// in the documents we send back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cas::autoconfig {

struct MailAddress {
  std::string local_part;  // As given ("Alice.Smith+news").
  std::string domain;      // Lower case ("example.test").
  std::string ToString() const { return local_part + "@" + domain; }
};

// An RFC 5321 mailbox in dot-atom form with an ASCII host name: "alice@example.test".
// Quoted local parts, address literals ("user@[192.0.2.1]") and non-ASCII are refused, as are
// parts longer than RFC 5321 allows (local part 64, domain 253, whole address 254).
std::optional<MailAddress> ParseMailAddress(std::string_view text);

// A host name made of LDH labels ("mail.example.test", "localhost"); at most 253 characters.
bool IsHostName(std::string_view text);

// "%40" -> "@". Returns nullopt for a malformed escape or a decoded NUL. '+' stays '+' (a
// mail address may contain one; form-encoded spaces would make an invalid address anyway).
std::optional<std::string> PercentDecode(std::string_view text);

// The value of `name` (compared without case) in a query string "a=1&emailaddress=x%40y";
// nullopt when absent or when its escapes are malformed (`*malformed` is then set).
std::optional<std::string> QueryParameter(std::string_view query, std::string_view name,
                                          bool* malformed);

}  // namespace cas::autoconfig
