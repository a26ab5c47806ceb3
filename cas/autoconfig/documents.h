// The autoconfiguration documents, as pure functions of ClientSettings: Thunderbird's
// autoconfig (clientConfig 1.1), Outlook's Autodiscover POX response and an Apple
// configuration profile. Every value placed in XML is escaped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cas/autoconfig/client_settings.h"
#include "cas/autoconfig/mail_address.h"

namespace cas::autoconfig {

inline constexpr std::string_view kAutodiscoverResponseNamespace =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
inline constexpr std::string_view kOutlookResponseSchema =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

// & < > " ' as entities; characters XML 1.0 does not allow (controls other than tab, CR, LF)
// are dropped.
std::string XmlEscape(std::string_view text);

// Thunderbird: <clientConfig version="1.1"> with one <emailProvider id="domain">, IMAP then
// POP3 incoming servers and the SMTP outgoing servers, best first; user name %EMAILADDRESS%.
std::string ThunderbirdConfig(const ClientSettings& settings, std::string_view domain);

// Outlook Autodiscover (POX, outlook response schema 2006a): Account type email, action
// settings, one Protocol per type (IMAP, POP3, SMTP) with the best server of each.
std::string AutodiscoverResponse(const ClientSettings& settings, const MailAddress& address);
// An Autodiscover error (600 Invalid Request, 601 Provider is not available).
std::string AutodiscoverError(int code, std::string_view message);

// What an Autodiscover request carries. Fields are empty when the element is absent.
struct AutodiscoverRequest {
  std::string email_address;
  std::string acceptable_response_schema;
};
// Reads <EMailAddress> and <AcceptableResponseSchema> (any namespace prefix) from a request
// body. nullopt when the body is not usable (unterminated markup, bad character references).
std::optional<AutodiscoverRequest> ParseAutodiscoverRequest(std::string_view body);

// An unsigned configuration profile (plist) with one com.apple.mail.managed payload: IMAP if
// offered, else POP; SSL on; password authentication; PayloadUUIDs derived from the address.
// Call only when settings.has_incoming().
std::string AppleProfile(const ClientSettings& settings, const MailAddress& address);

// A name-based (version 5, SHA-1) UUID in the URL namespace of RFC 4122, upper case:
// the same name always gives the same UUID.
std::string NameBasedUuid(std::string_view name);

}  // namespace cas::autoconfig
