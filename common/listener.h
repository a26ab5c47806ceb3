// A TCP listener for one binding ("0.0.0.0:993", "[::]:143", "127.0.0.1:0"). Every accepted
// connection becomes a Stream (TLS handshake first on implicit-TLS listeners is the session's
// job) handed to the protocol's session coroutine.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/status.h"
#include "common/stream.h"

namespace common {

using SessionStarter = std::function<void(std::unique_ptr<common::Stream>)>;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, std::string binding, std::shared_ptr<asio::ssl::context> tls,
           SessionStarter start);
  // Binds and starts accepting. The port actually bound is port() (useful with port 0).
  common::Status Open();
  void Close();
  int port() const { return port_; }
  const std::string& binding() const { return binding_; }

 private:
  asio::awaitable<void> AcceptLoop();
  asio::io_context& io_;
  std::string binding_;
  std::shared_ptr<asio::ssl::context> tls_;
  SessionStarter start_;
  asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
};

// "host:port" / "[v6]:port" -> endpoint.
common::StatusOr<asio::ip::tcp::endpoint> ParseBinding(const std::string& binding);

}  // namespace common
