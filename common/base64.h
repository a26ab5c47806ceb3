// Base64 (RFC 4648 section 4, standard alphabet, with padding) for SASL exchanges.
//
// The decoder is strict because it reads untrusted client input: it accepts only the
// canonical encoding (length a multiple of 4, '=' only as one or two final padding
// characters, zero padding bits) and no whitespace or line breaks. Any other input yields
// std::nullopt; no input makes it crash or read out of bounds.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace common {

// Encodes arbitrary bytes. The empty input encodes to the empty string.
std::string Base64Encode(std::string_view data);

// Decodes the canonical encoding of some bytes; std::nullopt for anything else. The empty
// string decodes to the empty string.
std::optional<std::string> Base64Decode(std::string_view encoded);

}  // namespace common
