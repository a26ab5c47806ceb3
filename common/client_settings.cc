#include "common/client_settings.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/login_policy.h"
#include "common/transport_settings.h"

namespace common {
namespace {

void SortAndDedupe(std::vector<ServerEndpoint>* list) {
  std::stable_sort(list->begin(), list->end(),
                   [](const ServerEndpoint& a, const ServerEndpoint& b) {
                     if (a.security != b.security) {
                       return a.security == ClientSecurity::kImplicitTls;
                     }
                     return a.port < b.port;
                   });
  list->erase(std::unique(list->begin(), list->end()), list->end());
}

std::vector<ServerEndpoint> MailboxServers(const ClientServiceState& service,
                                           ClientProtocol protocol) {
  std::vector<ServerEndpoint> out;
  if (!service.running || service.settings == nullptr) return out;
  // Clients are told to log in with a password; after TLS (implicit or STARTTLS) that must be
  // allowed by the LoginType. It always is today, but the rule lives in one place.
  bool password_after_tls =
      IsLoginAllowed(service.settings->login_type(), true, LoginMechanism::kCleartext);
  if (!password_after_tls) return out;
  for (const OpenPort& p : service.open_ports) {
    if (p.port <= 0 || p.port > 65535) continue;
    out.push_back({protocol, p.port,
                   p.implicit_tls ? ClientSecurity::kImplicitTls : ClientSecurity::kStartTls});
  }
  SortAndDedupe(&out);
  return out;
}

std::vector<ServerEndpoint> SubmissionServers(const mail::v1::TransportSettings* transport) {
  std::vector<ServerEndpoint> out;
  if (transport == nullptr) return out;
  for (const mail::v1::ReceiveConnector& c : transport->receive_connectors()) {
    if (!c.enabled() || !OffersAuth(c)) continue;
    for (const std::string& b : c.bindings()) {
      int port = BindingPort(b);
      if (port == 0) continue;
      out.push_back({ClientProtocol::kSmtp, port,
                     c.implicit_tls() ? ClientSecurity::kImplicitTls : ClientSecurity::kStartTls});
    }
  }
  SortAndDedupe(&out);
  return out;
}

}  // namespace

int BindingPort(const std::string& binding) {
  size_t colon = binding.rfind(':');
  if (colon == std::string::npos || colon + 1 >= binding.size()) return 0;
  std::string digits = binding.substr(colon + 1);
  if (digits.size() > 5) return 0;
  int port = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
    port = port * 10 + (c - '0');
  }
  return port <= 65535 ? port : 0;
}

std::vector<OpenPort> OpenPortsFromPortLines(const std::vector<std::string>& lines) {
  std::vector<OpenPort> out;
  for (const std::string& line : lines) {
    std::istringstream in(line);
    std::string name, mode;
    int port = 0;
    if (!(in >> name >> mode >> port) || port <= 0 || port > 65535) continue;
    if (mode != "tls" && mode != "plain") continue;
    out.push_back({port, mode == "tls"});
  }
  return out;
}

ClientSettings ComputeClientSettings(const NodeSnapshot& snapshot) {
  ClientSettings out;
  out.host_name = snapshot.host_name;
  out.imap4 = MailboxServers(snapshot.imap4, ClientProtocol::kImap4);
  out.pop3 = MailboxServers(snapshot.pop3, ClientProtocol::kPop3);
  out.smtp = SubmissionServers(snapshot.transport.get());
  return out;
}

namespace {

// "imaps://0.0.0.0:993" -> {scheme "imaps", port 993, rest ""};
// "smtp://[::]:587 Client Frontend" -> {"smtp", 587, "Client Frontend"}.
struct ReportedEndpoint {
  std::string scheme;
  int port = 0;
  std::string rest;
};

ReportedEndpoint ParseReportedEndpoint(const std::string& text) {
  ReportedEndpoint out;
  size_t sep = text.find("://");
  if (sep == std::string::npos) return out;
  out.scheme = text.substr(0, sep);
  std::string address = text.substr(sep + 3);
  size_t space = address.find(' ');
  if (space != std::string::npos) {
    out.rest = address.substr(space + 1);
    address.resize(space);
  }
  out.port = BindingPort(address);
  return out;
}

}  // namespace

NodeSnapshot SnapshotFromControlPlane(const mail::v1::ServerSettings& settings,
                                      const mail::v1::GetServicesResponse& services) {
  NodeSnapshot out;
  for (const mail::v1::Node& node : services.nodes()) {
    bool hosts_mail = false;
    for (int s : node.services()) {
      hosts_mail =
          hosts_mail || s == mail::v1::SERVICE_NAME_IMAP4 || s == mail::v1::SERVICE_NAME_POP3;
    }
    if (!hosts_mail) continue;
    if (!node.host_name().empty()) {
      out.host_name = node.host_name();
      break;
    }
    if (out.host_name.empty()) out.host_name = node.name();
  }
  out.imap4.settings = std::make_shared<const mail::v1::ProtocolSettings>(settings.imap4());
  out.pop3.settings = std::make_shared<const mail::v1::ProtocolSettings>(settings.pop3());
  // Connector name (lower case) -> the "host:port" where a running transportd serves it.
  std::vector<std::pair<std::string, std::string>> smtp_listening;
  for (const mail::v1::ServiceState& s : services.services()) {
    if (s.status() != mail::v1::SERVICE_STATUS_RUNNING) continue;
    ClientServiceState* state = s.service() == mail::v1::SERVICE_NAME_IMAP4  ? &out.imap4
                                : s.service() == mail::v1::SERVICE_NAME_POP3 ? &out.pop3
                                                                             : nullptr;
    if (state != nullptr) state->running = true;
    for (const std::string& e : s.endpoints()) {
      ReportedEndpoint r = ParseReportedEndpoint(e);
      if (r.port == 0) continue;
      if (state != nullptr) {
        state->open_ports.push_back({r.port, r.scheme.ends_with("s")});
      } else if (s.service() == mail::v1::SERVICE_NAME_SMTP && !r.rest.empty()) {
        std::string name = r.rest;
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        smtp_listening.emplace_back(name, "0.0.0.0:" + std::to_string(r.port));
      }
    }
  }
  mail::v1::TransportSettings transport = TransportWithDefaults(settings.transport());
  for (mail::v1::ReceiveConnector& c : *transport.mutable_receive_connectors()) {
    std::string name = c.name();
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    c.clear_bindings();
    for (const auto& [connector, binding] : smtp_listening) {
      if (connector == name) c.add_bindings(binding);
    }
  }
  out.transport = std::make_shared<const mail::v1::TransportSettings>(std::move(transport));
  return out;
}

}  // namespace common
