// The listeners of one protocol service on this node (POP3, IMAP4), opened and closed as the
// control plane asks (Start-Service, Stop-Service, Restart-Service), and the registry of its
// live sessions so that a stop ends them with the protocol's farewell line.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/listener.h"
#include "common/session_registry.h"
#include "common/status.h"
#include "common/stream.h"
#include "control.pb.h"

namespace common {

class ServiceListeners {
 public:
  struct Binding {
    std::string binding;  // "0.0.0.0:993", "127.0.0.1:0".
    bool implicit_tls = false;
  };
  // Runs one session to its end.
  using SessionFactory =
      std::function<asio::awaitable<void>(std::unique_ptr<Stream> stream, bool implicit_tls)>;

  // `name` ("pop3", "imap4") labels logs and port-file lines; `farewell` is the complete line
  // live sessions get when the service stops.
  ServiceListeners(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                   std::string name, std::string farewell, std::vector<Binding> bindings,
                   SessionFactory factory, std::function<void()> on_change);

  // Opens every binding (a binding with port 0 keeps the port it got the first time, so a
  // restarted service comes back where clients found it). Returns how many are open.
  size_t Open();
  // Closes the listeners and, with `end_sessions`, ends the live sessions politely.
  void Close(bool end_sessions);
  // New bindings (Set-ImapSettings -SSLBindings ...): a running service re-opens its listeners
  // on them; sessions already open go on. Nothing happens when they are the same.
  void SetBindings(std::vector<Binding> bindings);
  bool running() const;
  // The control plane's desired state: open, close, or close-and-open on a new restart
  // generation.
  void Apply(const mail::v1::ServiceState& desired);
  // "<name> plain|tls <port>" per open listener.
  std::vector<std::string> PortLines() const;
  // "<scheme>://<address>:<port>" per open listener; the scheme is `name` for STARTTLS
  // listeners and `name` + "s" for implicit TLS ("imaps", "pop3s").
  std::vector<std::string> Endpoints() const;
  SessionRegistry& sessions() { return *sessions_; }
  // PROXY protocol for the listeners opened from now on (see ProxyProtocolOptions).
  void SetProxyProtocol(std::shared_ptr<const ProxyProtocolOptions> options) {
    std::lock_guard<std::mutex> lock(mu_);
    proxy_ = std::move(options);
  }

 private:
  asio::io_context& io_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::string name_;
  std::string farewell_;
  std::vector<Binding> bindings_;     // As opened (port 0 replaced by the port it got).
  std::vector<Binding> configured_;  // As given.
  SessionFactory factory_;
  std::function<void()> on_change_;
  std::shared_ptr<SessionRegistry> sessions_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::shared_ptr<Listener>, bool>> listeners_;  // (listener, implicit TLS)
  std::shared_ptr<const ProxyProtocolOptions> proxy_;
  bool running_ = false;
  bool seen_generation_ = false;
  uint64_t restart_generation_ = 0;
};

}  // namespace common
