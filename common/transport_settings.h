// Receive connectors and transport settings with Exchange's defaults filled in (Get-
// ReceiveConnector, Get-SendConnector, Get-TransportService), shared by mailboxstored (which
// stores them) and transportd (which runs them).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "settings.pb.h"

namespace common {

inline constexpr uint64_t kDefaultMaxMessageSize = 36ull << 20;  // 36 MB, as Exchange.
inline constexpr uint32_t kDefaultMessageExpirationSeconds = 2 * 24 * 3600;

// The three connectors every installation starts with: "Client Frontend" (587, STARTTLS, AUTH
// after TLS, authenticated relay), "Client TLS" (465, implicit TLS, otherwise the same) and
// "Default Frontend" (25, anonymous, STARTTLS offered, local recipients only).
std::vector<mail::v1::ReceiveConnector> DefaultReceiveConnectors();

// Fills unset limits of one connector (MaxMessageSize 36 MB, MaxRecipientsPerMessage 200,
// MaxInboundConnection 5000, MaxInboundConnectionPerSource 20, ConnectionTimeout 10 min).
mail::v1::ReceiveConnector ConnectorWithDefaults(const mail::v1::ReceiveConnector& in);

// The connectors in force and every other unset field defaulted.
mail::v1::TransportSettings TransportWithDefaults(const mail::v1::TransportSettings& in);

// Bindings parse, limits are in range, a name is given, and implicit TLS does not combine with
// STARTTLS-only requirements that cannot be met.
common::Status ValidateConnector(const mail::v1::ReceiveConnector& c);

// True when the connector allows AUTH before TLS (AuthMechanism BasicAuth without
// BasicAuthRequireTLS).
bool AuthAllowedWithoutTls(const mail::v1::ReceiveConnector& c);
// True when the connector offers AUTH at all (BasicAuth or BasicAuthRequireTLS).
bool OffersAuth(const mail::v1::ReceiveConnector& c);

// "Client Frontend" == "client frontend".
bool SameConnectorName(std::string_view a, std::string_view b);

}  // namespace common
