#include "common/listener.h"

#include "common/logging.h"

namespace common {

common::StatusOr<asio::ip::tcp::endpoint> ParseBinding(const std::string& binding) {
  size_t colon = binding.rfind(':');
  if (colon == std::string::npos || colon + 1 >= binding.size()) {
    return common::InvalidArgumentError("binding must be address:port: " + binding);
  }
  std::string host = binding.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : binding.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) {
      return common::InvalidArgumentError("bad port in binding " + binding);
    }
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return common::InvalidArgumentError("bad port in binding " + binding);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return common::InvalidArgumentError("bad address in binding " + binding);
  return asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(port));
}

Listener::Listener(asio::io_context& io, std::string binding,
                   std::shared_ptr<asio::ssl::context> tls, SessionStarter start)
    : io_(io), binding_(std::move(binding)), tls_(std::move(tls)), start_(std::move(start)),
      acceptor_(io) {}

common::Status Listener::Open() {
  MAIL_ASSIGN_OR_RETURN(auto ep, ParseBinding(binding_));
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec && ep.address().is_v6()) acceptor_.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close(ec);
    return common::UnavailableError("cannot listen on " + binding_ + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  asio::co_spawn(io_, [self = shared_from_this()] { return self->AcceptLoop(); }, asio::detached);
  return common::Status::Ok();
}

void Listener::Close() {
  boost::system::error_code ec;
  acceptor_.cancel(ec);
  acceptor_.close(ec);
}

asio::awaitable<void> Listener::AcceptLoop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    asio::ip::tcp::socket sock(io_);
    co_await acceptor_.async_accept(sock, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
      // Out of descriptors and the like: wait a little instead of spinning.
      MAIL_LOG(kWarning, "listener") << binding_ << ": accept failed: " << ec.message();
      asio::steady_timer t(io_, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    start_(std::make_unique<common::Stream>(std::move(sock), tls_));
  }
}

}  // namespace common
