#include "cas/autoconfig/client_settings.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/login_policy.h"
#include "common/transport_settings.h"

namespace cas::autoconfig {
namespace {

void SortAndDedupe(std::vector<ServerEndpoint>* list) {
  std::stable_sort(list->begin(), list->end(),
                   [](const ServerEndpoint& a, const ServerEndpoint& b) {
                     if (a.security != b.security) return a.security == Security::kImplicitTls;
                     return a.port < b.port;
                   });
  list->erase(std::unique(list->begin(), list->end()), list->end());
}

std::vector<ServerEndpoint> MailboxServers(const ServiceState& service, Protocol protocol) {
  std::vector<ServerEndpoint> out;
  if (!service.running || service.settings == nullptr) return out;
  // Clients are told to log in with a password; after TLS (implicit or STARTTLS) that must be
  // allowed by the LoginType. It always is today, but the rule lives in one place.
  bool password_after_tls = common::IsLoginAllowed(service.settings->login_type(), true,
                                                   common::LoginMechanism::kCleartext);
  if (!password_after_tls) return out;
  for (const OpenPort& p : service.open_ports) {
    if (p.port <= 0 || p.port > 65535) continue;
    out.push_back(
        {protocol, p.port, p.implicit_tls ? Security::kImplicitTls : Security::kStartTls});
  }
  SortAndDedupe(&out);
  return out;
}

std::vector<ServerEndpoint> SubmissionServers(const mail::v1::TransportSettings* transport) {
  std::vector<ServerEndpoint> out;
  if (transport == nullptr) return out;
  for (const mail::v1::ReceiveConnector& c : transport->receive_connectors()) {
    if (!c.enabled() || !common::OffersAuth(c)) continue;
    for (const std::string& b : c.bindings()) {
      int port = BindingPort(b);
      if (port == 0) continue;
      out.push_back(
          {Protocol::kSmtp, port, c.implicit_tls() ? Security::kImplicitTls : Security::kStartTls});
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
  out.imap4 = MailboxServers(snapshot.imap4, Protocol::kImap4);
  out.pop3 = MailboxServers(snapshot.pop3, Protocol::kPop3);
  out.smtp = SubmissionServers(snapshot.transport.get());
  return out;
}

}  // namespace cas::autoconfig
