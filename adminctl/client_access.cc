#include "adminctl/client_access.h"

namespace adminctl {

CmdletStatus GetClientAccess(CmdletContext& context, ClientAccess* out) {
  if (context.settings == nullptr || context.control == nullptr) {
    return CmdletStatus::Error("Internal error: no connection to the settings service.");
  }
  {
    auto client = NewClientContext(context);
    grpc::Status status =
        context.settings->GetSettings(client.get(), mail::v1::GetSettingsRequest(), &out->settings);
    if (!status.ok()) return StatusFromGrpc(status, "settings", context);
  }
  mail::v1::GetServicesResponse services;
  {
    auto client = NewClientContext(context);
    grpc::Status status =
        context.control->GetServices(client.get(), mail::v1::GetServicesRequest(), &services);
    if (!status.ok()) return StatusFromGrpc(status, "services", context);
  }
  out->servers =
      common::ComputeClientSettings(common::SnapshotFromControlPlane(out->settings, services));
  return CmdletStatus::Ok();
}

std::string ExchangeEncryption(common::ClientSecurity security) {
  return security == common::ClientSecurity::kImplicitTls ? "SSL" : "TLS";
}

std::string ClientEncryption(common::ClientSecurity security) {
  return security == common::ClientSecurity::kImplicitTls ? "SSL/TLS" : "STARTTLS";
}

std::string ProtocolName(common::ClientProtocol protocol) {
  switch (protocol) {
    case common::ClientProtocol::kImap4:
      return "IMAP4";
    case common::ClientProtocol::kPop3:
      return "POP3";
    case common::ClientProtocol::kSmtp:
      return "SMTP";
  }
  return "";
}

}  // namespace adminctl
