// What transportd reads from a message's header: the From addresses (checked against the
// authenticated user, like MAIL FROM) and the Subject (shown by Get-Message).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace transport {

// The addr-specs of the From field(s) ("alice@example.test"), group members included. Parses
// the header section only.
std::vector<std::string> FromAddresses(std::string_view message);

// The Subject field, unfolded, RFC 2047 words left as written; "" when there is none.
std::string SubjectOf(std::string_view message);

// The header section: everything up to and including the first empty line (or all of it).
std::string_view HeaderSection(std::string_view message);

}  // namespace transport
