// What a mail client should be told, worked out from the live state: the effective POP3/IMAP4
// settings, which services run and which of their listeners are open, and the organisation's
// SMTP receive connectors. casd's autoconfig documents compute it for their node, adminctl
// (Get-CASMailbox -ProtocolSettings, Get-ClientAccessDnsRecords) for what the control plane
// reports, so that both always tell clients the same. Pure: no I/O.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "control.pb.h"
#include "settings.pb.h"

namespace common {

// One listener of a casd service that is open right now.
struct OpenPort {
  int port = 0;
  bool implicit_tls = false;  // 993/995; otherwise plain with STARTTLS/STLS.
};

struct ClientServiceState {
  bool running = false;
  // The settings new connections get (SettingsHolder::Get()); null: offer nothing.
  std::shared_ptr<const mail::v1::ProtocolSettings> settings;
  std::vector<OpenPort> open_ports;
};

// Everything the documents are computed from, taken afresh for every request.
struct NodeSnapshot {
  std::string host_name;  // What clients connect to: public_host_name, else host_name.
  ClientServiceState imap4;
  ClientServiceState pop3;
  // TransportWithDefaults() of the store's transport settings; null until the store has sent
  // them (then no SMTP server is offered).
  std::shared_ptr<const mail::v1::TransportSettings> transport;
};

enum class ClientProtocol { kImap4, kPop3, kSmtp };
enum class ClientSecurity {
  kImplicitTls,  // TLS from the first byte (993, 995, 465).
  kStartTls,     // Plain connect, then STARTTLS/STLS before logging in (143, 110, 587).
};

struct ServerEndpoint {
  ClientProtocol protocol = ClientProtocol::kImap4;
  int port = 0;
  ClientSecurity security = ClientSecurity::kImplicitTls;
  bool operator==(const ServerEndpoint&) const = default;
};

// The servers to offer, best first within each protocol (implicit TLS before STARTTLS, then by
// port). Only what works now:
//  - IMAP4/POP3: the service runs on this node and the listener is open; a plain listener is
//    offered as STARTTLS, and only when the LoginType lets a password log in after STARTTLS.
//    Cleartext ports without TLS are never offered.
//  - SMTP: enabled receive connectors that offer AUTH, at the ports of their bindings;
//    ImplicitTls connectors as implicit TLS, the others as STARTTLS (transportd offers
//    STARTTLS on every connector).
struct ClientSettings {
  std::string host_name;
  std::vector<ServerEndpoint> imap4;
  std::vector<ServerEndpoint> pop3;
  std::vector<ServerEndpoint> smtp;
  bool has_incoming() const { return !imap4.empty() || !pop3.empty(); }
};

ClientSettings ComputeClientSettings(const NodeSnapshot& snapshot);

// The port of a binding ("0.0.0.0:587", "[::]:465"); 0 when there is none or it is 0.
int BindingPort(const std::string& binding);

// Parses ServiceListeners::PortLines() ("imap4 tls 993") into open ports.
std::vector<OpenPort> OpenPortsFromPortLines(const std::vector<std::string>& lines);

// The organisation as the control plane reports it (Settings.GetSettings and
// Control.GetServices): a service counts as running when it runs on some node, its open ports
// are those of every node where it runs (ServiceState.endpoints, "imaps://0.0.0.0:993"), and
// an SMTP receive connector is offered only at the ports where a running transportd listens
// for it ("smtp://[::]:587 Client Frontend"). The host name is the first node's that reports
// one (casd's public_host_name), else that node's name.
NodeSnapshot SnapshotFromControlPlane(const mail::v1::ServerSettings& settings,
                                      const mail::v1::GetServicesResponse& services);

}  // namespace common
