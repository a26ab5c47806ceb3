// What a mail client should be told about this node, worked out from the live state: the
// effective POP3/IMAP4 settings, which services run here and which of their listeners are
// open, and the organisation's SMTP receive connectors. Pure: no I/O, so every document can be
// tested from a snapshot.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "settings.pb.h"

namespace cas::autoconfig {

// One listener of a casd service that is open right now.
struct OpenPort {
  int port = 0;
  bool implicit_tls = false;  // 993/995; otherwise plain with STARTTLS/STLS.
};

struct ServiceState {
  bool running = false;
  // The settings new connections get (SettingsHolder::Get()); null: offer nothing.
  std::shared_ptr<const mail::v1::ProtocolSettings> settings;
  std::vector<OpenPort> open_ports;
};

// Everything the documents are computed from, taken afresh for every request.
struct NodeSnapshot {
  std::string host_name;  // What clients connect to: public_host_name, else host_name.
  ServiceState imap4;
  ServiceState pop3;
  // TransportWithDefaults() of the store's transport settings; null until the store has sent
  // them (then no SMTP server is offered).
  std::shared_ptr<const mail::v1::TransportSettings> transport;
};

enum class Protocol { kImap4, kPop3, kSmtp };
enum class Security {
  kImplicitTls,  // TLS from the first byte (993, 995, 465).
  kStartTls,     // Plain connect, then STARTTLS/STLS before logging in (143, 110, 587).
};

struct ServerEndpoint {
  Protocol protocol = Protocol::kImap4;
  int port = 0;
  Security security = Security::kImplicitTls;
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

}  // namespace cas::autoconfig
