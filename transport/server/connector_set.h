// The receive connectors running on this node: one ConnectorState and its listeners per
// connector. Apply() takes the organisation's connectors (Get-ReceiveConnector) as they change
// and opens, re-opens or closes listeners to match, with no restart; sessions already open
// keep the settings they started with.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/listener.h"
#include "common/session_registry.h"
#include "control.pb.h"
#include "settings.pb.h"
#include "transport/server/smtp_session.h"

namespace transport {

class ConnectorSet {
 public:
  // `node_bindings`: connectors named here listen on these bindings on this node.
  ConnectorSet(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
               SmtpServices* services, std::vector<mail::v1::ReceiveConnector> node_bindings,
               std::string port_file);
  // Thread-safe. Returns the number of listeners open afterwards (0 while the SMTP service
  // is stopped: the settings are kept for Start-Service).
  size_t Apply(const mail::v1::TransportSettings& effective);
  void CloseAll();
  // Start-/Stop-/Restart-Service SMTP from the control plane.
  void ApplyService(const mail::v1::ServiceState& desired);
  bool running() const;
  // "smtps://127.0.0.1:465 Client TLS", "smtp://[::]:25 Default Frontend" per open listener.
  std::vector<std::string> Endpoints() const;
  // PROXY protocol for the listeners opened from now on (see common::ProxyProtocolOptions).
  void SetProxyProtocol(std::shared_ptr<const common::ProxyProtocolOptions> options) {
    std::lock_guard<std::mutex> lock(mu_);
    proxy_ = std::move(options);
  }

 private:
  struct Running {
    std::string name;
    std::vector<std::string> bindings;
    std::shared_ptr<ConnectorState> state;
    std::vector<std::shared_ptr<common::Listener>> listeners;
  };
  std::vector<std::string> BindingsFor(const mail::v1::ReceiveConnector& c) const;
  size_t ApplyLocked(const mail::v1::TransportSettings& effective);
  void CloseAllLocked(bool end_sessions);
  void WritePortFile();

  asio::io_context& io_;
  std::shared_ptr<asio::ssl::context> tls_;
  SmtpServices* services_;
  std::vector<mail::v1::ReceiveConnector> node_bindings_;
  std::string port_file_;
  mutable std::mutex mu_;
  std::vector<Running> running_;
  std::shared_ptr<common::SessionRegistry> sessions_ = std::make_shared<common::SessionRegistry>();
  mail::v1::TransportSettings last_;
  std::shared_ptr<const common::ProxyProtocolOptions> proxy_;
  bool service_wanted_ = true;
  bool seen_generation_ = false;
  uint64_t restart_generation_ = 0;
  // Bindings configured with port 0 keep the port they got first, across stop and start.
  std::map<std::string, int> zero_ports_;
};

}  // namespace transport
