// A TCP listener for one binding ("0.0.0.0:993", "[::]:143", "127.0.0.1:0"). Every accepted
// connection becomes a Stream (TLS handshake first on implicit-TLS listeners is the session's
// job) handed to the protocol's session coroutine.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/asio.h"
#include "common/proxy_protocol.h"
#include "common/status.h"
#include "common/stream.h"

namespace common {

using SessionStarter = std::function<void(std::unique_ptr<common::Stream>)>;

// PROXY protocol (HAProxy's send-proxy / send-proxy-v2): connections from `trusted` networks
// must begin with a header, read before the session starts (so before the greeting and the
// connection limits); its source address becomes the connection's remote address. Connections
// from elsewhere are served as they come, and a header from them is not honoured.
struct ProxyProtocolOptions {
  TrustedNetworks trusted;
  std::chrono::milliseconds header_timeout{5000};  // Default: 5 s for the whole header.
  ProxyHeaderLimits limits;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, std::string binding, std::shared_ptr<asio::ssl::context> tls,
           SessionStarter start);
  // Binds and starts accepting. The port actually bound is port() (useful with port 0).
  common::Status Open();
  void Close();
  // Before Open(). nullptr (the default) or no trusted networks: no PROXY protocol.
  void SetProxyProtocol(std::shared_ptr<const ProxyProtocolOptions> options) {
    proxy_ = std::move(options);
  }
  int port() const { return port_; }
  const std::string& binding() const { return binding_; }

 private:
  asio::awaitable<void> AcceptLoop();
  // Reads the PROXY header of a connection from a trusted balancer, then starts the session;
  // a missing or bad header closes the connection (and says why in the log).
  static asio::awaitable<void> ReadProxyHeaderThenStart(std::shared_ptr<Listener> self,
                                                        std::unique_ptr<Stream> stream);
  asio::io_context& io_;
  std::string binding_;
  std::shared_ptr<asio::ssl::context> tls_;
  SessionStarter start_;
  std::shared_ptr<const ProxyProtocolOptions> proxy_;
  asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
};

// Options for `trusted_networks` (a node config's proxy_protocol_trusted_networks): nullptr
// when the list is empty, an error naming the first bad entry.
StatusOr<std::shared_ptr<const ProxyProtocolOptions>> MakeProxyProtocolOptions(
    const std::vector<std::string>& trusted_networks);

// "host:port" / "[v6]:port" -> endpoint.
common::StatusOr<asio::ip::tcp::endpoint> ParseBinding(const std::string& binding);

}  // namespace common
