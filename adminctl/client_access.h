// What mail clients are offered, as adminctl computes it from the live control plane: the
// store's effective settings (Settings.GetSettings) and what every node reports it runs and
// where it listens (Control.GetServices), through the same code as casd's autoconfig
// documents (common/client_settings.h). Used by Get-CASMailbox -ProtocolSettings and
// Get-ClientAccessDnsRecords.
#pragma once

#include <string>

#include "adminctl/cmdlet.h"
#include "common/client_settings.h"
#include "settings.pb.h"

namespace adminctl {

struct ClientAccess {
  common::ClientSettings servers;
  mail::v1::ServerSettings settings;  // As the store reported them.
};

CmdletStatus GetClientAccess(CmdletContext& context, ClientAccess* out);

// Exchange's connection-setting forms: "SSL" (implicit TLS) or "TLS" (STARTTLS), and how mail
// clients label them: "SSL/TLS" or "STARTTLS".
std::string ExchangeEncryption(common::ClientSecurity security);
std::string ClientEncryption(common::ClientSecurity security);
// "IMAP4", "POP3", "SMTP".
std::string ProtocolName(common::ClientProtocol protocol);

}  // namespace adminctl
