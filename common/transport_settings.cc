#include "common/transport_settings.h"

#include <algorithm>
#include <cctype>

namespace common {

namespace {

mail::v1::ReceiveConnector Client(const std::string& name, const std::string& port, bool tls) {
  mail::v1::ReceiveConnector c;
  c.set_name(name);
  c.add_bindings("[::]:" + port);
  c.add_bindings("0.0.0.0:" + port);
  c.set_implicit_tls(tls);
  c.add_auth_mechanism(mail::v1::AUTH_MECHANISM_TLS);
  c.add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH);
  c.add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS);
  c.set_require_auth(true);
  c.set_allow_relay_authenticated(true);
  c.set_enabled(true);
  return ConnectorWithDefaults(c);
}

}  // namespace

std::vector<mail::v1::ReceiveConnector> DefaultReceiveConnectors() {
  std::vector<mail::v1::ReceiveConnector> out;
  out.push_back(Client("Client Frontend", "587", false));
  out.push_back(Client("Client TLS", "465", true));
  mail::v1::ReceiveConnector inbound;
  inbound.set_name("Default Frontend");
  inbound.add_bindings("[::]:25");
  inbound.add_bindings("0.0.0.0:25");
  inbound.add_auth_mechanism(mail::v1::AUTH_MECHANISM_TLS);
  inbound.set_enabled(true);
  out.push_back(ConnectorWithDefaults(inbound));
  return out;
}

mail::v1::ReceiveConnector ConnectorWithDefaults(const mail::v1::ReceiveConnector& in) {
  mail::v1::ReceiveConnector c = in;
  if (c.max_message_size() == 0) c.set_max_message_size(kDefaultMaxMessageSize);
  if (c.max_recipients_per_message() == 0) c.set_max_recipients_per_message(200);
  if (c.max_inbound_connection() == 0) c.set_max_inbound_connection(5000);
  if (c.max_inbound_connection_per_source() == 0) c.set_max_inbound_connection_per_source(20);
  if (c.connection_timeout_seconds() == 0) c.set_connection_timeout_seconds(600);
  if (c.banner().empty()) c.set_banner("ESMTP service ready");
  return c;
}

mail::v1::TransportSettings TransportWithDefaults(const mail::v1::TransportSettings& in) {
  mail::v1::TransportSettings s = in;
  if (!s.receive_connectors_customized()) {
    s.clear_receive_connectors();
    for (auto& c : DefaultReceiveConnectors()) *s.add_receive_connectors() = std::move(c);
  } else {
    for (auto& c : *s.mutable_receive_connectors()) c = ConnectorWithDefaults(c);
  }
  if (s.message_expiration_seconds() == 0) {
    s.set_message_expiration_seconds(kDefaultMessageExpirationSeconds);
  }
  for (auto& h : *s.mutable_smart_hosts()) {
    if (h.port() == 0) h.set_port(25);
  }
  return s;
}

common::Status ValidateConnector(const mail::v1::ReceiveConnector& c) {
  if (c.name().empty()) return common::InvalidArgumentError("a receive connector needs a Name");
  if (c.name().size() > 64) return common::InvalidArgumentError("Name is longer than 64 characters");
  for (const std::string& b : c.bindings()) {
    size_t colon = b.rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < b.size();
    if (ok) {
      for (size_t i = colon + 1; i < b.size(); ++i) ok = ok && std::isdigit(static_cast<unsigned char>(b[i]));
      ok = ok && b.size() - colon - 1 <= 5 && std::stoul(b.substr(colon + 1)) <= 65535;
    }
    if (!ok) return common::InvalidArgumentError("Bindings: '" + b + "' is not address:port");
  }
  if (c.max_message_size() < 65536 || c.max_message_size() > (2ull << 30)) {
    return common::InvalidArgumentError("MaxMessageSize must be between 64 KB and 2 GB");
  }
  if (c.max_recipients_per_message() > 512000) {
    return common::InvalidArgumentError("MaxRecipientsPerMessage must be between 1 and 512000");
  }
  if (c.connection_timeout_seconds() < 1 || c.connection_timeout_seconds() > 86400) {
    return common::InvalidArgumentError("ConnectionTimeout must be between 00:00:01 and 1.00:00:00");
  }
  return common::Status::Ok();
}

bool AuthAllowedWithoutTls(const mail::v1::ReceiveConnector& c) {
  bool basic = false, require_tls = false;
  for (int m : c.auth_mechanism()) {
    basic = basic || m == mail::v1::AUTH_MECHANISM_BASIC_AUTH;
    require_tls = require_tls || m == mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS;
  }
  return basic && !require_tls;
}

bool OffersAuth(const mail::v1::ReceiveConnector& c) {
  for (int m : c.auth_mechanism()) {
    if (m == mail::v1::AUTH_MECHANISM_BASIC_AUTH ||
        m == mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS) {
      return true;
    }
  }
  return false;
}

bool SameConnectorName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace common
