#include "common/sasl_plain.h"

namespace common {

std::optional<SaslPlain> ParseSaslPlain(std::string_view message) {
  size_t a = message.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = message.find('\0', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  SaslPlain out;
  out.authzid = std::string(message.substr(0, a));
  out.authcid = std::string(message.substr(a + 1, b - a - 1));
  out.password = std::string(message.substr(b + 1));
  return out;
}

}  // namespace common
