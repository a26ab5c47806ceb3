// The receive connectors running on this node: one ConnectorState and its listeners per
// connector. Apply() takes the organisation's connectors (Get-ReceiveConnector) as they change
// and opens, re-opens or closes listeners to match, with no restart; sessions already open
// keep the settings they started with.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/listener.h"
#include "settings.pb.h"
#include "transport/server/smtp_session.h"

namespace transport {

class ConnectorSet {
 public:
  // `node_bindings`: connectors named here listen on these bindings on this node.
  ConnectorSet(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
               SmtpServices* services, std::vector<mail::v1::ReceiveConnector> node_bindings,
               std::string port_file);
  // Thread-safe. Returns the number of listeners open afterwards.
  size_t Apply(const mail::v1::TransportSettings& effective);
  void CloseAll();

 private:
  struct Running {
    std::string name;
    std::vector<std::string> bindings;
    std::shared_ptr<ConnectorState> state;
    std::vector<std::shared_ptr<common::Listener>> listeners;
  };
  std::vector<std::string> BindingsFor(const mail::v1::ReceiveConnector& c) const;
  void WritePortFile();

  asio::io_context& io_;
  std::shared_ptr<asio::ssl::context> tls_;
  SmtpServices* services_;
  std::vector<mail::v1::ReceiveConnector> node_bindings_;
  std::string port_file_;
  std::mutex mu_;
  std::vector<Running> running_;
};

}  // namespace transport
