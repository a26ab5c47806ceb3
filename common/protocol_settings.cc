#include "common/protocol_settings.h"

namespace common {

mail::v1::ProtocolSettings WithDefaults(const mail::v1::ProtocolSettings& in, SettingsKind protocol) {
  mail::v1::ProtocolSettings s = in;
  bool pop = protocol == SettingsKind::kPop3;
  if (s.unencrypted_or_tls_bindings().empty()) {
    s.add_unencrypted_or_tls_bindings(pop ? "[::]:110" : "[::]:143");
    s.add_unencrypted_or_tls_bindings(pop ? "0.0.0.0:110" : "0.0.0.0:143");
  }
  if (s.ssl_bindings().empty()) {
    s.add_ssl_bindings(pop ? "[::]:995" : "[::]:993");
    s.add_ssl_bindings(pop ? "0.0.0.0:995" : "0.0.0.0:993");
  }
  if (s.banner().empty()) {
    s.set_banner(pop ? "The POP3 service is ready." : "The IMAP4 service is ready.");
  }
  if (s.max_connections() == 0) s.set_max_connections(2147483647);
  if (s.max_connection_from_single_ip() == 0) s.set_max_connection_from_single_ip(2147483647);
  if (s.max_connections_per_user() == 0) s.set_max_connections_per_user(16);
  if (s.max_command_size() == 0) s.set_max_command_size(pop ? 512 : 10240);
  if (s.pre_authenticated_connection_timeout_seconds() == 0) {
    s.set_pre_authenticated_connection_timeout_seconds(60);
  }
  if (s.authenticated_connection_timeout_seconds() == 0) {
    s.set_authenticated_connection_timeout_seconds(1800);
  }
  if (s.max_message_size() == 0) s.set_max_message_size(36ull << 20);
  if (s.login_type() == mail::v1::LOGIN_TYPE_UNSPECIFIED) {
    s.set_login_type(mail::v1::LOGIN_TYPE_SECURE_LOGIN);
  }
  if (!s.has_protocol_log_enabled()) s.set_protocol_log_enabled(false);
  return s;
}

common::Status Validate(const mail::v1::ProtocolSettings& s, SettingsKind protocol) {
  bool pop = protocol == SettingsKind::kPop3;
  uint32_t lo = pop ? 40 : 1024, hi = pop ? 1024 : 16384;
  if (s.max_command_size() < lo || s.max_command_size() > hi) {
    return common::InvalidArgumentError("MaxCommandSize must be between " + std::to_string(lo) +
                                        " and " + std::to_string(hi));
  }
  if (s.pre_authenticated_connection_timeout_seconds() < 30 ||
      s.pre_authenticated_connection_timeout_seconds() > 3600) {
    return common::InvalidArgumentError(
        "PreAuthenticatedConnectionTimeout must be between 00:00:30 and 01:00:00");
  }
  // RFC 1939 asks POP3 servers not to log out idle clients in under 10 minutes.
  uint32_t min_auth = pop ? 600 : 30;
  if (s.authenticated_connection_timeout_seconds() < min_auth ||
      s.authenticated_connection_timeout_seconds() > 86400) {
    return common::InvalidArgumentError("AuthenticatedConnectionTimeout must be between " +
                                        std::to_string(min_auth) + " s and 24 h");
  }
  return common::Status::Ok();
}

}  // namespace common
